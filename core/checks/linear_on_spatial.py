"""How `linear-on-spatial` is computed: a linear layer whose input's last axis holds
positions of the input (a map's width, flattened pixels), not features (a token's D, a
channels-last map's channels). Its documentation: core/ids.py."""

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
        x, axes = report.shapes[layer.inputs[0]], report.axes.get(layer.inputs[0], ())
        if x is not None and x.rank > 1 and axes and axes[-1] is not None:
            yield finding(ID, f"layer '{layer.name}' (linear) acts on the last axis of the map {x}",
                          layer.span, "flatten (or gap) before it, if a classifier was meant")
