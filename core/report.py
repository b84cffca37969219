"""Report: a graph with its shapes, costs and diagnostics, and the records every output
format is rendered from (`rows`, `as_records`). Batch size and dtype are applied here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

from .analysis.cost import Cost
from .analysis.receptive_field import Axes, Field, regions_from_back
from .analysis.training import Training
from .diagnostics import Diagnostic, has_errors
from .dtypes import COUNTER_BYTES, DTYPE_BYTES, TENSOR_BYTES
from .ir import Graph, Layer, Shape
from .ops import LOOKUP


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
    field: Field | None
    window: str
    shares: str | None = None  # the layer whose module (or tied weight) it calls again
    members: range = range(0)  # the indices of its layers in graph.layers (consecutive)
    container: bool = False  # a block use's row above its own rows (the tree view), summing them


@dataclass(frozen=True, slots=True)
class Report:
    graph: Graph
    shapes: Mapping[str, Shape | None]
    costs: Mapping[str, Cost]
    diagnostics: tuple[Diagnostic, ...]
    fields: Mapping[str, Field | None] = field(default_factory=dict)
    # per layer, per axis: the input axis whose positions it holds (None: features)
    axes: Mapping[str, Axes] = field(default_factory=dict)

    def shape(self, name: str) -> Shape:
        """The shape of a layer of a valid report (every layer has one)."""
        shape = self.shapes[name]
        assert shape is not None, f"{name} has no shape: the report has errors"
        return shape

    @property
    def ok(self) -> bool:
        return not has_errors(list(self.diagnostics))

    def rows(self, depth: int | None = None, tree: bool = False) -> list[Row]:
        """One row per layer; with `depth` (torchinfo's: top-level layers and blocks are at
        depth 1), everything nested deeper folds into its enclosing block at that depth.
        `tree`: each block use above the rows also has a row, before its own, summing them
        (torchinfo's container rows); totals are the layers' rows alone."""
        block_type = {b.name: b.block for b in self.graph.blocks}
        windows: dict[int, str] = {}  # identical layers share one attrs mapping
        rows: list[Row] = []
        containers: list[int] = []  # the rows of the block uses open above the current layer
        group: str | None = None
        for index, layer in enumerate(self.graph.layers):
            shape, cost = self.shapes[layer.name], self.costs[layer.name]
            assert shape is not None
            path = layer.block_path
            rf = self.fields.get(layer.name)
            if tree:
                above = path if depth is None else path[: depth - 1]
                if _open_containers(rows, containers, above, block_type, layer, index):
                    group = None
                for i in containers:
                    row = rows[i]
                    rows[i] = row._replace(shape=shape, cost=row.cost + cost, field=rf,
                                           members=range(row.members.start, index + 1))
            if depth is None or len(path) < depth:
                window = windows.get(id(layer.attrs))
                if window is None:
                    window = windows[id(layer.attrs)] = LOOKUP[layer.op].window_text(layer.attrs or {})
                rows.append(Row(layer.name, layer.op, layer.inputs, shape, cost, len(path), layer.span.line,
                                layer.span.col, rf, window, layer.shares, range(index, index + 1)))
                group = None
                continue
            name = path[depth - 1]
            if group == name:
                last = rows[-1]
                rows[-1] = last._replace(shape=shape, cost=last.cost + cost, field=rf,
                                         members=range(last.members.start, index + 1))
            else:
                rows.append(Row(name, block_type.get(name, "block"), layer.inputs, shape, cost, depth - 1,
                                layer.span.line, layer.span.col, rf, "", members=range(index, index + 1)))
                group = name
        return rows

    def window_target(self, name: str | None) -> tuple[str, str | None]:
        """The layer whose units `rf --from-back` and `map` read for `name`, and a note
        when it is not the one named: a block use reads as its last layer; without a name,
        the network's output, or the last layer with spatial axes when the output has none
        (a classifier's). Raises ValueError when there is no such layer."""
        from .diagnostics import did_you_mean

        if name is None:
            return self._last_spatial_layer()
        layer = self._block_output(name) or name
        if layer not in self.shapes or layer in {i.name for i in self.graph.inputs}:
            names = [layer.name for layer in self.graph.layers] + [b.name for b in self.graph.blocks]
            hint = did_you_mean(name, names)
            raise ValueError(f"no layer '{name}' in {self.graph.name}" + (f"; {hint}" if hint else ""))
        if self._spatial(layer) is None:
            raise ValueError(f"layer '{layer}' has no spatial axes ({self.shapes[layer]})")
        return layer, (f"{name} is a block: its output is its last layer, {layer}" if layer != name else None)

    def _spatial(self, layer: str) -> Shape | None:
        shape = self.shapes.get(layer)
        return shape if shape is not None and shape.rank > 1 else None

    def _block_output(self, name: str) -> str | None:
        """The last layer of the block use `name` (None if no block use is so named)."""
        if name not in {b.name for b in self.graph.blocks}:
            return None
        return next((layer.name for layer in reversed(self.graph.layers) if name in layer.block_path), None)

    def _last_spatial_layer(self) -> tuple[str, str | None]:
        output = self.graph.output
        if self._spatial(output) is not None:
            return output, None
        layer = next((item.name for item in reversed(self.graph.layers) if self._spatial(item.name) is not None), None)
        if layer is None:
            raise ValueError(f"no layer of {self.graph.name} has spatial axes")
        return (
            layer,
            f"the output {output} ({self.shapes[output]}) has no spatial axes: from {layer}, the last that has",
        )

    def total(self) -> Cost:
        return sum(self.costs.values(), Cost())

    def as_records(self, batch: int = 1, dtype: str = "float32", depth: int | None = None, *,
                   types: Mapping[str, str] | None = None, columns: bool = False,
                   training: Training | None = None, tree: bool = False) -> dict[str, Any]:
        """The JSON document (a stable schema: later commands add keys, never rename).
        `types`: a type per layer name shown instead of the op's (`export.torch_types`: the
        PyTorch classes); block rows keep their block's. `columns`: every layer also gets
        the figures only `--columns` shows (`column_figures`). `training`: every layer gets
        `saved_bytes`, the totals the training memory (`analysis.training`). `tree`: block
        uses' container rows among the layers (`rows`), marked `"container": true`."""
        size = DTYPE_BYTES[dtype]
        rows = self.rows(depth, tree)
        layers = [
            {
                "name": r.name,
                "type": types.get(r.name, r.type) if types else r.type,
                "inputs": list(r.inputs),
                "shape": list(r.shape.dims),
                "params": r.cost.params,
                "buffers": r.cost.buffers,
                "macs": r.cost.macs * batch,
                "flops": r.cost.flops * batch,
                "activation_bytes": r.cost.activation_bytes(size) * batch,
                "depth": r.depth,
                "line": r.line,
                "col": r.col,
                "window": r.window,
                "rf": field_record(r.field),
                "trainable_params": r.cost.params - r.cost.frozen_params,
                **({} if r.shape.dtype == "float32" else {"dtype": r.shape.dtype}),
                **({"shares": r.shares} if r.shares else {}),
                **({"container": True} if r.container else {}),
            }
            for r in rows
        ]
        if columns:
            total = self.total().params
            for r, layer in zip(rows, layers, strict=True):
                layer.update(column_figures(r, self.shapes, total))
        totals = self.totals(batch, dtype)
        if training is not None:
            per_layer, recomputed = training.saved(self.graph, self.shapes, batch, dtype)
            saved = list(per_layer.values())
            for r, layer in zip(rows, layers, strict=True):
                layer["saved_bytes"] = sum(saved[r.members.start:r.members.stop])
            totals.update(training.totals(self.total(), sum(saved), dtype, recomputed))
        typed = {i.name: i.shape.dtype for i in self.graph.inputs if i.shape.dtype != "float32"}
        return {
            "name": self.graph.name,
            "input": {i.name: list(i.shape.dims) for i in self.graph.inputs},
            **({"input_dtypes": typed} if typed else {}),
            "output": list(self.shape(self.graph.output).dims),
            "output_layer": self.graph.output,
            **({"outputs": {name: list(self.shape(name).dims) for name in self.graph.outputs}}
               if len(self.graph.outputs) > 1 else {}),
            "batch": batch,
            "dtype": dtype,
            "layers": layers,
            "totals": totals,
            **({"training": training.record(dtype)} if training is not None else {}),
        }

    def kv_cache(self) -> tuple[int, int]:
        """Elements a causal decoder caches per position, and at the spec's sequence length
        (keys and values of every causal attention layer, at the length they read)."""
        per_position = at_length = 0
        for layer in self.graph.layers:
            rule = LOOKUP[layer.op].cached_per_position
            if rule is not None:
                ins = tuple(self.shape(name) for name in layer.inputs)
                cached = rule(layer.attrs or {}, ins)
                per_position += cached
                at_length += cached * ins[-1].dims[0]
        return per_position, at_length

    def totals(self, batch: int = 1, dtype: str = "float32") -> dict[str, int]:
        size = DTYPE_BYTES[dtype]
        t = self.total()
        per_position, at_length = self.kv_cache()
        cache = {"kv_cache_bytes_per_token": per_position * size * batch, "kv_cache_bytes": at_length * size * batch}
        input_bytes = sum(i.shape.numel * (size if i.shape.is_float else TENSOR_BYTES[i.shape.dtype])
                          for i in self.graph.inputs) * batch
        activation_bytes = t.activation_bytes(size) * batch
        param_bytes = t.params * size
        buffer_bytes = (t.buffers - t.counters) * size + t.counters * COUNTER_BYTES
        return {
            "layers": len(self.graph.layers),
            "params": t.params,
            "trainable_params": t.params - t.frozen_params,
            "non_trainable_params": t.frozen_params,
            "buffers": t.buffers,
            "macs": t.macs * batch,
            "flops": t.flops * batch,
            "input_bytes": input_bytes,
            "activation_bytes": activation_bytes,
            "param_bytes": param_bytes,
            "buffer_bytes": buffer_bytes,
            "total_bytes": input_bytes + activation_bytes + param_bytes + buffer_bytes,
            **(cache if per_position else {}),
        }


def _open_containers(rows: list[Row], containers: list[int], above: tuple[str, ...], block_type: Mapping[str, str],
                     layer: Layer, index: int) -> bool:
    """Close the container rows `layer` is not in, open a row for each block use above it
    that is not open yet (empty: the layers fill it); whether any was opened."""
    kept = 0
    while kept < min(len(containers), len(above)) and rows[containers[kept]].name == above[kept]:
        kept += 1
    del containers[kept:]
    for level in range(kept, len(above)):
        containers.append(len(rows))
        rows.append(Row(above[level], block_type.get(above[level], "block"), layer.inputs, Shape(()), Cost(), level,
                        layer.span.line, layer.span.col, None, "", members=range(index, index), container=True))
    return kept < len(above)


def column_figures(row: Row, shapes: Mapping[str, Shape | None], total_params: int) -> dict[str, Any]:
    """What `--columns` adds to a layer's record, as torchinfo's columns state it:
    `input_shapes`, the shapes the row reads (a folded block: its first layer's inputs);
    `kernel`, a window's kernel on every spatial axis, then its stride and padding
    (`7x7 s2 p3`; "" for a layer without a window);
    `params_percent`, its share of the network's parameters in percent (torchinfo's
    "Param %"; None without parameters); `trainable`, True, False, "partial" or None
    (no parameters), torchinfo's True/False/Partial/--."""
    params, frozen = row.cost.params, row.cost.frozen_params
    first = shapes.get(row.inputs[0]) if row.inputs else None
    return {
        "input_shapes": [list(shape.dims) for shape in (shapes[n] for n in row.inputs) if shape is not None],
        "kernel": kernel_text(row.window, first.rank - 1 if first is not None else 1),
        "params_percent": 100 * params / total_params if params and total_params else None,
        "trainable": None if not params else (not frozen or (False if frozen == params else "partial")),
    }


def kernel_text(window: str, axes: int) -> str:
    """`k7 s2 p3` as torchinfo users read a kernel: `7x7 s2 p3`, the kernel on every axis."""
    if not window.startswith("k"):
        return window
    kernel, _, rest = window.partition(" ")
    sizes = kernel[1:] if "x" in kernel else "x".join([kernel[1:]] * max(axes, 1))
    return f"{sizes} {rest}".rstrip()


def number(value: int | Fraction) -> int | str:
    """Exact numbers for JSON: integers as numbers, other fractions as "p/q"."""
    if isinstance(value, int) or not isinstance(value, Fraction):
        return value
    return int(value) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def field_record(f: Field | None) -> dict[str, Any] | None:
    if f is None:
        return None
    return {
        "size": [number(v) for v in f.size],
        "jump": [number(v) for v in f.jump],
        "start": [number(v) for v in f.start],
        "padding": [number(v) for v in f.padding],
        "global": f.is_global,
        **({"prefix": True} if f.prefix else {}),
    }


def from_back(report: Report, layer: str, size: int, note: str | None = None) -> dict[str, Any]:
    """The back-to-front document: the region `size` units of `layer` cover upstream
    (`note`: why that layer, when it was not named as such)."""
    regions = regions_from_back(report.graph, report.shapes, layer, size)
    order = [i.name for i in report.graph.inputs] + [layer.name for layer in report.graph.layers]
    types = {layer.name: layer.op for layer in report.graph.layers}
    return {
        "name": report.graph.name,
        "layer": layer,
        "note": note,
        "size": size,
        "layers": [
            {"name": n, "type": types.get(n, "input"), "shape": list(report.shapes[n].dims),  # type: ignore[union-attr]
             "region": list(regions[n])}
            for n in order if n in regions
        ],
    }


def mapping(report: Report, layer: str, at: tuple[int, ...] | None, pixel: tuple[int, ...] | None) -> dict[str, Any]:
    """The `map` document: the input box of unit `at` of `layer`, or the units of `layer`
    whose field holds input `pixel`. Raises ValueError for coordinates off the map."""
    from .analysis.mapping import Mapper, map_pixel, map_unit

    first = report.graph.inputs[0]
    if report.fields.get(layer) is None:
        raise ValueError(f"'{layer}' does not read the first input, '{first.name}', whose pixels map follows")
    mapper = Mapper(report.graph, dict(report.shapes), layer)
    if mapper.sizes is None:
        raise ValueError(f"'{layer}' holds no axes of positions of '{first.name}' (a flatten or reshape merged them): "
                         "map a layer before it")
    coordinates, bounds, what = (
        (at, mapper.sizes, f"a unit of {layer}") if at is not None else (pixel, mapper.extent, "an input pixel")
    )
    assert coordinates is not None
    if len(coordinates) != len(bounds) or not all(0 <= c < n for c, n in zip(coordinates, bounds)):
        raise ValueError(f"{','.join(map(str, coordinates))} is not {what}: the map is {'x'.join(map(str, bounds))}")
    rows = map_unit(mapper, at) if at is not None else map_pixel(mapper, pixel)  # type: ignore[arg-type]
    for row in rows:
        row.update({key: number(value) for key, value in row.items() if isinstance(value, Fraction)})
    return {"name": report.graph.name, "layer": layer, "layers": rows}


# --- the figures as people read them (the summary footer of the CLI and the Python API) ---


def human(n: int, unit: str = "") -> str:
    for size, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if n >= size:
            return f"{n / size:.2f} {suffix}{unit}"
    return f"{n} {unit}".rstrip()


def totals_footer(records: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The totals and memory lines under `netcalc summary`'s table: (label, text)."""
    t = records["totals"]
    per = f"batch {records['batch']}, {records['dtype']}"
    return [
        ("Layers", f"{t['layers']:,}"),
        ("Total params", f"{t['params']:,}"),
        ("Trainable params", f"{t['trainable_params']:,}"),
        ("Non-trainable params", f"{t['non_trainable_params']:,}"),
        ("Buffers", f"{t['buffers']:,}"),
        ("MACs", f"{t['macs']:,} ({human(t['macs'])})"),
        ("FLOPs", f"{t['flops']:,} ({human(t['flops'])})"),
        (f"Input size ({per}{'; ids and masks in their own types' if records.get('input_dtypes') else ''})",
         human(t["input_bytes"], "B")),
        ("Forward activations (every layer's output, no gradients)", human(t["activation_bytes"], "B")),
        ("Params size", human(t["param_bytes"], "B")),
        ("Buffers size", human(t["buffer_bytes"], "B")),
        ("Estimated total", human(t["total_bytes"], "B")),
        *([("KV cache per token (causal attention: keys and values)", human(t["kv_cache_bytes_per_token"], "B")),
           (f"KV cache at the input length ({per})", human(t["kv_cache_bytes"], "B"))]
          if "kv_cache_bytes" in t else []),
        *(training_footer(records) if "training" in records else []),
    ]


def training_footer(records: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The --train lines: each part of a training step's memory, then their sum."""
    t, settings = records["totals"], records["training"]
    master, states = settings["master_dtype"], settings["optimizer_states"]
    return [
        (f"Saved for backward (autograd, batch {records['batch']}, {records['dtype']})",
         human(t["saved_activation_bytes"], "B")),
        (f"Weights and buffers ({master})", human(t["master_param_bytes"] + t["master_buffer_bytes"], "B")),
        (f"Gradients ({settings['grad_dtype']})", human(t["gradient_bytes"], "B")),
        (f"Optimizer states ({settings['optimizer']}: {states} per trainable parameter, {master})",
         human(t["optimizer_state_bytes"], "B")),
        *([(f"Recomputed at the peak (one use of {settings['checkpoint']} at a time)",
            human(t["recomputed_bytes"], "B"))] if "checkpoint" in settings else []),
        ("Training step total (weights, buffers, gradients, states, saved"
         + (", recomputed)" if "checkpoint" in settings else ")"), human(t["train_memory_bytes"], "B")),
    ]
