"""Receptive fields measured with torch gradients (tests only): positive weights, average
instead of max pooling, float64, and the gradient of chosen output units on the input."""

from __future__ import annotations

from fractions import Fraction

import torch
from torch import nn

from netcalc.core.ir import Graph, Shape
from torch_model import module_for


def _positive(module: nn.Module) -> nn.Module:
    for p in module.parameters():
        p.data.fill_(0.05)
    for name, b in module.named_buffers():
        if "running_var" in name:
            b.data.fill_(1.0)
    if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
        cls = {nn.MaxPool1d: nn.AvgPool1d, nn.MaxPool2d: nn.AvgPool2d, nn.MaxPool3d: nn.AvgPool3d}[type(module)]
        return cls(module.kernel_size, module.stride, module.padding, ceil_mode=module.ceil_mode)
    if isinstance(module, (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)):
        cls = {nn.AdaptiveMaxPool1d: nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool2d: nn.AdaptiveAvgPool2d,
               nn.AdaptiveMaxPool3d: nn.AdaptiveAvgPool3d}[type(module)]
        return cls(module.output_size)
    return module


def build(graph: Graph, shapes: dict[str, Shape | None]) -> list[tuple[str, tuple[str, ...], nn.Module]]:
    steps = []
    for layer in graph.layers:
        ins = tuple(shapes[name] for name in layer.inputs)
        steps.append((layer.name, layer.inputs, _positive(module_for(layer, ins)).double().eval()))  # type: ignore[arg-type]
    return steps


def measure(graph: Graph, shapes: dict[str, Shape | None], layer: str, units: list[tuple[int, ...]]) -> list[list[tuple[int, int]]]:
    """For each unit (spatial index) of `layer`: per input axis, the first and last input
    pixel with a non-zero gradient."""
    steps = build(graph, shapes)
    frame = graph.inputs[0]
    x = torch.rand(len(units), *frame.shape.dims, dtype=torch.float64) + 0.5
    x.requires_grad_(True)
    values = {frame.name: x}
    for name, inputs, module in steps:
        values[name] = module(*(values[i] for i in inputs))
        if name == layer:
            break
    out = values[layer]
    loss = sum(out[b, :, *unit].sum() for b, unit in enumerate(units))
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


def size_and_jump(graph: Graph, shapes: dict[str, Shape | None], layer: str, centre: tuple[int, ...],
                  step: int) -> tuple[list[int], list[Fraction]]:
    """Field size at the largest of `step` neighbouring units from `centre`, and the jump
    measured over `step` units (exact when step is the jump's denominator)."""
    units = [tuple(c + k for c in centre) for k in range(step + 1)]
    fields = measure(graph, shapes, layer, units)
    sizes = [max(f[axis][1] - f[axis][0] + 1 for f in fields[:step]) for axis in range(len(centre))]
    jumps = [Fraction(fields[step][axis][0] - fields[0][axis][0], step) for axis in range(len(centre))]
    return sizes, jumps
