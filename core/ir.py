"""The IR: a spec with its blocks expanded into a DAG of layers in topological order.

Everything here is a frozen dataclass; analyses read the IR and return new results keyed
by layer name, never changing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from math import prod
from types import MappingProxyType
from typing import Any

from .diagnostics import Span
from .dtypes import FLOATS


@dataclass(frozen=True, slots=True)
class Shape:
    """A tensor shape without the batch axis: (C, *spatial), (F,) for flat features, or
    (L, D) for a token sequence; with its element type (`128:int64` for token ids)."""

    dims: tuple[int, ...]
    dtype: str = "float32"
    # False for a `param`'s tensor, which has no batch axis: PyTorch broadcasts it from the
    # right against batched tensors of more axes. Not part of equality (a shape is its dims).
    batched: bool = field(default=True, compare=False)

    @property
    def channels(self) -> int:
        return self.dims[0]

    @property
    def spatial(self) -> tuple[int, ...]:
        return self.dims[1:]

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def numel(self) -> int:
        return prod(self.dims)

    @property
    def is_float(self) -> bool:
        return self.dtype in FLOATS

    def __str__(self) -> str:
        dims = "x".join(map(str, self.dims))
        return dims if self.dtype == "float32" else f"{dims}:{self.dtype}"


@dataclass(frozen=True, slots=True)
class Input:
    name: str
    shape: Shape
    span: Span


@dataclass(frozen=True, slots=True)
class Layer:
    """One node of the graph.

    `name` is qualified like a PyTorch module path (`layer1.0.conv1`); `inputs` name earlier
    layers or network inputs; `attrs` are normalised by the op's schema (defaults filled,
    aliases resolved), or None when they could not be (a diagnostic says why);
    `block_path` lists the enclosing block instances, outermost first.
    """

    name: str
    op: str
    attrs: Mapping[str, Any] | None
    inputs: tuple[str, ...]
    span: Span
    block_path: tuple[str, ...] = ()
    shares: str | None = None  # the earlier layer whose module this is, called again (or a tied embedding)
    trainable: bool = True  # False: its parameters are frozen (requires_grad=False)


@dataclass(frozen=True, slots=True)
class BlockInstance:
    """A use of a block (or a repeated layer) that groups the layers named under it; a
    block's use reads `inputs`, the values bound to the block's own names for them,
    `params` (`in`, or the block's declared `inputs`)."""

    name: str
    block: str
    span: Span
    inputs: tuple[str, ...] = ()
    params: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Graph:
    name: str
    file: str
    inputs: tuple[Input, ...]
    layers: tuple[Layer, ...]
    output: str
    blocks: tuple[BlockInstance, ...] = ()
    checks: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    outputs: tuple[str, ...] = ()  # every output, `output` first; empty for an empty graph
