"""How `transposed-size-mismatch` is computed: at a merge that reads a transposed
convolution, the output padding that would make the sizes agree. Its documentation:
core/ids.py."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..diagnostics import Diagnostic, finding
from ..ir import Layer
from ..ops import LOOKUP
from ..ops.registry import per_axis
from ..report import Report

ID = "transposed-size-mismatch"
ON_INVALID = True  # it explains a merge the shape analysis refused


def check(report: Report, limits: Mapping[str, Any]) -> Iterator[Diagnostic]:
    layers = {layer.name: layer for layer in report.graph.layers}
    for merge in report.graph.layers:
        op = LOOKUP.get(merge.op)
        if op is None or not op.merges or report.shapes.get(merge.name) is not None:
            continue
        shapes = [report.shapes.get(i) for i in merge.inputs]
        if any(s is None for s in shapes):
            continue
        for name in merge.inputs:
            up = _transposed_source(name, layers, report)
            if up is None:
                continue
            for other, shape in zip(merge.inputs, shapes):
                here = report.shapes[name]
                if other == name or shape.rank != here.rank or shape.spatial == here.spatial:  # type: ignore[union-attr]
                    continue
                yield _finding(merge, up, here.spatial, shape.spatial, other)  # type: ignore[union-attr]
                break


def _transposed_source(name: str, layers: dict[str, Layer], report: Report) -> Layer | None:
    """The convT that `name` is, or follows through layers that keep the shape."""
    while name in layers:
        layer = layers[name]
        if layer.op == "convT":
            return layer
        if len(layer.inputs) != 1 or report.shapes.get(layer.inputs[0]) != report.shapes.get(name):
            return None
        name = layer.inputs[0]
    return None


def _finding(merge: Layer, up: Layer, got: tuple[int, ...], wanted: tuple[int, ...], skip: str) -> Diagnostic:
    a = up.attrs or {}
    rank = len(got)
    s, d, op = (per_axis(a[key], rank, key) for key in ("s", "d", "op"))
    needed = [w - g + o for w, g, o in zip(wanted, got, op)]
    fixable = all(0 <= n < max(si, di) for n, si, di in zip(needed, s, d))
    sizes = f"'{up.name}' gives {'x'.join(map(str, got))}, '{skip}' is {'x'.join(map(str, wanted))}"
    hint = (f"set op={'x'.join(map(str, needed)) if len(set(needed)) > 1 else needed[0]} on '{up.name}'" if fixable
            else "no output padding fixes it: change the padding, kernel or stride")
    return finding(ID, f"layer '{merge.name}' ({merge.op}) merges a transposed convolution that cannot match its skip: "
                     f"{sizes}", up.span, hint)
