"""CI rules for `netcalc check`: one module per rule, each with its stable kebab-case `ID`,
a default `SEVERITY`, its documentation (a failing and a passing spec) as the module
docstring, and `check(report, limits)` yielding diagnostics (None for the rules the
analyses themselves report)."""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from ..diagnostics import Diagnostic
from ..report import Report
from . import (
    batch_in_input,
    budget_exceeded,
    kernel_exceeds_input,
    linear_on_spatial,
    misaligned_merge,
    stride_drops_input,
    transposed_size_mismatch,
    unexpected_output,
    unused_layer,
)

RULES: dict[str, ModuleType] = {
    rule.ID: rule
    for rule in (
        stride_drops_input,
        kernel_exceeds_input,
        misaligned_merge,
        linear_on_spatial,
        unused_layer,
        transposed_size_mismatch,
        budget_exceeded,
        unexpected_output,
        batch_in_input,
    )
}


def run_checks(report: Report, limits: Mapping[str, tuple[Any, Any]]) -> list[Diagnostic]:
    """Every rule's findings on `report` (limits: key -> (value, span), from the spec's
    `check` section and the command line). Rules that need a valid graph skip invalid ones."""
    found: list[Diagnostic] = []
    for rule in RULES.values():
        if rule.check is not None and (report.ok or getattr(rule, "ON_INVALID", False)):
            found.extend(rule.check(report, limits))
    return found
