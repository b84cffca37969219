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

from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from math import lcm

from ..diagnostics import Diagnostic, finding
from ..ir import Graph, Layer, Shape
from ..ops import LOOKUP
from ..ops.registry import IDENTITY, MERGED, Number, Reach, Window, exact

REFINE_BUDGET = 250_000  # layer visits spent on exact sizes after fractional strides: 0.1 s at most


@dataclass(frozen=True, slots=True)
class Field:
    size: tuple[Number, ...]
    jump: tuple[Number, ...]
    start: tuple[Number, ...]
    is_global: bool = False
    local: bool = True  # False: no local path, the size is the whole input
    rounded: bool = False  # a fractional stride upstream rounds unit positions (see refine)
    prefix: bool = False  # global through causal attention or one-directional recurrence: the prefix

    @property
    def padding(self) -> tuple[Number, ...]:
        return tuple(_half_less(r - 1, start) for r, start in zip(self.size, self.start))


def _half_less(twice: Number, start: Number) -> Number:
    return exact(_half(twice) - start)


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
        rounded=field.rounded or any(not isinstance(w.stride, int) for w in windows),
    )


def _half(x: Number) -> Number:
    """x / 2, as an int when it is one (the common case, and far faster than Fraction)."""
    return x // 2 if isinstance(x, int) and x % 2 == 0 else exact(Fraction(x) / 2)


def union(fields: list[Field]) -> Field:
    """The union of the branches' fields, centred on the union."""
    first = fields[0]
    if len(fields) == 1:
        return first
    size, start = [], []
    for axis in range(len(first.size)):
        low = min(f.start[axis] - _half(f.size[axis] - 1) for f in fields)
        high = max(f.start[axis] + _half(f.size[axis] - 1) for f in fields)
        size.append(exact(high - low + 1))
        start.append(_half(low + high))
    return Field(tuple(size), first.jump, tuple(start), any(f.is_global for f in fields),
                 rounded=any(f.rounded for f in fields))


# Per axis of a tensor: the frame axis whose positions it holds, None for features
# (channels, a token's D), MERGED for several frame axes in one (a flattened map).
Axes = tuple[int | None, ...]


def frame_axes(shape: Shape) -> Axes:
    """The network input's axes: an image's channels hold no position, its spatial axes
    do; every axis of token ids holds positions (a sequence of 128 ids, a 16 x 16 grid)."""
    if shape.is_float:
        return (None, *range(shape.rank - 1))
    return tuple(range(shape.rank))


def holds_positions(axes: Axes, chosen: tuple[int, ...]) -> bool:
    return any(axes[i] is not None for i in chosen if i < len(axes))


def moved(axes: Axes | None, reach: Reach, out: Shape | None) -> Axes:
    """The output's axes: as the op moves them, else as the input's (same rank), else every
    axis MERGED where the input held positions."""
    if axes is None or out is None:
        return ()
    if reach.moves is None:
        if len(axes) == out.rank:
            return axes
        return (MERGED if holds_positions(axes, tuple(range(len(axes)))) else None,) * out.rank
    used = {m for m in reach.moves if m is not None and m != MERGED}
    merged = MERGED if holds_positions(axes, tuple(i for i in range(len(axes)) if i not in used)) else None
    return tuple(None if m is None else merged if m == MERGED else axes[m] for m in reach.moves)


class FieldPass:
    """Fields of every layer, in topological order."""

    def __init__(self, graph: Graph, shapes: Mapping[str, Shape | None]) -> None:
        self.graph, self.shapes = graph, shapes
        frame = graph.inputs[0]
        self.axes: dict[str, Axes] = {frame.name: frame_axes(frame.shape)}
        self.extent = tuple(n for n, axis in zip(frame.shape.dims, self.axes[frame.name]) if axis is not None)
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
        rather than o/s, and the affine recurrence no longer bounds the field once such
        windows compound with others. There the size is computed exactly: each unit of one
        period is followed back through every window to the input, and the widest is kept
        (what PyTorch's gradients show). Within REFINE_BUDGET layer visits; past it, one unit
        is followed with each window taken where it reads the most (`Window.widest_sources`:
        along a chain an upper bound), and once even that is past it, the recurrence stays."""
        frame = self.graph.inputs[0].name
        budget = REFINE_BUDGET
        for index, layer in enumerate(self.graph.layers):
            field = self.fields[layer.name]
            if field is None or not field.rounded or not field.local:
                continue
            units = period(self.fields, layer.name, self.graph, index)
            widest = units * (index + 1) > budget  # then one unit, each window where it reads the most
            budget -= index + 1 if widest else units * (index + 1)
            if budget < 0:
                return
            positions = [0] if widest else list(range(units))
            rank = len(field.size)
            followed = follow_back(self, index, (positions,) * rank, (positions,) * rank, len(positions), widest)
            spans = followed.get(frame, ())
            widths = [max(high - low + 1 for low, high in zip(lows, highs)) for lows, highs in spans] or [0]
            if any(widths):
                self.fields[layer.name] = Field(tuple(widths), field.jump, field.start, field.is_global, True, True)

    def field(self, layer: Layer) -> Field | None:
        reach = self.reach(layer)
        # the axes of the first input in the frame (a class token concatenated first is not)
        framed = next((self.axes[name] for name in layer.inputs if self.axes.get(name)), None)
        self.axes[layer.name] = moved(framed, reach, self.shapes[layer.name])
        if len(layer.inputs) == 1:  # no merge: the common case, kept short
            source, axes = self.fields[layer.inputs[0]], self.axes.get(layer.inputs[0], ())
            windows = self.frame_windows(reach, axes)
            if source is None or windows is None or not source.local:
                return None if source is None else self.whole(reach)
            f = through(source, windows)
            flagged = reach.whole or holds_positions(axes, reach.normalizes)
            return f if f.is_global or not flagged else Field(f.size, f.jump, f.start, True, True, f.rounded)
        branches = [(name, self.fields[name]) for name in layer.inputs if self.fields[name] is not None]
        if not branches:
            return None
        per_branch = [self.frame_windows(reach, self.axes.get(name, ())) for name, _ in branches]
        if any(windows is None for windows in per_branch):
            return self.whole(reach)
        fields = [through(f, windows) for (_, f), windows in zip(branches, per_branch)]  # type: ignore[arg-type]
        local = [(name, f) for (name, _), f in zip(branches, fields) if f.local]
        if not local:
            return whole_field(self.extent)
        self.check_alignment(layer, local)
        merged = union([f for _, f in local])
        flagged = reach.whole or any(f.is_global for f in fields) or any(
            holds_positions(self.axes.get(name, ()), reach.normalizes) for name, _ in branches)
        return merged if merged.is_global == flagged else Field(
            merged.size, merged.jump, merged.start, flagged, rounded=merged.rounded)

    def whole(self, reach: Reach) -> Field:
        """The field of a layer with no local path: the whole input (a causal one's, its prefix)."""
        return replace(whole_field(self.extent), prefix=reach.prefix)

    def frame_windows(self, reach: Reach, axes: Axes) -> tuple[Window, ...] | None:
        """The op's windows on the frame's axes, or None where no output has a local path:
        windows over feature axes leave positions alone; mixing a whole axis that holds
        positions (a linear layer on a map's width, a window over a flattened map) reads all."""
        if reach.windows is None or holds_positions(axes, reach.mixes):
            return None
        frame = [IDENTITY] * len(self.extent)
        for axis, w in zip(axes[1:], reach.windows):
            if axis == MERGED and w != IDENTITY:
                return None
            if axis is not None and axis != MERGED:
                frame[axis] = w
        return tuple(frame)

    def check_alignment(self, layer: Layer, branches: list[tuple[str, Field]]) -> None:
        (first_name, first), rest = branches[0], branches[1:]
        for name, other in rest:
            if other.jump != first.jump or other.start != first.start:
                offset = ", ".join(str(exact(b - a)) for a, b in zip(first.start, other.start))
                jumps = "" if other.jump == first.jump else (
                    f"; jumps {format_tuple(first.jump)} and {format_tuple(other.jump)}")
                self.diags.append(finding(
                    "misaligned-merge",
                    f"layer '{layer.name}' ({layer.op}) merges '{first_name}' and '{name}', whose units are "
                    f"centred {offset} input pixels apart{jumps}",
                    layer.span,
                ))
                return


def format_tuple(values: tuple[Number, ...]) -> str:
    return "x".join(str(v) for v in values)


def receptive_fields(
    graph: Graph, shapes: Mapping[str, Shape | None]
) -> tuple[dict[str, Field | None], dict[str, Axes], list[Diagnostic]]:
    """Each layer's field, which of its axes hold positions of the input, and findings."""
    fields_pass = FieldPass(graph, shapes)
    return fields_pass.run(), fields_pass.axes, fields_pass.diags


Spans = tuple[tuple[int, int], ...]
# Per spatial axis, the first and the last units read, one entry per group of units followed.
Columns = tuple[tuple[list[int], list[int]], ...]


def source_spans(fields_pass: FieldPass, index: int, first: tuple[int, ...], last: tuple[int, ...]) -> dict[str, Spans]:
    """Units first..last (per axis) of layer `index`, followed back: the span of units they
    read in the output of every earlier layer and input (the hull over paths)."""
    followed = follow_back(fields_pass, index, tuple([unit] for unit in first), tuple([unit] for unit in last), 1,
                           prefixes=True)
    return {name: tuple((lows[0], highs[0]) for lows, highs in span) for name, span in followed.items()}


def follow_back(fields_pass: FieldPass, index: int, first: tuple[list[int], ...], last: tuple[list[int], ...],
                count: int, widest: bool = False, prefixes: bool = False) -> dict[str, Columns]:
    """`count` groups of units of layer `index` (group g: units first[axis][g]..last[axis][g]
    on each axis), followed back together, a layer at a time, as `source_spans` follows one.
    A layer with no local path, or a flattened map, reads the whole of its input. With
    `widest`, each window reads as many units as it does anywhere (`Window.widest_sources`).
    With `prefixes`, a causal layer over a sequence reads the prefix of the units followed
    (regions, which are the widest over positions, take its whole input instead)."""
    graph, shapes = fields_pass.graph, fields_pass.shapes
    spans: dict[str, Columns] = {graph.layers[index].name: tuple(zip(first, last))}
    for layer in reversed(graph.layers[: index + 1]):
        span = spans.get(layer.name)
        if span is None:
            continue
        reach = fields_pass.reach(layer)
        for name in layer.inputs:
            source = shapes[name]
            assert source is not None
            axes = fields_pass.axes.get(name, ())
            # per axis of the frame where the input holds the frame's positions (a token
            # sequence's L wherever a permute put it); per spatial axis for inputs outside it
            windows = fields_pass.frame_windows(reach, axes) if axes else reach.windows
            sizes = positional_sizes(source, axes, fields_pass.extent) if axes else source.spatial
            if prefixes and windows is None and reach.prefix and len(span) == len(sizes) == 1:
                # causal: position i reads positions 0..i of each input (torch's causal mask)
                read: Columns = (([0] * count, [min(high, sizes[0] - 1) for high in span[0][1]]),)
            elif windows is None or len(windows) != len(span) or len(windows) != len(sizes):
                read = tuple(([0] * count, [n - 1] * count) for n in sizes)
            else:
                read = tuple(_sources(w, lows, highs, widest) for w, (lows, highs) in zip(windows, span))
            known = spans.get(name)
            spans[name] = read if known is None or len(known) != len(read) else tuple(
                (list(map(min, known_lows, lows)), list(map(max, known_highs, highs)))
                for (known_lows, known_highs), (lows, highs) in zip(known, read))
    return spans


def positional_sizes(shape: Shape, axes: Axes, extent: tuple[int, ...]) -> tuple[int, ...]:
    """The tensor's length along each frame axis: the axis holding it, else the input's."""
    held = {axis: n for n, axis in zip(shape.dims, axes) if axis is not None and axis != MERGED}
    return tuple(held.get(k, n) for k, n in enumerate(extent))


def _sources(w: Window, lows: list[int], highs: list[int], widest: bool) -> tuple[list[int], list[int]]:
    """`Window.sources` of many groups at once, in integer arithmetic over a common
    denominator d: ceil(o*s + l) = -((-o*S - L) // d), floor(o*s + h) = (o*S + H) // d."""
    if widest:
        spans = [w.widest_sources(low, high) for low, high in zip(lows, highs)]
        return [low for low, _ in spans], [high for _, high in spans]
    stride, low, high = Fraction(w.stride), Fraction(w.low), Fraction(w.high)
    d = lcm(stride.denominator, low.denominator, high.denominator)
    s, lo, hi = (x.numerator * (d // x.denominator) for x in (stride, low, high))
    if d == 1:
        return [o * s + lo for o in lows], [o * s + hi for o in highs]
    return [-((-o * s - lo) // d) for o in lows], [(o * s + hi) // d for o in highs]


def period(fields: Mapping[str, Field | None], name: str, graph: Graph, index: int) -> int:
    """Units of layer `name` after which the windows behind it repeat: the least P with
    P * jump / jump(X) whole for every earlier layer X."""
    own = fields[name]
    assert own is not None
    units = 1
    for earlier in [i.name for i in graph.inputs] + [layer.name for layer in graph.layers[:index]]:
        f = fields[earlier]
        if f is not None and f.local:
            for j_own, j in zip(own.jump, f.jump):
                units = lcm(units, Fraction(j_own / Fraction(j)).denominator)
    return units


def regions_from_back(
    graph: Graph, shapes: Mapping[str, Shape | None], layer: str, size: int
) -> dict[str, tuple[int, ...]]:
    """Back to front: the region (units per axis) that `size` units of `layer` cover in the
    output of every layer before it, down to the inputs; for convolutions
    R(i-1) = (R(i) - 1)*s + k_eff. Windows are followed exactly, so through transposed
    convolutions and upsampling the region is the widest over positions. Through branches
    the hull over paths is kept; the region is not clipped to the map.

    The positions followed are one period of units, within REFINE_BUDGET layer visits;
    past it (a stride of 1/10^8 has a period of 10^8 units), from the first unit, each
    window reads as many units as it does anywhere: along a chain an upper bound, exact
    when the one fractional window has only stride-1 windows after it (as when it is
    `layer` itself)."""
    fields_pass = FieldPass(graph, shapes)
    fields = fields_pass.run()
    index = next(i for i, item in enumerate(graph.layers) if item.name == layer)
    rank = len(fields_pass.extent) if fields_pass.axes.get(layer) else shapes[layer].rank - 1  # type: ignore[union-attr]
    units = period(fields, layer, graph, index) if fields[layer] is not None else 1
    over_budget = units * (index + 1) > REFINE_BUDGET
    starts = [0] if over_budget else list(range(units))
    ends = [o + size - 1 for o in starts]
    spans = follow_back(fields_pass, index, (starts,) * rank, (ends,) * rank, len(starts), widest=over_budget)
    return {name: tuple(max(high - low + 1 for low, high in zip(lows, highs)) for lows, highs in span)
            for name, span in spans.items()}
