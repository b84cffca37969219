"""Run a netcalc graph in torch one layer at a time (tests only): each layer becomes the
torch.nn module the exporter writes for it; running it gives every layer's output shape,
and its module gives parameter and buffer counts."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from netcalc.core.export import HEADER, module_code
from netcalc.core.ir import Graph, Layer, Shape

# the exporter's helpers (Pad, Block, ...), so that its constructors can be evaluated here
_EXPORTED: dict[str, Any] = {}
exec(HEADER.format(name="", file="", inputs=""), _EXPORTED)


class Merge(nn.Module):
    """add, mul and concat, which the exporter writes out in forward rather than as modules."""

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


def module_for(layer: Layer, ins: tuple[Shape, ...]) -> nn.Module:
    """The layer's torch module, as `netcalc export` writes it (one table of ops: the exporter's)."""
    code = module_code(layer, ins)
    if code is None:
        return Merge(layer.op, (layer.attrs or {}).get("dim", 1))
    return eval(code, _EXPORTED)


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
