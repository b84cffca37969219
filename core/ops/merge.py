"""Merges: `add`, `mul` of two or more inputs, `sub` and `div` of two (PyTorch broadcasting: C x 1 x 1 against
C x H x W; a `param` of fewer axes against a batched tensor) and `concat` along `dim` of one or more
(`torch.cat([x])`, which PyTorch accepts, is `x`)."""

from __future__ import annotations

from math import prod

from ..ir import Shape
from .registry import (
    ELEMENTWISE,
    INTEGER,
    NO_MACS,
    NO_OTHER_FLOPS,
    NO_WEIGHTS,
    SAVES_NOTHING,
    Attr,
    Attrs,
    OpError,
    Shapes,
    numel,
    op,
    table,
)
from .saved import Grads, Saved


def _broadcast(a: Attrs, ins: Shapes) -> Shape:
    return Shape(broadcast(ins), batched=any(x.batched for x in ins))


def broadcast(ins: Shapes) -> tuple[int, ...]:
    """PyTorch's broadcast, aligned from the right. A batched tensor of fewer axes would meet
    the other's axes with its batch axis, so only a `param` (no batch axis) may have fewer."""
    rank = max(x.rank for x in ins)
    if any(x.rank < rank and x.batched for x in ins):
        raise OpError("shape-mismatch", "cannot broadcast " + " and ".join(map(str, ins))
                      + " (ranks differ; only a `param`, which has no batch axis, may have fewer axes)")
    dims = []
    for sizes in zip(*((1,) * (rank - x.rank) + x.dims for x in ins)):
        wide = {n for n in sizes if n != 1}
        if len(wide) > 1:
            raise OpError("shape-mismatch", "cannot broadcast " + " and ".join(map(str, ins)))
        dims.append(wide.pop() if wide else 1)
    return tuple(dims)


def _elementwise(a: Attrs, ins: Shapes, out: Shape) -> int:
    return numel(out) * (len(ins) - 1)


def axis_of(dim: int, rank: int) -> int:
    """PyTorch's `dim` (batch included, negative from the end) as an index into our dims."""
    axis = dim + rank + 1 if dim < 0 else dim
    if not 1 <= axis <= rank:
        raise OpError("invalid-argument", f"dim={dim} is not a non-batch axis of a {rank}-axis input")
    return axis - 1


def _concat(a: Attrs, ins: Shapes) -> Shape:
    rank = ins[0].rank
    if any(x.rank != rank for x in ins):
        raise OpError("shape-mismatch", "cannot concatenate " + " and ".join(map(str, ins)) + " (ranks differ)")
    axis = axis_of(a["dim"], rank)
    others = {x.dims[:axis] + x.dims[axis + 1 :] for x in ins}
    if len(others) > 1:
        raise OpError("shape-mismatch", f"cannot concatenate {' and '.join(map(str, ins))} along dim={a['dim']}")
    return Shape(ins[0].dims[:axis] + (sum(x.dims[axis] for x in ins),) + ins[0].dims[axis + 1 :])


def _mul_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """x * y * z runs as (x * y) * z: each product keeps each factor whose partner needs a
    gradient; a product of more than two keeps the partial products it needs, new tensors."""
    kept: list[Saved] = []
    left_grad, left = g.inputs[0], Saved(0)
    for i in range(1, len(ins)):
        if g.inputs[i]:
            kept.append(left)
        if left_grad:
            kept.append(Saved(i))
        left_grad = left_grad or g.inputs[i]
        n = prod(broadcast(ins[: i + 1]))
        left = Saved(elements=n) if any(x.batched for x in ins[: i + 1]) else Saved(fixed=n)
    return tuple(kept)


def _div_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """x / y: both gradients read the divisor; the divisor's reads the dividend too."""
    return ((Saved(1),) if any(g.inputs) else ()) + ((Saved(0),) if g.inputs[1] else ())


# "any": int + int stays int, int + float is float (position ids plus an offset)
_MERGE = {"inputs": (2, None), "count_params": NO_WEIGHTS, "count_macs": NO_MACS, "receptive_field": ELEMENTWISE,
          "reads": "any", "keeps_layout": True}

OPS = table(
    op("add", "Elementwise sum of two or more inputs, with broadcasting.", _broadcast,
       other_flops=_elementwise, flops_rule="output elements x (inputs - 1)", **_MERGE,
       saves=SAVES_NOTHING, torch_expression=lambda a, args: " + ".join(args)),
    op("mul", "Elementwise product of two or more inputs, with broadcasting (a gate).", _broadcast,
       other_flops=_elementwise, flops_rule="output elements x (inputs - 1)", **_MERGE,
       saves=_mul_saves, torch_expression=lambda a, args: " * ".join(args)),
    op("sub", "Elementwise difference of two inputs, the first minus the second, with broadcasting "
       "(ONNX's Sub of two tensors).", _broadcast, other_flops=_elementwise, flops_rule="output elements",
       **{**_MERGE, "inputs": (2, 2)}, saves=SAVES_NOTHING, torch_expression=lambda a, args: " - ".join(args)),
    op("div", "Elementwise quotient of two inputs, the first divided by the second, with broadcasting "
       "(ONNX's Div of two tensors).", _broadcast, other_flops=_elementwise, flops_rule="output elements",
       **{**_MERGE, "inputs": (2, 2), "reads": "float"}, saves=_div_saves,
       torch_expression=lambda a, args: " / ".join(args)),
    op("concat", "Concatenation of one or more inputs along `dim` (PyTorch's convention: 1 = channels).",
       _concat, attrs={"dim": Attr(INTEGER, 1)}, count_params=NO_WEIGHTS, count_macs=NO_MACS,
       other_flops=NO_OTHER_FLOPS, flops_rule="0 (a copy)", receptive_field=ELEMENTWISE, inputs=(1, None), reads="any",
       saves=SAVES_NOTHING,
       torch_expression=lambda a, args: f"torch.cat([{', '.join(args)}], dim={a['dim']})"),
)
