"""How `stride-drops-input` is computed: each windowed layer's unread rows, through the
op's own window, on the real input. Its documentation: core/ids.py."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..diagnostics import Diagnostic, finding
from ..ops import LOOKUP
from ..report import Report

ID = "stride-drops-input"


def unread(report: Report, name: str) -> list[int]:
    """Per spatial axis, the input rows after the last one any output unit reads."""
    layer = next(item for item in report.graph.layers if item.name == name)
    ins = tuple(report.shapes[i] for i in layer.inputs)
    out = report.shapes[name]
    reach = LOOKUP[layer.op].receptive_field(layer.attrs, ins, out)  # type: ignore[arg-type]
    x = ins[0]
    if reach.windows is None or len(reach.windows) != x.rank - 1 or out.rank != x.rank:  # type: ignore[union-attr]
        return []
    return [max(0, n - 1 - w.sources(o - 1, o - 1)[1]) for w, n, o in zip(reach.windows, x.spatial, out.spatial)]  # type: ignore[union-attr]


def check(report: Report, limits: Mapping[str, Any]) -> Iterator[Diagnostic]:
    for layer in report.graph.layers:
        if layer.attrs is None or "s" not in layer.attrs:
            continue
        rows = unread(report, layer.name)
        if any(rows):
            axes = ", ".join(f"{r} on axis {axis}" for axis, r in enumerate(rows) if r)
            yield finding(ID, f"layer '{layer.name}' ({layer.op}) never reads the last input rows: {axes} "
                              f"(its input is {report.shapes[layer.inputs[0]]})", layer.span,
                          "adjust the padding or the input size so that the windows reach the end")
