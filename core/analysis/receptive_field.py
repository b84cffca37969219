"""Receptive fields, front to back, per spatial axis of the network's (first) input.

Conventions: input pixel i has its centre at i. For each layer and axis:
- `size` r: how many input pixels one unit sees;
- `jump` j: input pixels between neighbouring units (an exact fraction after upsampling);
- `start`: the centre of the layer's first unit, in input pixels;
- `padding` P = (r - 1)/2 - start: the effective padding, so that the layer equals one
  convolution of kernel r, stride j and padding P on the input (for plain stacks, the sum
  of each layer's padding times the jumps before it).
Through a window (stride s, centre c, extent e):  r += e*j;  start += c*j;  j *= s.
At a merge the field is the union of the branches' fields. A layer that depends on the
whole input is flagged `global`; its field is still followed through local paths, and is
the whole input only where none exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping

from ..diagnostics import Diagnostic, warning
from ..ir import Graph, Layer, Shape
from ..ops import LOOKUP
from ..ops.registry import Number, Reach, Window, exact

IDENTITY = Window()


REFINE_BUDGET = 5_000_000  # layer visits spent on exact sizes after fractional strides


@dataclass(frozen=True, slots=True)
class Field:
    size: tuple[Number, ...]
    jump: tuple[Number, ...]
    start: tuple[Number, ...]
    is_global: bool = False
    local: bool = True  # False: no local path, the size is the whole input
    rounded: bool = False  # a fractional stride upstream rounds unit positions (see refine)

    @property
    def padding(self) -> tuple[Number, ...]:
        return tuple(exact(Fraction(r - 1, 2) - start) for r, start in zip(self.size, self.start))


def input_field(rank: int) -> Field:
    return Field((1,) * rank, (1,) * rank, (0,) * rank)


def whole_field(extent: tuple[int, ...]) -> Field:
    """Every unit sees the whole input: one window over all of it."""
    return Field(extent, extent, tuple(exact(Fraction(n - 1, 2)) for n in extent), True, False)


def through(field: Field, windows: tuple[Window, ...]) -> Field:
    if not field.local or len(windows) != len(field.size) or all(w == IDENTITY for w in windows):
        return field  # elementwise, or a flat or differently shaped map: the field it had
    return Field(
        tuple(r + w.extent * j for r, j, w in zip(field.size, field.jump, windows)),
        tuple(exact(j * w.stride) for j, w in zip(field.jump, windows)),
        tuple(exact(start + w.centre * j) for start, j, w in zip(field.start, field.jump, windows)),
        field.is_global,
        rounded=field.rounded or any(isinstance(w.stride, Fraction) for w in windows),
    )


def union(fields: list[Field]) -> Field:
    """The union of the branches' fields, centred on the union."""
    first = fields[0]
    if len(fields) == 1:
        return first
    size, start = [], []
    for axis in range(len(first.size)):
        low = min(f.start[axis] - Fraction(f.size[axis] - 1, 2) for f in fields)
        high = max(f.start[axis] + Fraction(f.size[axis] - 1, 2) for f in fields)
        size.append(exact(high - low + 1))
        start.append(exact((low + high) / 2))
    return Field(tuple(size), first.jump, tuple(start), any(f.is_global for f in fields),
                 rounded=any(f.rounded for f in fields))


class FieldPass:
    """Fields of every layer, in topological order."""

    def __init__(self, graph: Graph, shapes: Mapping[str, Shape | None]) -> None:
        self.graph, self.shapes = graph, shapes
        frame = graph.inputs[0]
        self.extent = frame.shape.spatial
        # other inputs lie outside the frame of reference: merges ignore their fields
        self.fields: dict[str, Field | None] = {i.name: None for i in graph.inputs}
        self.fields[frame.name] = input_field(len(self.extent))
        self.diags: list[Diagnostic] = []
        self._reach: dict[tuple[object, ...], Reach] = {}  # pure rules: once per distinct layer

    def reach(self, layer: Layer) -> Reach:
        ins = tuple(self.shapes[name] for name in layer.inputs)
        out = self.shapes[layer.name]
        key = (layer.op, id(layer.attrs), ins, out)
        if key not in self._reach:
            self._reach[key] = LOOKUP[layer.op].receptive_field(layer.attrs, ins, out)  # type: ignore[arg-type]
        return self._reach[key]

    def run(self) -> dict[str, Field | None]:
        for layer in self.graph.layers:
            self.fields[layer.name] = self.field(layer)
        self.refine()
        return self.fields

    def refine(self) -> None:
        """After a transposed convolution or an upsampling, unit o reads input floor(o/s)
        rather than o/s: the affine recurrence no longer gives the largest field over
        positions once such windows compound (a U-Net decoder). There the size is taken
        from the back-to-front region of one unit, which takes the worst phase at every
        window and matches PyTorch's gradients. Within REFINE_BUDGET layer visits."""
        rounded = [(i, l) for i, l in enumerate(self.graph.layers) if (f := self.fields[l.name]) and f.rounded and f.local]
        if sum(i for i, _ in rounded) > REFINE_BUDGET:
            return
        frame = self.graph.inputs[0].name
        for _, layer in rounded:
            field = self.fields[layer.name]
            region = regions_from_back(self.graph, self.shapes, layer.name, 1, self).get(frame)
            if field is not None and region is not None and len(region) == len(field.size):
                size = tuple(map(max, field.size, region))
                self.fields[layer.name] = Field(size, field.jump, field.start, field.is_global, True, True)

    def field(self, layer: Layer) -> Field | None:
        reach = self.reach(layer)
        branches = [(name, self.fields[name]) for name in layer.inputs if self.fields[name] is not None]
        if not branches:
            return None
        if reach.windows is None:
            return whole_field(self.extent)
        fields = [through(f, reach.windows) for _, f in branches]  # type: ignore[arg-type]
        local = [(name, f) for (name, _), f in zip(branches, fields) if f.local]
        if not local:
            return whole_field(self.extent)
        self.check_alignment(layer, local)
        merged = union([f for _, f in local])
        flagged = reach.whole or any(f.is_global for f in fields)
        return merged if merged.is_global == flagged else Field(
            merged.size, merged.jump, merged.start, flagged, rounded=merged.rounded)

    def check_alignment(self, layer: Layer, branches: list[tuple[str, Field]]) -> None:
        (first_name, first), rest = branches[0], branches[1:]
        for name, other in rest:
            if other.jump != first.jump or other.start != first.start:
                offset = ", ".join(str(exact(b - a)) for a, b in zip(first.start, other.start))
                jumps = "" if other.jump == first.jump else (
                    f"; jumps {format_tuple(first.jump)} and {format_tuple(other.jump)}")
                self.diags.append(warning(
                    "misaligned-merge",
                    f"layer '{layer.name}' ({layer.op}) merges '{first_name}' and '{name}', whose units are "
                    f"centred {offset} input pixels apart{jumps}",
                    layer.span,
                ))
                return


def format_tuple(values: tuple[Number, ...]) -> str:
    return "x".join(str(v) for v in values)


def receptive_fields(graph: Graph, shapes: Mapping[str, Shape | None]) -> tuple[dict[str, Field | None], list[Diagnostic]]:
    fields_pass = FieldPass(graph, shapes)
    return fields_pass.run(), fields_pass.diags


def regions_from_back(
    graph: Graph, shapes: Mapping[str, Shape | None], layer: str, size: int, fields_pass: FieldPass | None = None
) -> dict[str, tuple[int, ...]]:
    """Back to front: the region (units per axis) that `size` units of `layer` cover in the
    output of every layer before it, down to the inputs: R(i-1) = (R(i) - 1)*s + k_eff,
    with (R - 1)*s rounded up where s is a fraction (transposed convolution, upsampling).
    Through branches the largest region over paths is kept; the region is not clipped to
    the map (it may reach into the padding)."""
    target = shapes[layer]
    assert target is not None
    regions: dict[str, tuple[int, ...]] = {layer: (size,) * (target.rank - 1)}
    fields_pass = fields_pass or FieldPass(graph, shapes)
    index = next(i for i, l in enumerate(graph.layers) if l.name == layer)
    for current in reversed(graph.layers[: index + 1]):
        region = regions.get(current.name)
        if region is None:
            continue
        windows = fields_pass.reach(current).windows
        for name in current.inputs:
            before = _region_before(region, windows, shapes[name])  # type: ignore[arg-type]
            regions[name] = tuple(map(max, regions.get(name, before), before))
    return regions


def _region_before(region: tuple[int, ...], windows: tuple[Window, ...] | None, source: Shape) -> tuple[int, ...]:
    if windows is None or len(windows) != len(region) or len(windows) != source.rank - 1:
        return source.spatial  # no local path, or a flattened map: all of it
    return tuple(-(-(r - 1) * w.stride // 1) + w.extent + 1 for r, w in zip(region, windows))
