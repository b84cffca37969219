"""`linear` (`fc`): a fully connected layer on the last axis, as PyTorch applies it.

Every output reads the whole last axis: over flattened features or a map's width that is
the whole input (global); over a token's features (L x D) or a channels-last map's
channels, no other position."""

from __future__ import annotations

from ..ir import Shape
from .registry import BOOLEAN, POSITIVE, Attr, Attrs, Shapes, Weights, last_axis_mixed, numel, op, table
from .saved import Grads, Saved


def _shape(a: Attrs, ins: Shapes) -> Shape:
    return Shape(ins[0].dims[:-1] + (a["out"],))


def _params(a: Attrs, ins: Shapes) -> Weights:
    return Weights(ins[0].dims[-1] * a["out"] + (a["out"] if a["bias"] else 0))


def _macs(a: Attrs, ins: Shapes, out: Shape) -> int:
    return numel(out) * ins[0].dims[-1]


def _bias(a: Attrs, ins: Shapes, out: Shape) -> int:
    return numel(out) if a["bias"] else 0


def _saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """The weight's gradient reads the input, folded to (positions, in_features)."""
    return (Saved(0, folded=1),) if g.weights else ()


OPS = table(
    op("linear", "Fully connected layer on the last axis (nn.Linear).", _shape,
       attrs={"out": Attr(POSITIVE, aliases=("out_features",)), "bias": Attr(BOOLEAN, True)},
       aliases=("fc",), count_params=_params, count_macs=_macs, other_flops=_bias,
       macs_rule="output elements x in_features", receptive_field=last_axis_mixed,
       saves=_saves,
       flops_rule="output elements (bias), if bias",
       torch_module=lambda a, ins: f"nn.Linear({ins[0].dims[-1]}, {a['out']}, bias={a['bias']})"),
)
