"""Test helpers importable from any test module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from netcalc.core.api import analyze_source
from netcalc.core.report import Report

CASES = Path(__file__).resolve().parent / "cases"


def text_spec(text: str, file: str = "spec.net") -> Report:
    return analyze_source(text, file, "spec")


def yaml_spec(text: str, file: str = "spec.yaml") -> Report:
    return analyze_source(text, file, "spec")


def errors(report: Report) -> list[tuple[str, int, int]]:
    return [(d.id, d.span.line, d.span.col) for d in report.diagnostics if d.severity.value == "error"]


def op_cases() -> list[tuple[str, str, dict[str, Any]]]:
    """(op, case id, case) for every case in tests/cases/ops/<op>.yaml."""
    found = []
    for path in sorted((CASES / "ops").glob("*.yaml")):
        for case in yaml.safe_load(path.read_text()):
            found.append((path.stem, case["id"], case))
    return found


def case_spec(case: dict[str, Any]) -> str:
    """A one-layer text spec for an op case: the input line, then the layer on line 2."""
    if "inputs" in case:
        header = "input " + " ".join(f"{name}={shape}" for name, shape in case["inputs"].items())
    else:
        header = f"input {case['input']}"
    return f"{header}\n{case['layer']}\n"


# what the torch harness compared in this run, printed by conftest's terminal summary
TORCH_COMPARED = {"cases": 0, "layers": 0, "macs": 0, "fields": 0, "refused": 0, "saved": 0}
