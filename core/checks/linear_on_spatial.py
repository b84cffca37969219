"""How `linear-on-spatial` is computed: a linear layer whose input has spatial axes.
Its documentation: core/ids.py."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..diagnostics import Diagnostic, finding
from ..report import Report

ID = "linear-on-spatial"


def check(report: Report, limits: Mapping[str, Any]) -> Iterator[Diagnostic]:
    for layer in report.graph.layers:
        if layer.op != "linear":
            continue
        x = report.shapes[layer.inputs[0]]
        if x is not None and x.rank > 1:
            yield finding(ID, f"layer '{layer.name}' (linear) acts on the last axis of the map {x}",
                          layer.span, "flatten (or gap) before it, if a classifier was meant")
