"""Diagnostics as `file:line:col: severity: message [id]`, one per line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO


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


def summary(findings: Findings) -> str:
    errors = sum(d.severity.value == "error" for _, _, found in findings for d in found)
    warnings = sum(d.severity.value == "warning" for _, _, found in findings for d in found)
    return f"{len(findings)} spec(s) checked: {errors} error(s), {warnings} warning(s)"


def to_plain(findings: Findings) -> str:
    return "\n".join([line(d) for _, _, found in findings for d in found] + [summary(findings)]) + "\n"


def to_json(findings: Findings) -> str:
    import json

    records = [
        {"file": d.span.file, "line": d.span.line, "col": d.span.col, "severity": d.severity.value, "id": d.id,
         "message": d.message, "hint": d.hint}
        for _, _, found in findings for d in found
    ]
    return json.dumps({"specs": [spec for spec, _, _ in findings], "diagnostics": records}, indent=2) + "\n"


def escape_data(text: str) -> str:
    """A workflow command's message (GitHub's escapeData)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value, like `file=` (GitHub's escapeProperty): `:` and
    `,` would end the value."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def to_github(findings: Findings) -> str:
    """GitHub Actions workflow commands: an annotation on the line of each finding."""
    lines = []
    for _, _, found in findings:
        for d in found:
            message = escape_data(d.message + (f" ({d.hint})" if d.hint else "") + f" [{d.id}]")
            lines.append(f"::{d.severity.value} file={escape_property(d.span.file)},line={d.span.line},"
                         f"col={d.span.col},title={escape_property(d.id)}::{message}")
    return "\n".join(lines) + ("\n" if lines else "")


def artifact_uri(file: str) -> str:
    """A SARIF artifactLocation.uri: a percent-encoded URI reference, relative paths kept
    relative (to the folder the scan ran in)."""
    from pathlib import Path
    from urllib.parse import quote

    path = Path(file)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


def to_sarif(findings: Findings) -> str:
    """SARIF 2.1.0, for code scanning: the rules with their documentation, one result per
    finding with its file, line and column."""
    import json

    from netcalc import __version__
    from netcalc.core.ids import IDS

    # every id, so that each result's ruleId is described (a spec error is a finding too)
    rules = [
        {"id": known.id, "shortDescription": {"text": known.summary},
         "fullDescription": {"text": known.doc.strip() or known.summary},
         "defaultConfiguration": {"level": known.severity}}
        for known in IDS.values()
    ]
    results = [
        {"ruleId": d.id, "level": d.severity.value,
         "message": {"text": d.message + (f" ({d.hint})" if d.hint else "")},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(d.span.file)},
                                             "region": {"startLine": d.span.line, "startColumn": d.span.col}}}]}
        for _, _, found in findings for d in found
    ]
    log = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
           "runs": [{"tool": {"driver": {"name": "netcalc", "version": __version__, "rules": rules}},
                     "results": results}]}
    return json.dumps(log, indent=2) + "\n"


def to_human(findings: Findings) -> str:
    """For a person at a terminal: findings grouped by file, severities in colour when
    stdout is a terminal (as rich decides: FORCE_COLOR, NO_COLOR, TTY_COMPATIBLE), plain
    when piped."""
    import io

    from rich.console import Console
    from rich.markup import escape

    stdout = Console()  # rendered into a string, but styled for where it goes
    out = io.StringIO()
    console = Console(file=out, force_terminal=stdout.is_terminal, no_color=stdout.no_color,
                      color_system=stdout.color_system,  # type: ignore[arg-type] # one of the names it takes
                      highlight=False, soft_wrap=True)
    colour = {"error": "bold red", "warning": "yellow"}
    for _, _, found in findings:
        if not found:
            continue
        console.print(f"[bold]{escape(found[0].span.file)}[/bold]")
        for d in found:
            hint = f" [dim]({escape(d.hint)})[/dim]" if d.hint else ""
            console.print(f"  {d.span.line}:{d.span.col}  [{colour[d.severity.value]}]{d.severity.value}[/]  "
                          f"{escape(d.message)}{hint}  [dim]{d.id}[/dim]")
    console.print(summary(findings))
    return out.getvalue()


def outcome(findings: Findings, strict: bool) -> int:
    """2 if a spec is invalid, 1 for an error (or, strict, a warning), else 0."""
    from .. import exit_codes

    if not all(valid for _, valid, _ in findings):
        return exit_codes.USAGE_OR_INVALID
    severities = {d.severity.value for _, _, found in findings for d in found}
    if "error" in severities or (strict and "warning" in severities):
        return exit_codes.FINDINGS
    return exit_codes.OK
