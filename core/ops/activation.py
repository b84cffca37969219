"""Activations: shape unchanged; one FLOP per output element (softmax: three, for the
exponential, the sum and the division). Only `prelu` has parameters."""

from __future__ import annotations

from typing import Any

from ..ir import Shape
from .registry import (
    BOOLEAN,
    ELEMENTWISE,
    IDENTITY,
    INTEGER,
    INTEGERS,
    NO_MACS,
    NO_WEIGHTS,
    NUMBER,
    SAVES_NOTHING,
    Attr,
    Attrs,
    OpDef,
    OpError,
    Reach,
    Shapes,
    Weights,
    choice,
    numel,
    op,
    table,
    torch_class,
)
from .saved import input_for_any_grad, input_for_input_grad, output_for_input_grad


def _same(a: Attrs, ins: Shapes) -> Shape:
    return ins[0]


def _per_element(a: Attrs, ins: Shapes, out: Shape) -> int:
    return numel(out)


def _softmax_shape(a: Attrs, ins: Shapes) -> Shape:
    rank = ins[0].rank + 1  # PyTorch counts the batch axis
    if not -rank <= a["dim"] < rank:
        raise OpError("invalid-argument", f"dim={a['dim']} is outside the {rank} axes (batch included) of the input")
    return ins[0]


def _offset_shape(a: Attrs, ins: Shapes) -> Shape:
    x, shape = ins[0], tuple(a["shape"])
    fits = len(shape) <= x.rank and all(c in (1, n) for c, n in zip(reversed(shape), reversed(x.dims)))
    if not fits:
        raise OpError("shape-mismatch", f"a constant of shape {'x'.join(map(str, shape))} does not broadcast into {x}")
    return x


def _softmax_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    """Each value depends on the whole axis `dim`: global where it holds positions (over
    the batch, the channels or a token's features, on no other position)."""
    rank = ins[0].rank
    axis = a["dim"] % (rank + 1)  # 0 the batch; in range, by the shape rule
    return Reach((IDENTITY,) * (rank - 1), normalizes=(axis - 1,) if axis else ())


def _softmax_flops(a: Attrs, ins: Shapes, out: Shape) -> int:
    return 3 * numel(out)


def _prelu_params(a: Attrs, ins: Shapes) -> Weights:
    return Weights(ins[0].channels if a["per_channel"] else 1)


def _activation(name: str, doc: str, **fields: Any) -> OpDef:
    """An activation: no weights (prelu says its own), no MACs, position by position (softmax
    says its own), one FLOP per element unless it says otherwise; each says what its
    derivative reads (`saves`)."""
    fields.setdefault("keeps_layout", True)
    return op(name, doc, fields.pop("infer_shape", _same), count_params=fields.pop("count_params", NO_WEIGHTS),
              count_macs=NO_MACS, other_flops=fields.pop("other_flops", _per_element),
              receptive_field=fields.pop("receptive_field", ELEMENTWISE),
              flops_rule=str(fields.pop("flops_rule", "1 per element")), **fields)


OPS = table(
    _activation("relu", "ReLU.", torch_module=torch_class("ReLU"), saves=output_for_input_grad),
    _activation("relu6", "ReLU6.", torch_module=torch_class("ReLU6"), saves=input_for_input_grad),
    _activation("leakyrelu", "LeakyReLU.", attrs={"slope": Attr(NUMBER, 0.01, aliases=("negative_slope",))},
                torch_module=lambda a, ins: f"nn.LeakyReLU({a['slope']})", saves=input_for_input_grad),
    _activation("prelu", "PReLU: one parameter, or one per channel with per_channel=true.",
                attrs={"per_channel": Attr(BOOLEAN, False)}, count_params=_prelu_params,
                torch_module=lambda a, ins: f"nn.PReLU({ins[0].channels if a['per_channel'] else 1})",
                saves=input_for_any_grad),
    _activation("elu", "ELU.", attrs={"alpha": Attr(NUMBER, 1.0)}, torch_module=lambda a, ins: f"nn.ELU({a['alpha']})",
                saves=input_for_input_grad),
    _activation("gelu", "GELU.", attrs={"approximate": Attr(choice("none", "tanh"), "none")},
                torch_module=lambda a, ins: f"nn.GELU(approximate={a['approximate']!r})", saves=input_for_input_grad),
    _activation("silu", "SiLU (swish).", torch_module=torch_class("SiLU"), saves=input_for_input_grad),
    _activation("sigmoid", "Sigmoid.", torch_module=torch_class("Sigmoid"), saves=output_for_input_grad),
    _activation("hardsigmoid", "Hardsigmoid.", torch_module=torch_class("Hardsigmoid"), saves=input_for_input_grad),
    _activation("hardswish", "Hardswish.", torch_module=torch_class("Hardswish"), saves=input_for_input_grad),
    _activation("tanh", "Tanh.", torch_module=torch_class("Tanh"), saves=output_for_input_grad),
    _activation("offset", "Addition of a constant tensor of `shape` that is no parameter (a causal mask, a fixed "
                "positional encoding), broadcast into the input as PyTorch does; ONNX's Add of a constant. Exported "
                "as a zero tensor of that shape.", attrs={"shape": Attr(INTEGERS)}, infer_shape=_offset_shape,
                torch_expression=lambda a, args: f"{args[0]} + torch.zeros({', '.join(map(str, a['shape']))})",
                saves=SAVES_NOTHING),
    _activation("scale", "Multiplication by a constant `by` (attention's 1/sqrt(d) as ONNX writes it; "
                "no parameter).", attrs={"by": Attr(NUMBER)},
                torch_expression=lambda a, args: f"{args[0]} * {a['by']!r}", saves=SAVES_NOTHING),
    _activation("softmax", "Softmax over `dim` (PyTorch's convention: 1 = channels).",
                attrs={"dim": Attr(INTEGER, 1)}, infer_shape=_softmax_shape, other_flops=_softmax_flops,
                receptive_field=_softmax_reach,
                flops_rule="3 per element", torch_module=lambda a, ins: f"nn.Softmax(dim={a['dim']})",
                keeps_layout=False,
                saves=output_for_input_grad),
    _activation("logsoftmax", "LogSoftmax over `dim` (default the last axis, as a language model's head).",
                attrs={"dim": Attr(INTEGER, -1)}, infer_shape=_softmax_shape, other_flops=_softmax_flops,
                receptive_field=_softmax_reach,
                flops_rule="3 per element", torch_module=lambda a, ins: f"nn.LogSoftmax(dim={a['dim']})",
                keeps_layout=False,
                saves=output_for_input_grad),
)
