"""Layers that move values without weights: `flatten`, `identity`, `dropout`, `pad`,
`upsample`, `channelshuffle`, `pixelshuffle`."""

from __future__ import annotations

from fractions import Fraction
from math import floor, prod
from typing import Any

from ..ir import Shape
from .merge import axis_of
from .pool import adaptive_window, adaptive_windows
from .registry import (
    AXES,
    BOOLEAN,
    ELEMENTWISE,
    IDENTITY,
    INTEGER,
    MAX_AXIS,
    MERGED,
    NO_MACS,
    NO_OTHER_FLOPS,
    NO_WEIGHTS,
    PADDING,
    POSITIVE,
    PROBABILITY,
    SAVES_NOTHING,
    SCALE,
    Attr,
    Attrs,
    OpError,
    Reach,
    Shapes,
    Window,
    choice,
    numel,
    op,
    optional,
    per_axis,
    rounding,
    spatial_input,
    table,
    torch_class,
    window,
)
from .saved import Grads, Saved, reshaped, same


def _same(a: Attrs, ins: Shapes) -> Shape:
    return ins[0]


def _flatten(a: Attrs, ins: Shapes) -> Shape:
    x = ins[0]
    first, last = axis_of(a["start"], x.rank), axis_of(a["end"], x.rank)
    if first > last:
        raise OpError("invalid-argument", f"start={a['start']} comes after end={a['end']}")
    return Shape(x.dims[:first] + (prod(x.dims[first:last + 1]),) + x.dims[last + 1:])


def _flatten_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    """Each element is one input unit, moved; the flattened axes become one (MERGED)."""
    rank = ins[0].rank
    first, last = axis_of(a["start"], rank), axis_of(a["end"], rank)
    joined = (MERGED,) if last > first else (first,)
    return Reach((IDENTITY,) * (out.rank - 1), moves=(*range(first), *joined, *range(last + 1, rank)))


def _pad_sides(a: Attrs, x: Shape) -> tuple[tuple[int, int], ...]:
    """The (before, after) padding on each spatial axis: per side as written, or one per
    axis (or one for all) on both sides."""
    p = a["p"]
    per_side = isinstance(p, tuple) and isinstance(p[0], tuple)
    sides = p if per_side else tuple((v, v) for v in per_axis(p, x.rank - 1, "p"))
    if len(sides) != x.rank - 1:
        raise OpError("invalid-argument", f"p gives {len(sides)} [before, after] pairs for {x.rank - 1} spatial axes")
    return sides


def _pad_shape(a: Attrs, ins: Shapes) -> Shape:
    x = spatial_input(ins)
    if a["p"] == "same":
        raise OpError("invalid-argument", "pad takes explicit padding, not 'same'")
    sides = _pad_sides(a, x)
    for n, (b, e) in zip(x.spatial, sides):
        if a["mode"] == "reflect" and max(b, e) >= n:
            raise OpError("invalid-argument", f"reflect padding {max(b, e)} must be smaller than the input size {n}")
        if a["mode"] == "circular" and max(b, e) > n:
            raise OpError("invalid-argument", f"circular padding {max(b, e)} must not exceed the input size {n}")
    return Shape((x.channels, *(n + b + e for n, (b, e) in zip(x.spatial, sides))))


_MODE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_TAPS = {"linear": 2, "bilinear": 2, "bicubic": 4, "trilinear": 2}


def _upsample_shape(a: Attrs, ins: Shapes) -> Shape:
    x = spatial_input(ins)
    rank, mode = x.rank - 1, a["mode"]
    if _MODE_RANK.get(mode, rank) != rank:
        raise OpError("invalid-argument", f"mode {mode} needs {_MODE_RANK[mode]} spatial axes, the input has {rank}")
    if a["align_corners"] and mode not in _MODE_RANK:
        raise OpError("invalid-argument", "align_corners can only be set with linear, bilinear, bicubic or trilinear")
    if (a["scale"] is None) == (a["size"] is None):
        raise OpError("invalid-argument", "give exactly one of scale and size")
    if a["size"] is not None:
        return Shape((x.channels, *per_axis(a["size"], rank, "size")))
    # PyTorch computes floor(double(n) * scale); float arithmetic here reproduces it bit for bit
    products = tuple(float(n) * float(f) for n, f in zip(x.spatial, per_axis(a["scale"], rank, "scale")))
    for axis, product in enumerate(products, 1):
        if product > MAX_AXIS:  # maybe inf: refused before it becomes an integer
            raise OpError("too-large", f"scale {a['scale']} makes spatial axis {axis} {product:.4g} units, "
                                       f"more than 2^31 = {MAX_AXIS:,}")
    sizes = tuple(floor(p) for p in products)
    if min(sizes) < 1:
        raise OpError("non-positive-size", f"the output size would be {'x'.join(map(str, sizes))}")
    return Shape((x.channels, *sizes))


def _upsample_flops(a: Attrs, ins: Shapes, out: Shape) -> int:
    if a["mode"] == "area":
        return out.channels * prod(adaptive_windows(n, o) for n, o in zip(ins[0].spatial, out.spatial))
    taps = _TAPS.get(a["mode"], 0) ** (out.rank - 1)
    return 2 * taps * numel(out)


def _pad_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    return Reach(tuple(window(1, -before, -before) for before, _ in _pad_sides(a, ins[0])))


def _source_step(a: Attrs, n: int, out: int, scale: object) -> Fraction:
    """Input units per output unit, as PyTorch's interpolation computes source indices:
    1/scale when a scale is given, in/out for a size (or with align_corners)."""
    if a["align_corners"]:
        return Fraction(n - 1, out - 1) if out > 1 else Fraction(0)
    if scale is not None:
        return 1 / Fraction(str(scale))  # the decimal the spec wrote, exactly
    return Fraction(n, out)


def _interpolation_window(mode: str, step: Fraction, align_corners: bool) -> Window:
    """The source index of output o, as PyTorch computes it, and the taps read around it."""
    if mode == "nearest":  # floor(o*step)
        return window(step, -rounding(step), 0)
    if mode == "nearest-exact":  # floor((o + 1/2)*step)
        return window(step, step / 2 - rounding(step, step / 2), step / 2)
    offset = Fraction(0) if align_corners else (step - 1) / 2  # src = o*step + offset
    r = rounding(step, offset)
    if mode == "bicubic":  # taps floor(src) - 1 .. floor(src) + 2
        return window(step, offset - r - 1, offset + 2)
    return window(step, offset - r, offset + r)  # linear modes: floor(src) .. ceil(src)


def _upsample_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    rank = ins[0].rank - 1
    scales = per_axis(a["scale"], rank, "scale") if a["scale"] is not None else (None,) * rank
    return Reach(tuple(
        adaptive_window(n, o) if a["mode"] == "area"
        else _interpolation_window(a["mode"], _source_step(a, n, o, scale), a["align_corners"])
        for n, o, scale in zip(ins[0].spatial, out.spatial, scales)
    ))


def _pixel_shuffle_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    r = a["r"]
    lead = (window(r * r, 0, r * r - 1),) if ins[0].rank == 4 else ()  # the axis PyTorch divides
    return Reach(lead + (window(Fraction(1, r), -Fraction(r - 1, r), 0),) * 2)


def _channel_shuffle(a: Attrs, ins: Shapes) -> Shape:
    x = spatial_input(ins)
    if x.channels % a["g"]:
        raise OpError("groups-mismatch", f"g={a['g']} must divide the channels {x.channels}")
    return x


def _pixel_shuffle(a: Attrs, ins: Shapes) -> Shape:
    # PyTorch shuffles the last three axes whatever comes before them: on C x D x H x W the
    # "channels" it divides are D. One spatial axis would make the batch the channels.
    x, r = spatial_input(ins, 2, 3), a["r"]
    depth, h, w = x.dims[-3:]
    if depth % (r * r):
        raise OpError("groups-mismatch", f"r*r={r * r} must divide {depth}, the third axis from the end")
    return Shape(x.dims[:-3] + (depth // (r * r), h * r, w * r))


def _pad_torch(a: Attrs, ins: Shapes) -> str:
    """The exporter's Pad module: (before, after) per spatial axis."""
    return f"Pad({_pad_sides(a, ins[0])}, mode={'constant' if a['mode'] == 'zeros' else a['mode']!r})"


def _upsample_torch(a: Attrs, ins: Shapes) -> str:
    scale = a["scale"]
    scale = tuple(float(v) for v in scale) if isinstance(scale, tuple) else None if scale is None else float(scale)
    corners = a["align_corners"] if a["mode"] in ("linear", "bilinear", "bicubic", "trilinear") else None
    return f"nn.Upsample(size={a['size']}, scale_factor={scale}, mode={a['mode']!r}, align_corners={corners})"


def _dropout_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """On the CPU, training-mode dropout multiplies by a scaled random mask of the input's
    shape and type (CUDA's fused kernel keeps a 1-byte mask instead); p=0 is the input
    itself, p=1 a product with the 0-d zero."""
    if not g.inputs[0] or a["p"] == 0:
        return ()
    return (Saved(fixed=1),) if a["p"] == 1 else (Saved(elements=numel(ins[0])),)


def _pad_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """Reflection and replication keep the input (their gradients gather by its positions);
    zeros and circular padding are copies."""
    return (Saved(0),) if g.inputs[0] and a["mode"] in ("reflect", "replicate") else ()


def _upsample_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """Interpolation's gradient needs sizes only; `area` is adaptive average pooling, which
    keeps its input unless it averages to one value (a mean)."""
    area = a["mode"] == "area" and any(n != 1 for n in out.spatial)
    return (Saved(0),) if g.inputs[0] and area else ()


# ops that only move or copy values: no weights, no arithmetic, nothing kept for backward
_MOVES_VALUES: dict[str, Any] = {"count_params": NO_WEIGHTS, "count_macs": NO_MACS, "other_flops": NO_OTHER_FLOPS,
                                 "saves": SAVES_NOTHING}

OPS = table(
    op("identity", "Passes its input through.", _same, **_MOVES_VALUES, receptive_field=ELEMENTWISE,
       torch_module=torch_class("Identity"), reads="any", view=same),
    op(
        "dropout",
        "Dropout; a no-op for shapes and at inference.",
        _same,
        attrs={"p": Attr(PROBABILITY, 0.5)},
        **{**_MOVES_VALUES, "saves": _dropout_saves, "keeps_layout": True},
        receptive_field=ELEMENTWISE,
        torch_module=lambda a, ins: f"nn.Dropout({a['p']})",
    ),
    op(
        "flatten",
        "Flatten axes `start`..`end` (PyTorch's dims: batch included, so start=1 keeps the batch).",
        _flatten,
        attrs={"start": Attr(INTEGER, 1, aliases=("start_dim",)), "end": Attr(INTEGER, -1, aliases=("end_dim",))},
        **_MOVES_VALUES,
        receptive_field=_flatten_reach,
        torch_module=lambda a, ins: f"nn.Flatten({a['start']}, {a['end']})",
        reads="any",
        view=reshaped,
    ),
    op(
        "pad",
        "Explicit padding (per axis or per side), zeros/reflect/replicate/circular.",
        _pad_shape,
        attrs={
            "p": Attr(PADDING, aliases=("padding",)),
            "mode": Attr(choice("zeros", "reflect", "replicate", "circular"), "zeros"),
        },
        **{**_MOVES_VALUES, "saves": _pad_saves},
        receptive_field=_pad_reach,
        torch_module=_pad_torch,
    ),
    op(
        "upsample",
        "Upsampling by `scale` or to `size` (nn.Upsample).",
        _upsample_shape,
        attrs={
            "scale": Attr(optional(SCALE), None, aliases=("scale_factor",)),
            "size": Attr(optional(AXES), None),
            "mode": Attr(
                choice("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"), "nearest"
            ),
            "align_corners": Attr(BOOLEAN, False),
        },
        count_params=NO_WEIGHTS,
        count_macs=NO_MACS,
        other_flops=_upsample_flops,
        receptive_field=_upsample_reach,
        saves=_upsample_saves,
        flops_rule="2 per tap per output element (linear modes 2 taps per axis, bicubic 4; nearest 0; "
        "area as adaptive pooling)",
        torch_module=_upsample_torch,
    ),
    op(
        "channelshuffle",
        "Channel shuffle in `g` groups.",
        _channel_shuffle,
        attrs={"g": Attr(POSITIVE, aliases=("groups",))},
        **_MOVES_VALUES,
        receptive_field=ELEMENTWISE,  # channels reordered, positions kept
        torch_module=lambda a, ins: f"nn.ChannelShuffle({a['g']})",
    ),
    op(
        "pixelshuffle",
        "Pixel shuffle: C x H x W -> C/r^2 x rH x rW.",
        _pixel_shuffle,
        attrs={"r": Attr(POSITIVE, aliases=("upscale_factor",))},
        **_MOVES_VALUES,
        receptive_field=_pixel_shuffle_reach,
        torch_module=lambda a, ins: f"nn.PixelShuffle({a['r']})",
    ),
)
