"""Diagnostics as `file:line:col: severity: message [id]`, one per line."""

from __future__ import annotations

from typing import Iterable, TextIO


def line(d: object) -> str:
    span, severity, message, id, hint = (getattr(d, k) for k in ("span", "severity", "message", "id", "hint"))
    text = f"{span}: {severity.value}: {message}"
    if hint:
        text += f"; {hint}"
    return f"{text} [{id}]"


def emit(diagnostics: Iterable[object], stream: TextIO) -> None:
    for d in diagnostics:
        print(line(d), file=stream)


Findings = list  # [(spec, valid, [Diagnostic])]


def to_plain(findings: Findings) -> str:
    lines = [line(d) for _, _, found in findings for d in found]
    errors = sum(d.severity.value == "error" for _, _, found in findings for d in found)
    warnings = sum(d.severity.value == "warning" for _, _, found in findings for d in found)
    lines.append(f"{len(findings)} spec(s) checked: {errors} error(s), {warnings} warning(s)")
    return "\n".join(lines) + "\n"


def to_json(findings: Findings) -> str:
    import json

    records = [
        {"file": d.span.file, "line": d.span.line, "col": d.span.col, "severity": d.severity.value, "id": d.id,
         "message": d.message, "hint": d.hint}
        for _, _, found in findings for d in found
    ]
    return json.dumps({"specs": [spec for spec, _, _ in findings], "diagnostics": records}, indent=2) + "\n"


def to_github(findings: Findings) -> str:
    """GitHub Actions workflow commands: an annotation on the line of each finding."""
    def escape(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    lines = []
    for _, _, found in findings:
        for d in found:
            message = escape(d.message + (f" ({d.hint})" if d.hint else "") + f" [{d.id}]")
            lines.append(f"::{d.severity.value} file={d.span.file},line={d.span.line},col={d.span.col},"
                         f"title={d.id}::{message}")
    return "\n".join(lines) + ("\n" if lines else "")


def to_sarif(findings: Findings) -> str:
    """SARIF 2.1.0, for code scanning: the rules with their documentation, one result per
    finding with its file, line and column."""
    import json
    from pathlib import Path

    from netcalc import __version__
    from netcalc.core.checks import RULES

    def uri(file: str) -> str:
        path = Path(file)
        return path.as_uri() if path.is_absolute() else path.as_posix()

    rules = [
        {"id": rule_id, "shortDescription": {"text": module.__doc__.split("\n\n")[0].split(": ", 1)[1].replace("\n", " ")},
         "fullDescription": {"text": module.__doc__.strip()}, "defaultConfiguration": {"level": module.SEVERITY}}
        for rule_id, module in RULES.items()
    ]
    results = [
        {"ruleId": d.id, "level": d.severity.value,
         "message": {"text": d.message + (f" ({d.hint})" if d.hint else "")},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(d.span.file)},
                                             "region": {"startLine": d.span.line, "startColumn": d.span.col}}}]}
        for _, _, found in findings for d in found
    ]
    log = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "netcalc", "version": __version__, "rules": rules}},
                     "results": results}]}
    return json.dumps(log, indent=2) + "\n"


CHECK_FORMATS = {"plain": to_plain, "json": to_json, "github": to_github, "sarif": to_sarif}


def outcome(findings: Findings, strict: bool) -> int:
    """2 if a spec is invalid, 1 for an error (or, strict, a warning), else 0."""
    from .. import exit_codes

    if not all(valid for _, valid, _ in findings):
        return exit_codes.USAGE_OR_INVALID
    severities = {d.severity.value for _, _, found in findings for d in found}
    if "error" in severities or (strict and "warning" in severities):
        return exit_codes.FINDINGS
    return exit_codes.OK
