"""Receptive fields measured with torch gradients (tests only): positive weights, average
instead of max pooling, float64, and the gradient of chosen output units on the input."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

import torch
from torch import nn

from netcalc.core.ir import Graph, Shape

from torch_model import module_for


def _positive(module: nn.Module) -> nn.Module:
    if isinstance(module, nn.Sequential):  # a pad then a pool or conv
        return nn.Sequential(*(_positive(m) for m in module))
    if type(module).__name__ == "Pad":
        module.value = 0.0  # a max pool's -inf padding, once the pool averages, would poison the sums
    for p in module.parameters():
        p.data.fill_(0.05)
    for name, b in module.named_buffers():
        if "running_var" in name:
            b.data.fill_(1.0)
    if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)) and module.dilation not in (1, (1,)):
        return _DilatedWindowSum(module)
    if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
        cls = {nn.MaxPool1d: nn.AvgPool1d, nn.MaxPool2d: nn.AvgPool2d, nn.MaxPool3d: nn.AvgPool3d}[type(module)]
        return cls(module.kernel_size, module.stride, module.padding, ceil_mode=module.ceil_mode)
    if isinstance(module, (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)):
        cls = {nn.AdaptiveMaxPool1d: nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool2d: nn.AdaptiveAvgPool2d,
               nn.AdaptiveMaxPool3d: nn.AdaptiveAvgPool3d}[type(module)]
        return cls(module.output_size)
    return module


class _DilatedWindowSum(nn.Module):
    """A dilated max pool's windows summed (average pools take no dilation): a depthwise
    convolution of ones with the pool's kernel, stride, padding and dilation."""

    def __init__(self, pool: nn.Module) -> None:
        super().__init__()
        assert not pool.ceil_mode, "ceil mode with dilation: no case needs it yet"
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rank = x.dim() - 2
        kernel = _per_axis(self.pool.kernel_size, rank)
        weight = torch.ones(x.shape[1], 1, *kernel, dtype=x.dtype)
        conv = {1: torch.nn.functional.conv1d, 2: torch.nn.functional.conv2d, 3: torch.nn.functional.conv3d}[rank]
        return conv(x, weight, None, self.pool.stride, self.pool.padding, self.pool.dilation, groups=x.shape[1])


def _per_axis(value: int | tuple[int, ...], rank: int) -> tuple[int, ...]:
    return (value,) * rank if isinstance(value, int) else tuple(value)


# channel arguments a skeleton resets, per op (adaptive pooling's `out` is a size: kept)
SKELETON = {"conv": {"out": 1, "g": 1}, "dwconv": {"out": None}, "convT": {"out": 1, "g": 1},
            "linear": {"out": 1}, "gn": {"groups": 1}, "channelshuffle": {"g": 1}, "prelu": {"per_channel": False}}


def _module(layer, values: dict[str, torch.Tensor], skeleton: bool) -> nn.Module:  # type: ignore[no-untyped-def]
    """The layer's module for the tensors it reads. A skeleton keeps every window but one
    channel per convolution (groups 1): fields do not depend on channel counts."""
    ins = tuple(Shape(tuple(values[name].shape[1:])) for name in layer.inputs)
    if skeleton:
        layer = replace(layer, attrs={**layer.attrs, **SKELETON.get(layer.op, {})})
    return _positive(module_for(layer, ins)).double().eval()


def measure(graph: Graph, shapes: dict[str, Shape | None], layer: str, units: list[tuple[int, ...]],
            skeleton: bool = False) -> list[list[tuple[int, int]]]:
    """For each unit (spatial index) of `layer`: per input axis, the first and last input
    pixel with a non-zero gradient."""
    frame = graph.inputs[0]
    channels = 1 if skeleton else frame.shape.channels
    x = torch.rand(len(units), channels, *frame.shape.spatial, dtype=torch.float64) + 0.5
    x.requires_grad_(True)
    values = {frame.name: x}
    for step in graph.layers:
        values[step.name] = _module(step, values, skeleton)(*(values[i] for i in step.inputs))
        if step.name == layer:
            break
    out = values[layer]
    loss = sum(out[(b, slice(None), *unit)].sum() for b, unit in enumerate(units))
    loss.backward()
    fields = []
    for b in range(len(units)):
        grad = x.grad[b].abs().sum(dim=0)
        axes = []
        for axis in range(grad.dim()):
            other = tuple(a for a in range(grad.dim()) if a != axis)
            hit = (grad.sum(dim=other) if other else grad).nonzero().flatten().tolist()
            axes.append((hit[0], hit[-1]))
        fields.append(axes)
    return fields


def size_and_jump(graph: Graph, shapes: dict[str, Shape | None], layer: str, first: int, step: int,
                  skeleton: bool = False) -> tuple[list[int], list[Fraction], bool]:
    """Measured over units first .. first + step (along every axis at once): the largest
    field size, the jump (the shift of the field over `step` units, divided by it), and
    whether any field touched the border of the input (a clipped, invalid measurement)."""
    rank = len(graph.inputs[0].shape.spatial)
    units = [(first + k,) * rank for k in range(step + 1)]
    fields = measure(graph, shapes, layer, units, skeleton)
    extent = graph.inputs[0].shape.spatial
    sizes = [max(f[axis][1] - f[axis][0] + 1 for f in fields[:step]) for axis in range(rank)]
    jumps = [Fraction(fields[step][axis][0] - fields[0][axis][0], step) for axis in range(rank)]
    clipped = any(lo <= 0 or hi >= extent[axis] - 1 for f in fields for axis, (lo, hi) in enumerate(f))
    return sizes, jumps, clipped
