"""Coordinate mapping between a layer's units and input pixels (seed note 002), exact:
every window is followed back, so strides, padding, dilation, transposed convolutions and
upsampling all count. Input pixel i has its centre at i."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ..ir import Graph, Shape
from .receptive_field import MERGED, FieldPass, source_spans


class Mapper:
    """Units and input pixels along the axes of the frame (the first input): an image's
    spatial axes, every axis of token ids, wherever a layer's tensor holds them."""

    def __init__(self, graph: Graph, shapes: dict[str, Shape | None], layer: str) -> None:
        self.fields_pass = FieldPass(graph, shapes)
        self.fields_pass.run()
        self.index = next(i for i, item in enumerate(graph.layers) if item.name == layer)
        self.frame = graph.inputs[0]
        self.extent = self.fields_pass.extent
        shape = shapes[layer]
        assert shape is not None
        held = {axis: n for n, axis in zip(shape.dims, self.fields_pass.axes.get(layer, ()))
                if axis is not None and axis != MERGED}
        # None where the layer holds no axis of positions for a frame axis (merged by a flatten)
        self.sizes = tuple(held[k] for k in range(len(self.extent))) if len(held) == len(self.extent) else None

    def box(self, unit: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
        """The input pixels (first, last per axis) that `unit` of the layer reads."""
        return source_spans(self.fields_pass, self.index, unit, unit)[self.frame.name]

    def span(self, axis: int, o: int) -> tuple[int, int]:
        return self.box((o,) * len(self.extent))[axis]

    def units_seeing(self, axis: int, pixel: int) -> tuple[int, int] | None:
        """The first and last unit along `axis` whose field contains `pixel`, or None."""
        n = self.sizes[axis]  # type: ignore[index]
        first = _first(n, lambda o: self.span(axis, o)[1] >= pixel)
        last = _first(n, lambda o: self.span(axis, o)[0] > pixel) - 1
        return (first, last) if first <= last else None

    def nearest(self, axis: int, pixel: int) -> int:
        """The unit whose field is centred nearest to `pixel` (the lower one on a tie)."""
        n = self.sizes[axis]  # type: ignore[index]
        centre = lambda o: Fraction(sum(self.span(axis, o)), 2)  # noqa: E731
        after = _first(n, lambda o: centre(o) >= pixel)
        candidates = [o for o in (after - 1, after) if 0 <= o < n]
        return min(candidates, key=lambda o: (abs(centre(o) - pixel), o))


def _first(n: int, test: Callable[[int], bool]) -> int:
    """The least o in [0, n) with test(o) true (test is monotonic), or n."""
    low, high = 0, n
    while low < high:
        middle = (low + high) // 2
        if test(middle):
            high = middle
        else:
            low = middle + 1
    return low


def map_unit(mapper: Mapper, unit: tuple[int, ...]) -> list[dict[str, Any]]:
    rows = []
    for axis, ((first, last), n, o) in enumerate(zip(mapper.box(unit), mapper.extent, unit)):
        rows.append({
            "name": f"axis {axis}", "unit": o, "start": first, "end": last, "centre": Fraction(first + last, 2),
            "clipped": [max(first, 0), min(last, n - 1)],
        })
    return rows


def map_pixel(mapper: Mapper, pixel: tuple[int, ...]) -> list[dict[str, Any]]:
    rows = []
    for axis, p in enumerate(pixel):
        seeing = mapper.units_seeing(axis, p)
        rows.append({"name": f"axis {axis}", "pixel": p, "units": list(seeing) if seeing else None,
                     "nearest": mapper.nearest(axis, p)})
    return rows
