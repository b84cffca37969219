"""How `unexpected-output` is computed: the output shape against the expected one.
Its documentation: core/ids.py."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..diagnostics import Diagnostic, finding
from ..report import Report

ID = "unexpected-output"


def check(report: Report, limits: Mapping[str, tuple[Any, Any]]) -> Iterator[Diagnostic]:
    if "output" in limits:
        expected, span = limits["output"]
        actual = report.shapes[report.graph.output]
        if actual is not None and actual.dims != tuple(expected):
            yield finding(ID, f"the output '{report.graph.output}' is {actual}, the check expects "
                            f"{'x'.join(map(str, expected))}", span)
