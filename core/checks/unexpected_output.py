"""unexpected-output: the network's output shape is not the one the `check` section (or
--expect-output) expects.

Failing:

    input 3x32x32
    gap
    flatten
    check output=10

Passing:

    input 3x32x32
    gap
    flatten
    check output=3
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..diagnostics import Diagnostic, error
from ..report import Report

ID = "unexpected-output"
SEVERITY = "error"


def check(report: Report, limits: Mapping[str, tuple[Any, Any]]) -> Iterator[Diagnostic]:
    if "output" in limits:
        expected, span = limits["output"]
        actual = report.shapes[report.graph.output]
        if actual is not None and actual.dims != tuple(expected):
            yield error(ID, f"the output '{report.graph.output}' is {actual}, the check expects "
                            f"{'x'.join(map(str, expected))}", span)
