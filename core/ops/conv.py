"""Convolutions: `conv`, `dwconv`, `convT` (`deconv`), N-d by the input's rank.

conv:  out = floor((n + before + after - d*(k-1) - 1) / s) + 1
convT: out = (n - 1)*s - 2p + d*(k-1) + op + 1
Parameters are PyTorch's weight (out x in/g x k...) plus bias. MACs of conv count output
positions; MACs of convT count INPUT positions (in_elems x out/g x prod(k)), which is
the work actually done: each input value is scattered through the whole kernel.
"""

from __future__ import annotations

from fractions import Fraction

from ..ir import Shape
from ._window import effective_kernel, sliding, window_output, written_window
from .registry import (
    AXES,
    AXES0,
    BOOLEAN,
    PADDING,
    POSITIVE,
    Attr,
    Attrs,
    OpError,
    PadBefore,
    Reach,
    Shapes,
    Weights,
    Window,
    module_input,
    numel,
    op,
    optional,
    per_axis,
    spatial_input,
    table,
    torch_nd,
    window,
)
from .saved import Grads, Saved, input_for_any_grad

_WINDOW = {
    "k": Attr(AXES, aliases=("kernel_size",)),
    "s": Attr(AXES, 1, aliases=("stride",)),
    "p": Attr(PADDING, 0, aliases=("padding",)),
    "d": Attr(AXES, 1, aliases=("dilation",)),
    "bias": Attr(BOOLEAN, True),
}


def groups(a: Attrs, ins: Shapes) -> int:
    return ins[0].channels if a.get("g") is None else a["g"]


def out_channels(a: Attrs, ins: Shapes) -> int:
    return ins[0].channels if a.get("out") is None else a["out"]


def _check_groups(a: Attrs, ins: Shapes) -> int:
    g, c, out = groups(a, ins), ins[0].channels, out_channels(a, ins)
    if c % g or out % g:
        raise OpError("groups-mismatch", f"groups={g} must divide both input channels {c} and out={out}")
    return g


def conv_shape(a: Attrs, ins: Shapes) -> Shape:
    x = spatial_input(ins)
    _check_groups(a, ins)
    w = sliding(a, x)
    sizes = tuple(window_output(n, k_eff, s, b, e) for n, k_eff, s, (b, e) in zip(x.spatial, w.k_eff, w.s, w.pads))
    return Shape((out_channels(a, ins), *sizes))


def conv_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    """A window of k_eff input units per output unit, stride s, offset by the padding
    actually applied before (which for `same` depends on the input size)."""
    w = sliding(a, ins[0])
    return Reach(tuple(conv_window(k_eff, s, before) for k_eff, s, (before, _) in zip(w.k_eff, w.s, w.pads)))


def conv_window(k_eff: int, s: int, before: int) -> Window:
    """Output o reads inputs o*s - before .. o*s - before + k_eff - 1."""
    return window(s, -before, k_eff - 1 - before)


def transposed_window(k: int, s: int, p: int, d: int) -> Window:
    """Output o reads the inputs i with i*s = o + p - t*d, t in [0, k): at most
    ceil((o + p - d*(k-1))/s) .. floor((o + p)/s). With dilation that range is the hull:
    some of its units may be skipped."""
    return window(Fraction(1, s), Fraction(p - effective_kernel(k, d) + 1, s), Fraction(p, s))


def convt_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    w = sliding(a, ins[0])
    return Reach(tuple(transposed_window(k, s, p, d) for k, s, (p, _), d in zip(w.k, w.s, w.pads, w.d)))


def conv_params(a: Attrs, ins: Shapes) -> Weights:
    out, g = out_channels(a, ins), groups(a, ins)
    return Weights(out * (ins[0].channels // g) * sliding(a, ins[0]).taps + (out if a["bias"] else 0))


def conv_macs(a: Attrs, ins: Shapes, out: Shape) -> int:
    return numel(out) * (ins[0].channels // groups(a, ins)) * sliding(a, ins[0]).taps


def bias_adds(a: Attrs, ins: Shapes, out: Shape) -> int:
    return numel(out) if a["bias"] else 0


def convt_shape(a: Attrs, ins: Shapes) -> Shape:
    x = spatial_input(ins)
    _check_groups(a, ins)
    w = sliding(a, x)
    k, s, d, p, o = w.k, w.s, w.d, tuple(before for before, _ in w.pads), per_axis(a["op"], x.rank - 1, "op")
    if any(oi >= si and oi >= di for oi, si, di in zip(o, s, d)):
        raise OpError(
            "invalid-argument", f"op (output_padding) {a['op']} must be smaller than the stride or the dilation"
        )
    sizes = tuple(
        (n - 1) * si - 2 * pi + di * (ki - 1) + oi + 1 for n, ki, si, di, pi, oi in zip(x.spatial, k, s, d, p, o)
    )
    if min(sizes) < 1:
        raise OpError("non-positive-size", f"the output size would be {'x'.join(map(str, sizes))}")
    return Shape((a["out"], *sizes))


def convt_params(a: Attrs, ins: Shapes) -> Weights:
    out, g = a["out"], groups(a, ins)
    return Weights(ins[0].channels * (out // g) * sliding(a, ins[0]).taps + (out if a["bias"] else 0))


def convt_macs(a: Attrs, ins: Shapes, out: Shape) -> int:
    return numel(ins[0]) * (a["out"] // groups(a, ins)) * sliding(a, ins[0]).taps


def _torch_padding(a: Attrs, ins: Shapes) -> str | None:
    """PyTorch's `padding` argument for `p`, or None where it has none: padding that
    differs before and after (per side, or TensorFlow's `same` with a stride)."""
    p = a["p"]
    per_side = isinstance(p, tuple) and bool(p) and isinstance(p[0], tuple)
    if p != "same" and not per_side:
        return str(p)
    w = sliding(a, ins[0])
    if p == "same" and all(v == 1 for v in w.s):
        return "'same'"  # PyTorch's, which for stride 1 is TensorFlow's
    sides = w.pads
    return str(tuple(before for before, _ in sides)) if all(b == e for b, e in sides) else None


def conv_torch(a: Attrs, ins: Shapes) -> str:
    """Conv1d/2d/3d, padding 0 where PyTorch cannot state the padding (`conv_torch_pad`)."""
    w = sliding(a, ins[0])
    padding = _torch_padding(a, ins)
    return (f"{torch_nd('Conv', ins)}({ins[0].channels}, {out_channels(a, ins)}, {w.k}, stride={w.s}, dilation={w.d}, "
            f"groups={groups(a, ins)}, bias={a['bias']}, padding={0 if padding is None else padding})")


def conv_torch_pad(a: Attrs, ins: Shapes) -> PadBefore | None:
    """The padding Conv cannot state, applied before it: so the module at the layer's name
    is the Conv itself, and a state dict keyed by the spec's names loads (`c.weight`)."""
    return PadBefore(sliding(a, ins[0]).pads) if _torch_padding(a, ins) is None else None


def convt_torch(a: Attrs, ins: Shapes) -> str:
    return (f"{torch_nd('ConvTranspose', ins)}({ins[0].channels}, {a['out']}, {a['k']}, stride={a['s']}, "
            f"padding={a['p']}, output_padding={a['op']}, groups={a['g']}, bias={a['bias']}, dilation={a['d']})")


def conv_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """The input the module got: padded, where forward pads first, or where PyTorch's own
    `same` pads unevenly (it pads the odd unit at the end into a copy, the rest as usual).
    PyTorch saves it for either gradient (one backward computes both), so a frozen
    convolution in the middle of a network keeps it too."""
    if not g.any:
        return ()
    pad = conv_torch_pad(a, ins)
    odd = tuple((0, (before + after) % 2) for before, after in sliding(a, ins[0]).pads)
    if pad is None and a["p"] == "same" and any(extra for _, extra in odd):
        pad = PadBefore(odd)
    return (module_input(ins[0], pad),)


_CONV_FIELDS = dict(
    count_params=conv_params, count_macs=conv_macs, other_flops=bias_adds, receptive_field=conv_reach,
    saves=conv_saves,
    macs_rule="output elements x in/g x prod(k)", flops_rule="output elements (bias), if bias",
    torch_module=conv_torch, torch_pad=conv_torch_pad, window_text=written_window,
)

OPS = table(
    op(
        "conv",
        "Convolution (Conv1d/2d/3d by input rank); p may be per side, `same` or `valid`.",
        conv_shape,
        attrs={
            "out": Attr(POSITIVE, aliases=("out_channels",)),
            **_WINDOW,
            "g": Attr(POSITIVE, 1, aliases=("groups",)),
        },
        **_CONV_FIELDS,
    ),
    op(
        "dwconv",
        "Depthwise convolution: groups = input channels; `out` defaults to the input channels.",
        conv_shape,
        attrs={"out": Attr(optional(POSITIVE), None, aliases=("out_channels",)), **_WINDOW},
        **_CONV_FIELDS,
    ),
    op(
        "convT",
        "Transposed convolution (ConvTranspose1d/2d/3d), with output padding `op`.",
        convt_shape,
        attrs={
            "out": Attr(POSITIVE, aliases=("out_channels",)),
            **_WINDOW,
            "p": Attr(AXES0, 0, aliases=("padding",)),
            "op": Attr(AXES0, 0, aliases=("output_padding",)),
            "g": Attr(POSITIVE, 1, aliases=("groups",)),
        },
        aliases=("deconv",),
        count_params=convt_params,
        count_macs=convt_macs,
        receptive_field=convt_reach,
        saves=input_for_any_grad,
        macs_rule="INPUT elements x out/g x prod(k)",
        other_flops=bias_adds,
        flops_rule="output elements (bias), if bias",
        torch_module=convt_torch,
        window_text=written_window,
    ),
)
