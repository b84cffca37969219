"""Output shapes: each layer's `OpDef.infer_shape` on its inputs' shapes.

A layer whose inputs failed gets no shape and no further diagnostic, so one mistake is
reported once, where it was made.
"""

from __future__ import annotations

from ..diagnostics import Diagnostic, error
from ..ir import Input, Layer, Shape
from ..ops import LOOKUP
from ..ops.registry import OpError, size_problem


class ShapePass:
    """Infers shapes one layer at a time, in topological order."""

    def __init__(self, inputs: tuple[Input, ...]) -> None:
        self.shapes: dict[str, Shape | None] = {i.name: i.shape for i in inputs}
        self.diags: list[Diagnostic] = []
        for i in inputs:
            why = size_problem(i.shape)
            if why:
                self.diags.append(error("too-large", f"input '{i.name}' {i.shape} is too large: {why}", i.span))
                self.shapes[i.name] = None
        # rules are pure, and networks repeat identical layers: infer each distinct one once
        self._memo: dict[tuple[object, ...], Shape | OpError] = {}

    def shape_of(self, name: str) -> Shape | None:
        return self.shapes.get(name)

    def add(self, layer: Layer) -> None:
        self.shapes[layer.name] = self.infer(layer)

    def infer(self, layer: Layer) -> Shape | None:
        ins = tuple(self.shapes.get(name) for name in layer.inputs)
        if layer.attrs is None or any(s is None for s in ins):
            return None
        key = (layer.op, id(layer.attrs), ins)  # identical layers share one attrs mapping
        out = self._memo.get(key)
        if out is None:
            opdef = LOOKUP[layer.op]
            try:
                out = typed(opdef.reads, bounded(opdef.infer_shape(layer.attrs, ins)), ins)  # type: ignore[arg-type]
            except OpError as exc:
                out = exc
            self._memo[key] = out
        if isinstance(out, OpError):
            given = " and ".join(str(s) for s in ins) or "no input"
            self.diags.append(error(out.id, f"layer '{layer.name}' ({layer.op}) on {given}: {out.message}", layer.span))
            return None
        if min(out.dims) < 1:
            self.diags.append(error("non-positive-size", f"layer '{layer.name}' ({layer.op}) would output {out}",
                                    layer.span))
            return None
        return out


def typed(reads: str, out: Shape, ins: tuple[Shape, ...]) -> Shape:
    """The output with its element type, or OpError for inputs of a type the op refuses, as
    PyTorch raises: floats in, floats out (of the input's float type); layout ops keep the
    type (int + float promotes to float); an embedding reads integers and gives floats."""
    if reads == "integer":
        if any(s.dtype not in ("int64", "int32") for s in ins):
            raise OpError("wrong-dtype", "it reads integer indices (int64 or int32 token ids), not floats or bool")
        return out
    floats = [s.dtype for s in ins if s.is_float]
    if reads == "float" and len(floats) < len(ins):
        raise OpError("wrong-dtype", "it computes on floats, not integers: token ids go through an embedding first")
    # PyTorch's promotion: the first float type, else the widest integer (bool < int32 < int64)
    dtype = floats[0] if floats else max((s.dtype for s in ins), key=_INTEGER_ORDER.index, default=out.dtype)
    return out if dtype == out.dtype else Shape(out.dims, dtype)


_INTEGER_ORDER = ["bool", "int32", "int64"]


def bounded(out: Shape) -> Shape:
    """The output shape, or OpError for one too large to analyse (see size_problem)."""
    why = size_problem(out) if min(out.dims) > 0 else None
    if why:
        raise OpError("too-large", f"the output {out} is too large: {why}")
    return out
