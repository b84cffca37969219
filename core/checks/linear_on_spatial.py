"""linear-on-spatial: a linear layer applied to a map with spatial axes.

PyTorch's Linear acts on the last axis only, so on a C x H x W map it mixes the columns of
each row: almost always a missing `flatten` (or a `gap`) before the classifier.

Failing:

    input 512x7x7
    fc out=1000

Passing:

    input 512x7x7
    flatten
    fc out=1000
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..diagnostics import Diagnostic, warning
from ..report import Report

ID = "linear-on-spatial"
SEVERITY = "warning"


def check(report: Report, limits: Mapping[str, Any]) -> Iterator[Diagnostic]:
    for layer in report.graph.layers:
        x = report.shapes[layer.inputs[0]]
        if layer.op == "linear" and x is not None and x.rank > 1:
            yield warning(ID, f"layer '{layer.name}' (linear) acts on the last axis of the map {x}",
                          layer.span, "flatten (or gap) before it, if a classifier was meant")
