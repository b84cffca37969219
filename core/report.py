"""Report: a graph with its shapes, costs and diagnostics, and the records every output
format is rendered from (`rows`, `as_records`). Batch size and dtype are applied here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

from .analysis.cost import Cost
from .diagnostics import Diagnostic, has_errors
from .ir import Graph, Shape

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}
COUNTER_BYTES = 8  # int64


class Row(NamedTuple):
    """A layer, or a block instance folded at `--depth`, with its summed cost."""

    name: str
    type: str
    inputs: tuple[str, ...]
    shape: Shape
    cost: Cost
    depth: int
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Report:
    graph: Graph
    shapes: Mapping[str, Shape | None]
    costs: Mapping[str, Cost]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not has_errors(list(self.diagnostics))

    def rows(self, depth: int | None = None) -> list[Row]:
        """One row per layer; with `depth` (torchinfo's: top-level layers and blocks are at
        depth 1), everything nested deeper folds into its enclosing block at that depth."""
        block_type = {b.name: b.block for b in self.graph.blocks}
        rows: list[Row] = []
        group: str | None = None
        for layer in self.graph.layers:
            shape, cost = self.shapes[layer.name], self.costs[layer.name]
            assert shape is not None
            path = layer.block_path
            if depth is None or len(path) < depth:
                rows.append(Row(layer.name, layer.op, layer.inputs, shape, cost, len(path), layer.span.line, layer.span.col))
                group = None
                continue
            name = path[depth - 1]
            if group == name:
                last = rows[-1]
                rows[-1] = Row(last.name, last.type, last.inputs, shape, last.cost + cost, last.depth, last.line, last.col)
            else:
                rows.append(Row(name, block_type.get(name, "block"), layer.inputs, shape, cost, depth - 1,
                                layer.span.line, layer.span.col))
                group = name
        return rows

    def total(self) -> Cost:
        return sum(self.costs.values(), Cost())

    def as_records(self, batch: int = 1, dtype: str = "float32", depth: int | None = None) -> dict[str, Any]:
        """The JSON document (a stable schema: later commands add keys, never rename)."""
        size = DTYPE_BYTES[dtype]
        layers = [
            {
                "name": r.name,
                "type": r.type,
                "inputs": list(r.inputs),
                "shape": list(r.shape.dims),
                "params": r.cost.params,
                "buffers": r.cost.buffers,
                "macs": r.cost.macs * batch,
                "flops": r.cost.flops * batch,
                "activation_bytes": r.cost.activations * batch * size,
                "depth": r.depth,
                "line": r.line,
                "col": r.col,
            }
            for r in self.rows(depth)
        ]
        return {
            "name": self.graph.name,
            "input": {i.name: list(i.shape.dims) for i in self.graph.inputs},
            "output": list(self.shapes[self.graph.output].dims),  # type: ignore[union-attr]
            "batch": batch,
            "dtype": dtype,
            "layers": layers,
            "totals": self.totals(batch, dtype),
        }

    def totals(self, batch: int = 1, dtype: str = "float32") -> dict[str, int]:
        size = DTYPE_BYTES[dtype]
        t = self.total()
        input_bytes = sum(i.shape.numel for i in self.graph.inputs) * batch * size
        activation_bytes = t.activations * batch * size
        param_bytes = t.params * size
        buffer_bytes = (t.buffers - t.counters) * size + t.counters * COUNTER_BYTES
        return {
            "layers": len(self.graph.layers),
            "params": t.params,
            "buffers": t.buffers,
            "macs": t.macs * batch,
            "flops": t.flops * batch,
            "input_bytes": input_bytes,
            "activation_bytes": activation_bytes,
            "param_bytes": param_bytes,
            "buffer_bytes": buffer_bytes,
            "total_bytes": input_bytes + activation_bytes + param_bytes + buffer_bytes,
        }
