"""The CI rules computed on a finished report, one module each: its `ID` and
`check(report, limits)` yielding findings. What every id means, its default severity and
its documentation are in `netcalc.core.ids`; the other rules are reported by the analyses
themselves (`unused-layer` when the graph is built, `misaligned-merge` with the receptive
fields, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..diagnostics import Diagnostic
from ..ids import RULES
from ..report import Report
from . import budget_exceeded, linear_on_spatial, stride_drops_input, transposed_size_mismatch, unexpected_output

CHECKS = (stride_drops_input, linear_on_spatial, transposed_size_mismatch, budget_exceeded, unexpected_output)

__all__ = ["CHECKS", "RULES", "run_checks"]


def run_checks(report: Report, limits: Mapping[str, tuple[Any, Any]]) -> list[Diagnostic]:
    """Every check's findings on `report` (limits: key -> (value, span), from the spec's
    `check` section and the command line). Checks that need a valid graph skip invalid ones."""
    found: list[Diagnostic] = []
    for rule in CHECKS:
        if report.ok or getattr(rule, "ON_INVALID", False):
            found.extend(rule.check(report, limits))
    return found
