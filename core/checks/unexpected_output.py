"""How `unexpected-output` is computed: the output shape against the expected one.
Its documentation: core/ids.py."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..diagnostics import Diagnostic, finding
from ..report import Report

ID = "unexpected-output"


def check(report: Report, limits: Mapping[str, tuple[Any, Any]]) -> Iterator[Diagnostic]:
    if "output" not in limits:
        return
    expected, span = limits["output"]
    outputs = report.graph.outputs
    if len(expected) != len(outputs):
        yield finding(ID, f"the check expects {len(expected)} output shape(s), the network has {len(outputs)} "
                        f"({', '.join(outputs)})", span)
        return
    for name, shape in zip(outputs, expected):
        actual = report.shapes[name]
        if actual is not None and actual.dims != tuple(shape):
            yield finding(ID, f"the output '{name}' is {actual}, the check expects {'x'.join(map(str, shape))}", span)
