"""Normalisation: `bn`, `ln`, `gn`, `instancenorm`, `lrn`, with PyTorch's parameters and
buffers (BatchNorm's running mean, running variance and int64 num_batches_tracked)."""

from __future__ import annotations

from math import prod
from typing import Any

from ..ir import Shape
from .registry import (
    BOOLEAN,
    ELEMENTWISE,
    NO_MACS,
    NO_WEIGHTS,
    NUMBER,
    POSITIVE,
    Attr,
    Attrs,
    OpError,
    Shapes,
    Weights,
    last_axes_statistics,
    numel,
    op,
    optional,
    spatial_input,
    statistics_reach,
    table,
    torch_nd,
)
from .saved import ACCUMULATE, Grads, Saved


def _channel_weights(a: Attrs, ins: Shapes) -> Weights:
    c = ins[0].channels
    affine = 2 * c if a["affine"] else 0
    tracked = 2 * c + 1 if a.get("track") else 0
    return Weights(affine, tracked, 1 if tracked else 0)


def _bn_shape(a: Attrs, ins: Shapes) -> Shape:
    return spatial_input(ins, 0, 3)


def _instance_shape(a: Attrs, ins: Shapes) -> Shape:
    x = spatial_input(ins, 1, 3)
    if not a["track"] and prod(x.spatial) == 1:
        # statistics of one value per instance: PyTorch refuses it (it would divide by zero)
        raise OpError("invalid-rank", f"instance statistics need more than 1 spatial element, got {x}")
    return x


def _gn_shape(a: Attrs, ins: Shapes) -> Shape:
    x, groups = ins[0], a["groups"]
    if x.channels % groups:
        raise OpError("groups-mismatch", f"groups={groups} must divide the channels {x.channels}")
    if x.numel // groups == 1:
        raise OpError("invalid-rank", f"each of the {groups} groups holds one value of {x}: PyTorch refuses it")
    return x


def _ln_shape(a: Attrs, ins: Shapes) -> Shape:
    if a["dims"] > ins[0].rank:
        raise OpError("invalid-argument", f"dims={a['dims']} but the input {ins[0]} has only {ins[0].rank} axes")
    return ins[0]


def _ln_weights(a: Attrs, ins: Shapes) -> Weights:
    """A weight and (unless bias=false, nn.LayerNorm's bias=False) a bias per normalised element."""
    return Weights((2 if a["bias"] else 1) * prod(ins[0].dims[-a["dims"]:]) if a["affine"] else 0)


def _ln_module(a: Attrs, ins: Shapes) -> str:
    bias = "" if a["bias"] else ", bias=False"
    return f"nn.LayerNorm({list(ins[0].dims[-a['dims'] :])}, eps={a['eps']}, elementwise_affine={a['affine']}{bias})"


def _bn_flops(a: Attrs, ins: Shapes, out: Shape) -> int:
    return 2 * numel(out)


def _statistics_flops(a: Attrs, ins: Shapes, out: Shape) -> int:
    return (4 + (2 if a["affine"] else 0)) * numel(out)


def _ln_flops(a: Attrs, ins: Shapes, out: Shape) -> int:
    """As `_statistics_flops`, the shift left out where there is no bias."""
    return (4 + ((2 if a["bias"] else 1) if a["affine"] else 0)) * numel(out)


def _lrn_shape(a: Attrs, ins: Shapes) -> Shape:
    return spatial_input(ins, 1, 3)


def _lrn_flops(a: Attrs, ins: Shapes, out: Shape) -> int:
    return (a["size"] + 3) * numel(out)


def _bn_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """Training mode normalises by the batch's statistics: the input, and the batch mean and
    inverse deviation per channel (whatever the batch size), in the accumulation type."""
    if not g.any:
        return ()
    c = ins[0].channels
    return Saved(0), Saved(fixed=c, dtype=ACCUMULATE), Saved(fixed=c, dtype=ACCUMULATE)


def _rows(a: Attrs, x: Shape) -> int:
    """The positions a layer norm normalises one at a time: one mean each."""
    return numel(x) // prod(x.dims[-a["dims"]:])


def _ln_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """The input as given (a permuted view keeps its memory), and a mean and an inverse
    deviation per normalised row."""
    if not g.any:
        return ()
    rows = _rows(a, ins[0])
    return Saved(0), Saved(elements=rows, dtype=ACCUMULATE), Saved(elements=rows, dtype=ACCUMULATE)


def _rmsnorm_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """nn.RMSNorm is composite: x * rsqrt(mean(x^2) + eps) * weight. The input's gradient
    reads x and the row's rsqrt; the weight's reads the normalised x, a new tensor."""
    kept = (Saved(0), Saved(elements=_rows(a, ins[0]))) if g.inputs[0] else ()
    return kept + ((Saved(elements=numel(ins[0])),) if a["affine"] and g.weights else ())


def _gn_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """The input, and a mean and an inverse deviation per group of each sample."""
    if not g.any:
        return ()
    return Saved(0), Saved(elements=a["groups"], dtype=ACCUMULATE), Saved(elements=a["groups"], dtype=ACCUMULATE)


def _instance_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """PyTorch runs a batch norm over 1 x (N*C) x ...: the input (a view), the statistics per
    channel of each sample, and the weight and running statistics repeated N times (the
    bias's gradient needs no value)."""
    if not g.any:
        return ()
    c = ins[0].channels
    repeats = (1 if a["affine"] else 0) + (2 if a["track"] else 0)
    return (Saved(0), Saved(elements=2 * c, dtype=ACCUMULATE)) + ((Saved(elements=repeats * c),) if repeats else ())


def _lrn_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """F.local_response_norm is composite: the input (squared, divided), the squares padded
    across channels (average-pooled), the pooled sum (raised to beta) and the divisor."""
    if not g.inputs[0]:
        return ()
    x = ins[0]
    padded = (x.channels + a["size"] - 1) * prod(x.spatial)
    return Saved(0), Saved(elements=padded), Saved(elements=numel(x)), Saved(elements=numel(x))


_AFFINE = Attr(BOOLEAN, True)
# PyTorch's defaults; they change no count, but the exported module must be the real one
_EPS = Attr(NUMBER, 1e-5)
_MOMENTUM = Attr(optional(NUMBER), 0.1)  # None: a cumulative average
_STATS_RULE = "4 per element (mean, variance, normalise), +2 if affine"

# normalisation by statistics over the map: no MACs, its FLOPs, and a field that is the
# position's own and, through the statistics, the whole map's
_STATISTICS: dict[str, Any] = {"count_macs": NO_MACS, "other_flops": _statistics_flops, "flops_rule": _STATS_RULE,
                               "receptive_field": statistics_reach, "saves": _gn_saves}

OPS = table(
    op(
        "bn",
        "Batch normalisation (BatchNorm1d/2d/3d), inference mode.",
        _bn_shape,
        attrs={"affine": _AFFINE, "track": Attr(BOOLEAN, True, aliases=("track_running_stats",)), "eps": _EPS,
               "momentum": _MOMENTUM},
        count_params=_channel_weights,
        count_macs=NO_MACS,
        other_flops=_bn_flops,
        receptive_field=ELEMENTWISE,  # inference mode: running statistics, one position at a time
        saves=_bn_saves,
        flops_rule="2 per element (scale and shift)",
        torch_module=lambda a, ins: (
            f"{torch_nd('BatchNorm', ins)}({ins[0].channels}, eps={a['eps']}, momentum={a['momentum']}, "
            f"affine={a['affine']}, track_running_stats={a['track']})"
        ),
    ),
    op(
        "ln",
        "Layer normalisation over the last `dims` axes; bias=false keeps the weight only "
        "(nn.LayerNorm(bias=False)).",
        _ln_shape,
        attrs={"dims": Attr(POSITIVE, 1), "affine": Attr(BOOLEAN, True, aliases=("elementwise_affine",)),
               "eps": _EPS, "bias": Attr(BOOLEAN, True)},
        count_params=_ln_weights,
        **{**_STATISTICS, "receptive_field": last_axes_statistics, "saves": _ln_saves, "other_flops": _ln_flops,
           "flops_rule": _STATS_RULE + " (+1 with bias=false: a scale, no shift)"},
        torch_module=_ln_module,
    ),
    op(
        "rmsnorm",
        "Root-mean-square normalisation over the last `dims` axes (nn.RMSNorm): a weight, no bias.",
        _ln_shape,
        attrs={"dims": Attr(POSITIVE, 1), "affine": Attr(BOOLEAN, True, aliases=("elementwise_affine",)),
               "eps": Attr(optional(NUMBER), None)},  # None: the dtype's epsilon, PyTorch's default
        count_params=lambda a, ins: Weights(prod(ins[0].dims[-a["dims"]:]) if a["affine"] else 0),
        count_macs=NO_MACS,
        other_flops=lambda a, ins, out: (3 + (1 if a["affine"] else 0)) * numel(out),
        flops_rule="3 per element (square, mean, normalise), +1 if affine",
        receptive_field=last_axes_statistics,
        saves=_rmsnorm_saves,
        torch_module=lambda a, ins: (
            f"nn.RMSNorm({list(ins[0].dims[-a['dims'] :])}, eps={a['eps']}, elementwise_affine={a['affine']})"
        ),
    ),
    op(
        "gn",
        "Group normalisation.",
        _gn_shape,
        attrs={"groups": Attr(POSITIVE, aliases=("num_groups",)), "affine": _AFFINE, "eps": _EPS},
        count_params=_channel_weights,
        **_STATISTICS,
        torch_module=lambda a, ins: (
            f"nn.GroupNorm({a['groups']}, {ins[0].channels}, eps={a['eps']}, affine={a['affine']})"
        ),
    ),
    op(
        "instancenorm",
        "Instance normalisation (InstanceNorm1d/2d/3d); PyTorch's defaults keep no parameters.",
        _instance_shape,
        attrs={"affine": Attr(BOOLEAN, False), "track": Attr(BOOLEAN, False, aliases=("track_running_stats",)),
               "eps": _EPS, "momentum": _MOMENTUM},
        count_params=_channel_weights,
        **{**_STATISTICS, "saves": _instance_saves},
        torch_module=lambda a, ins: (
            f"{torch_nd('InstanceNorm', ins)}({ins[0].channels}, eps={a['eps']}, momentum={a['momentum']}, "
            f"affine={a['affine']}, track_running_stats={a['track']})"
        ),
    ),
    op(
        "lrn",
        "Local response normalisation across channels; no parameters.",
        _lrn_shape,
        attrs={"size": Attr(POSITIVE), "alpha": Attr(NUMBER, 1e-4), "beta": Attr(NUMBER, 0.75), "k": Attr(NUMBER, 1.0)},
        count_params=NO_WEIGHTS,
        count_macs=NO_MACS,
        other_flops=_lrn_flops,
        receptive_field=ELEMENTWISE,  # across channels only
        saves=_lrn_saves,
        flops_rule="(size + 3) per element",
        torch_module=lambda a, ins: (
            f"nn.LocalResponseNorm({a['size']}, alpha={a['alpha']}, beta={a['beta']}, k={a['k']})"
        ),
    ),
)
