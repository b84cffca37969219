"""Build a real torch model for a netcalc graph (tests only): the truth we compare with.

Each layer becomes the torch.nn module PyTorch users would write; running it gives every
layer's output shape, and its modules give parameter and buffer counts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from netcalc.core.ir import Graph, Layer, Shape

_ACTIVATIONS = {
    "relu": lambda a, x: nn.ReLU(),
    "relu6": lambda a, x: nn.ReLU6(),
    "leakyrelu": lambda a, x: nn.LeakyReLU(a["slope"]),
    "prelu": lambda a, x: nn.PReLU(x.channels if a["per_channel"] else 1),
    "elu": lambda a, x: nn.ELU(a["alpha"]),
    "gelu": lambda a, x: nn.GELU(approximate=a["approximate"]),
    "silu": lambda a, x: nn.SiLU(),
    "sigmoid": lambda a, x: nn.Sigmoid(),
    "hardsigmoid": lambda a, x: nn.Hardsigmoid(),
    "hardswish": lambda a, x: nn.Hardswish(),
    "tanh": lambda a, x: nn.Tanh(),
    "softmax": lambda a, x: nn.Softmax(a["dim"]),
}


class Merge(nn.Module):
    def __init__(self, op: str, dim: int = 1) -> None:
        super().__init__()
        self.op, self.dim = op, dim

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        if self.op == "concat":
            return torch.cat(xs, dim=self.dim)
        out = xs[0]
        for x in xs[1:]:
            out = out + x if self.op == "add" else out * x
        return out


class Pad(nn.Module):
    def __init__(self, sides: tuple[tuple[int, int], ...], mode: str = "constant") -> None:
        super().__init__()
        # F.pad lists the last axis first
        self.pad = tuple(v for before, after in reversed(sides) for v in (before, after))
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pad, mode=self.mode)


def _tuple(v: Any, rank: int) -> tuple[Any, ...]:
    return v if isinstance(v, tuple) else (v,) * rank


def _conv(a: dict[str, Any], x: Shape, groups: int, out: int) -> nn.Module:
    rank = x.rank - 1
    k, s, d = (_tuple(a[key], rank) for key in ("k", "s", "d"))
    conv_cls = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[rank - 1]
    p = a["p"]
    if p == "same" and all(si == 1 for si in s):
        return conv_cls(x.channels, out, k, 1, "same", d, groups, a["bias"])
    if p == "same" or (isinstance(p, tuple) and isinstance(p[0], tuple)):
        from netcalc.core.ops._window import side_padding

        sides = side_padding(p, x.spatial, k, s, d)
        return nn.Sequential(Pad(sides), conv_cls(x.channels, out, k, s, 0, d, groups, a["bias"]))
    return conv_cls(x.channels, out, k, s, p, d, groups, a["bias"])


def module_for(layer: Layer, ins: tuple[Shape, ...]) -> nn.Module:
    a, x = dict(layer.attrs or {}), ins[0]
    rank = x.rank - 1
    op = layer.op
    nd = lambda classes: classes[rank - 1]  # noqa: E731
    if op == "conv":
        return _conv(a, x, a["g"], a["out"])
    if op == "dwconv":
        return _conv(a, x, x.channels, a["out"] or x.channels)
    if op == "convT":
        return nd((nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d))(
            x.channels, a["out"], a["k"], a["s"], a["p"], a["op"], a["g"], a["bias"], a["d"])
    if op in ("maxpool", "avgpool") and a["p"] == "same":  # TensorFlow's SAME: pad, then pool
        from netcalc.core.ops._window import same_padding

        k, s, d = _tuple(a["k"], rank), _tuple(a["s"] or a["k"], rank), _tuple(a.get("d", 1), rank)
        sides = tuple(same_padding(*axis) for axis in zip(x.spatial, k, s, d))
        pool = module_for(replace(layer, attrs={**a, "p": 0}), ins)
        return nn.Sequential(Pad(sides), pool)
    if op == "maxpool":
        return nd((nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d))(a["k"], a["s"], a["p"], a["d"], ceil_mode=a["ceil"])
    if op == "avgpool":
        return nd((nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d))(a["k"], a["s"], a["p"], ceil_mode=a["ceil"])
    if op == "adaptiveavgpool":
        return nd((nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d))(a["out"])
    if op == "adaptivemaxpool":
        return nd((nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d))(a["out"])
    if op == "gap":
        return nd((nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d))(1)
    if op == "upsample":
        linear = a["mode"] in ("linear", "bilinear", "bicubic", "trilinear")
        scale = tuple(float(v) for v in a["scale"]) if isinstance(a["scale"], tuple) else a["scale"]
        scale = float(scale) if isinstance(scale, int) else scale
        return nn.Upsample(a["size"], scale, a["mode"], a["align_corners"] if linear else None)
    if op == "bn":
        cls = (nn.BatchNorm1d, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)[x.rank - 1]
        return cls(x.channels, affine=a["affine"], track_running_stats=a["track"])
    if op == "ln":
        return nn.LayerNorm(list(x.dims[-a["dims"]:]), elementwise_affine=a["affine"])
    if op == "gn":
        return nn.GroupNorm(a["groups"], x.channels, affine=a["affine"])
    if op == "instancenorm":
        return nd((nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d))(
            x.channels, affine=a["affine"], track_running_stats=a["track"])
    if op == "lrn":
        return nn.LocalResponseNorm(a["size"], a["alpha"], a["beta"], a["k"])
    if op in _ACTIVATIONS:
        return _ACTIVATIONS[op](a, x)
    if op == "dropout":
        return nn.Dropout(a["p"])
    if op == "flatten":
        return nn.Flatten(a["start"], a["end"])
    if op == "linear":
        return nn.Linear(x.dims[-1], a["out"], a["bias"])
    if op in ("add", "mul", "concat"):
        return Merge(op, a.get("dim", 1))
    if op == "identity":
        return nn.Identity()
    if op == "channelshuffle":
        return nn.ChannelShuffle(a["g"])
    if op == "pixelshuffle":
        return nn.PixelShuffle(a["r"])
    if op == "pad":
        p = a["p"]
        sides = p if isinstance(p, tuple) and isinstance(p[0], tuple) else tuple((v, v) for v in _tuple(p, rank))
        return Pad(sides, "constant" if a["mode"] == "zeros" else a["mode"])
    raise NotImplementedError(op)


def run(graph: Graph, shapes: dict[str, Shape | None]) -> dict[str, tuple[tuple[int, ...], int, int]]:
    """Per layer: (output shape without batch, parameters, buffers), measured in torch."""
    torch.manual_seed(0)
    values = {i.name: torch.rand(1, *i.shape.dims) for i in graph.inputs}
    measured = {}
    with torch.no_grad():
        for layer in graph.layers:
            ins = tuple(shapes[name] for name in layer.inputs)
            module = module_for(layer, ins).eval()  # type: ignore[arg-type]
            out = module(*(values[name] for name in layer.inputs))
            values[layer.name] = out
            params = sum(p.numel() for p in module.parameters())
            buffers = sum(b.numel() for b in module.buffers())
            measured[layer.name] = (tuple(out.shape[1:]), params, buffers)
    return measured
