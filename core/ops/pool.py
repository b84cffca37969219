"""Pooling: `maxpool`, `avgpool` (with PyTorch's ceil_mode rule), the adaptive pools and
`gap`. No parameters and no MACs; FLOPs count the window work."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from math import gcd, prod

from ..ir import Shape
from ._window import pool_output, sliding, written_window
from .registry import (
    AXES,
    AXES0,
    BOOLEAN,
    NO_MACS,
    NO_WEIGHTS,
    Attr,
    Attrs,
    Kind,
    OpDef,
    OpError,
    PadBefore,
    Reach,
    Shapes,
    Window,
    module_input,
    numel,
    op,
    optional,
    per_axis,
    rounding,
    spatial_input,
    table,
    torch_nd,
    whole_reach,
    window,
)
from .saved import Grads, Saved


def _pool_shape(a: Attrs, ins: Shapes) -> Shape:
    x = spatial_input(ins)
    w = sliding(a, x)
    k, s, d, pads = w.k, w.s, w.d, w.pads
    if a["p"] == "same":  # TensorFlow's rule: ceil(n / s), whatever the kernel
        return Shape((x.channels, *(-(-n // si) for n, si in zip(x.spatial, s))))
    p = tuple(before for before, _ in pads)
    if "d" not in a and len(k) == 3 and any(n < ki for n, ki in zip(x.spatial, k)):
        # avg_pool3d alone compares the kernel with the unpadded input
        raise OpError(
            "kernel-exceeds-input", f"PyTorch's 3-D average pooling needs an input of at least the kernel {k}, got {x}"
        )
    sizes = tuple(pool_output(*axis, a["ceil"]) for axis in zip(x.spatial, k, s, p, d))
    return Shape((x.channels, *sizes))


def _pool_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    w = sliding(a, ins[0])
    return Reach(tuple(window(s, -before, k_eff - 1 - before) for k_eff, s, (before, _) in zip(w.k_eff, w.s, w.pads)))


def _pool_torch(name: str) -> Callable[[Attrs, Shapes], str]:
    """MaxPool/AvgPool 1d/2d/3d; for TensorFlow's `same`, padding 0 (`_pool_pad` pads before)."""
    def constructor(a: Attrs, ins: Shapes) -> str:
        cls, s = torch_nd(name, ins), a["s"] if a["s"] is not None else a["k"]
        dilation = f", dilation={a['d']}" if "d" in a else ""
        if a["p"] == "same":
            return f"{cls}({a['k']}, stride={s}, padding=0{dilation})"
        return f"{cls}({a['k']}, stride={s}, padding={a['p']}{dilation}, ceil_mode={a['ceil']})"
    return constructor


def _pool_pad(fill: str) -> Callable[[Attrs, Shapes], PadBefore | None]:
    """TensorFlow's `same`, which PyTorch pools cannot state: padding before, with `fill`."""
    return lambda a, ins: PadBefore(sliding(a, ins[0]).pads, fill) if a["p"] == "same" else None


def _adaptive_torch(name: str) -> Callable[[Attrs, Shapes], str]:
    return lambda a, ins: f"{torch_nd(name, ins)}({a.get('out', 1)})"


def adaptive_window(n: int, out: int) -> Window:
    """PyTorch's bins: output o reads floor(o*n/out) .. ceil((o+1)*n/out) - 1."""
    step = Fraction(n, out)
    r = rounding(step)
    return window(step, -r, step + r - 1)


def _adaptive_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    if all(o == 1 for o in out.spatial):  # pooling to one value: the whole input
        return Reach(None, whole=True)
    return Reach(tuple(adaptive_window(n, o) for n, o in zip(ins[0].spatial, out.spatial)))


def _window_work(a: Attrs, ins: Shapes, out: Shape) -> int:
    return numel(out) * sliding(a, ins[0]).taps


def adaptive_windows(n: int, out: int) -> int:
    """Total length of PyTorch's adaptive windows [floor(i*n/out), ceil((i+1)*n/out)), i < out.

    Closed form, no loop over the bins: ceil(j*n/out) = floor(j*n/out) + 1 unless out
    divides j*n, which happens for gcd(n, out) of j = 1..out; so the sum of the ceilings
    over j = 1..out is the sum of the floors over j = 0..out-1, plus n (j = out), plus
    out - gcd(n, out), and the floors cancel."""
    return n + out - gcd(n, out)


def _adaptive_shape(a: Attrs, ins: Shapes) -> Shape:
    x = spatial_input(ins)
    return Shape((x.channels, *per_axis(a["out"], x.rank - 1, "out")))


def _adaptive_work(a: Attrs, ins: Shapes, out: Shape) -> int:
    return out.channels * prod(adaptive_windows(n, o) for n, o in zip(ins[0].spatial, out.spatial))


def _gap_shape(a: Attrs, ins: Shapes) -> Shape:
    x = spatial_input(ins)
    return Shape((x.channels,) + (1,) * (x.rank - 1))


def _gap_work(a: Attrs, ins: Shapes, out: Shape) -> int:
    return numel(ins[0])


POOL_PADDING = Kind(
    "a non-negative integer, one per axis, or same (TensorFlow's SAME, an extension: PyTorch pools have none)",
    lambda v: "same" if v == "same" else AXES0.read(v),
    {"anyOf": [AXES0.schema, {"enum": ["same"]}]},
)


def _window_attrs(dilation: bool) -> dict[str, Attr]:
    attrs = {
        "k": Attr(AXES, aliases=("kernel_size",)),
        "s": Attr(optional(AXES), None, aliases=("stride",)),
        "p": Attr(POOL_PADDING, 0, aliases=("padding",)),
        "ceil": Attr(BOOLEAN, False, aliases=("ceil_mode",)),
    }
    if dilation:
        attrs["d"] = Attr(AXES, 1, aliases=("dilation",))
    return attrs


_ADAPTIVE = {"out": Attr(AXES, aliases=("output_size",))}
_WINDOW_RULE = "output elements x prod(k) (one comparison or add per window element)"
_ADAPTIVE_RULE = "channels x the summed window sizes of PyTorch's adaptive bins"

def _pool_saves(fill: str, indices: bool) -> Callable[[Attrs, Shapes, Shape, Grads], tuple[Saved, ...]]:
    """The input the module reads (padded first, for `same`), and a max pool's argmax
    indices, int64, one per output element."""

    def saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
        if not g.inputs[0]:
            return ()
        kept = module_input(ins[0], _pool_pad(fill)(a, ins))
        return (kept, Saved(elements=numel(out), dtype="int64")) if indices else (kept,)

    return saves


def _adaptive_saves(indices: bool) -> Callable[[Attrs, Shapes, Shape, Grads], tuple[Saved, ...]]:
    """As a sliding pool; an average to one value per channel is a mean, whose gradient
    needs only sizes (PyTorch's shortcut)."""

    def saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
        if not g.inputs[0] or (not indices and all(n == 1 for n in out.spatial)):
            return ()
        return (Saved(0), Saved(elements=numel(out), dtype="int64")) if indices else (Saved(0),)

    return saves


def _sliding_pool(name: str, doc: str, torch_name: str, fill: str, dilation: bool) -> OpDef:
    """Max and average pooling: the same window, shape, field and work; their own module."""
    return op(name, doc, _pool_shape, attrs=_window_attrs(dilation=dilation), count_params=NO_WEIGHTS,
              count_macs=NO_MACS, other_flops=_window_work, flops_rule=_WINDOW_RULE, receptive_field=_pool_reach,
              saves=_pool_saves(fill, indices=name == "maxpool"),
              torch_module=_pool_torch(torch_name), torch_pad=_pool_pad(fill), window_text=written_window)


def _adaptive_pool(name: str, doc: str, torch_name: str) -> OpDef:
    return op(name, doc, _adaptive_shape, attrs=_ADAPTIVE, count_params=NO_WEIGHTS, count_macs=NO_MACS,
              other_flops=_adaptive_work, flops_rule=_ADAPTIVE_RULE, receptive_field=_adaptive_reach,
              saves=_adaptive_saves(indices=name == "adaptivemaxpool"), torch_module=_adaptive_torch(torch_name))


OPS = table(
    _sliding_pool("maxpool", "Max pooling (MaxPool1d/2d/3d); `s` defaults to `k`.", "MaxPool", "float('-inf')",
                  dilation=True),
    _sliding_pool("avgpool", "Average pooling (AvgPool1d/2d/3d); `s` defaults to `k`.", "AvgPool", "0.0",
                  dilation=False),
    _adaptive_pool("adaptiveavgpool", "Adaptive average pooling to `out` per axis.", "AdaptiveAvgPool"),
    _adaptive_pool("adaptivemaxpool", "Adaptive max pooling to `out` per axis.", "AdaptiveMaxPool"),
    op(
        "gap",
        "Global average pooling to C x 1 x 1 (AdaptiveAvgPool to 1).",
        _gap_shape,
        count_params=NO_WEIGHTS,
        count_macs=NO_MACS,
        other_flops=_gap_work,
        flops_rule="input elements",
        receptive_field=whole_reach,
        saves=_adaptive_saves(indices=False),
        torch_module=_adaptive_torch("AdaptiveAvgPool"),
    ),
)

__all__ = ["OPS", "adaptive_windows", "adaptive_window"]
