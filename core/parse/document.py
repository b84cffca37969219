"""The spec as written: entries, blocks and checks with their positions, before expansion.

Both syntaxes (YAML and text) produce a `Document`; `netcalc.core.build` expands it into
the IR.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import Span

MAX_LAYERS = 1_000_000  # a spec may have and expand to at most this many layers
REQUIRED = None  # a block argument whose default is null must be given at the call


class _Invalid:
    def __repr__(self) -> str:
        return "INVALID"


# A value that could not be read or evaluated, its error already reported: the layer is
# not built, and not reported again as missing that argument.
INVALID: Any = _Invalid()
RESERVED_KEYS = ("name", "from", "repeat", "if", "share", "trainable")
TOP_KEYS = ("name", "input", "output", "blocks", "layers", "check")  # of a YAML spec


@dataclass(frozen=True, slots=True)
class Ref:
    """A `from` item: a name, or `back` layers before the current one (-1 = previous)."""

    name: str | None = None
    back: int = 0

    def __str__(self) -> str:
        return self.name if self.name is not None else str(-self.back)


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a layer list: a layer or a block use, with its reserved keys."""

    type: str
    args: Mapping[str, Any]
    span: Span
    arg_spans: Mapping[str, Span] = field(default_factory=dict)
    name: str | None = None
    sources: tuple[Ref, ...] | None = None
    repeat: Any = None
    condition: Any = None
    share: str | None = None  # the earlier layer whose module (or embedding weight) this one is
    trainable: Any = None  # None: as the enclosing block use says (true at top level)


@dataclass(frozen=True, slots=True)
class BlockDef:
    name: str
    params: Mapping[str, Any]  # argument -> default (REQUIRED when it has none)
    inputs: tuple[str, ...]
    layers: tuple[Entry, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class InputDecl:
    name: str
    dims: tuple[int, ...]
    span: Span
    dtype: str = "float32"


@dataclass(frozen=True, slots=True)
class Document:
    file: str
    name: str
    inputs: tuple[InputDecl, ...]
    blocks: Mapping[str, BlockDef]
    layers: tuple[Entry, ...]
    checks: Mapping[str, tuple[Any, Span]]
    span: Span
    outputs: tuple[str, ...] = ()  # `output: a` or `[a, b]`: the network's outputs (default: its last layer)
    outputs_span: Span | None = None
