"""The op table: one `OpDef` per layer type, its rules side by side.

Each rule is a pure function of the normalised attributes and the input shapes:

- `infer_shape(a, ins) -> Shape` raises `OpError` for input the op cannot take;
- `count_params(a, ins) -> Weights` (parameters and buffers, as PyTorch counts them);
- `count_macs(a, ins, out) -> int`: multiply-accumulates (conv, convT, linear only);
- `other_flops(a, ins, out) -> int`: FLOPs beyond 2 x MACs (bias adds, elementwise work);
- `receptive_field(a, ins, out) -> Reach`: how an output unit reads its input, per axis;
- `saves(a, ins, out, grads) -> tuple[Saved, ...]`: what autograd keeps for backward in
  training (ops/saved.py), and `view`, for an output that shares its input's memory;
- `torch_module(a, ins) -> str`: the torch.nn constructor of the layer, as code (for
  `netcalc export`), or for an op that is no module (add, concat, permute, slice),
  `torch_expression(a, args) -> str`: the expression forward writes over its inputs' variables;
- `torch_pad(a, ins) -> PadBefore | None`: padding the module cannot state (per side, or
  TensorFlow's `same` with a stride), which forward applies with `F.pad` before calling it.

Each family module (conv.py, pool.py, ...) lists its ops in an explicit `OPS` table;
the package (`netcalc.core.ops`) gathers them into `OPS` and `LOOKUP` (with aliases). Adding a layer type
means adding one `op(...)` entry (and its test cases in tests/cases/ops/<name>.yaml).

The five counting and field rules have no defaults: an op states each, with the named
constants `NO_WEIGHTS`, `NO_MACS`, `NO_OTHER_FLOPS`, `ELEMENTWISE` and `SAVES_NOTHING` where that is the
truth, so that a forgotten rule is an error at import rather than a silent identity window.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from math import isfinite, lcm, prod
from typing import Any, NamedTuple

from ..ir import Shape
from ..parse.expr import LIMIT
from . import saved
from .saved import Grads, Saved, View

REQUIRED: Any = object()


class OpError(Exception):
    """Raised by a rule for input the op cannot take; becomes a diagnostic at the layer."""

    def __init__(self, id: str, message: str) -> None:
        super().__init__(message)
        self.id, self.message = id, message


class Weights(NamedTuple):
    params: int = 0
    buffers: int = 0
    counters: int = 0  # int64 buffers (BatchNorm's num_batches_tracked), part of `buffers`


@dataclass(frozen=True, slots=True)
class Kind:
    """An attribute type: what it accepts (`expected`, for messages), how it reads it, and
    its JSON Schema (for `netcalc schema`)."""

    expected: str
    read: Callable[[Any], Any]
    schema: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Attr:
    kind: Kind
    default: Any = REQUIRED
    aliases: tuple[str, ...] = ()
    doc: str = ""


Attrs = Mapping[str, Any]
Shapes = tuple[Shape, ...]
Number = int | Fraction


@dataclass(frozen=True, slots=True)
class Window:
    """How an output unit reads one spatial axis of its input, exactly: unit o reads the
    input units ceil(o*stride + low) .. floor(o*stride + high). Build it with `window()`,
    which also derives the affine summary used front to back: `centre`, the middle of the
    range averaged over positions (for integer strides, exactly the first unit's), and
    `extent`, the widest range over positions minus one."""

    stride: Number = 1
    low: Number = 0
    high: Number = 0
    centre: Number = 0
    extent: int = 0

    def sources(self, first: int, last: int) -> tuple[int, int]:
        """The input units that output units first..last read (windows are monotonic)."""
        return _ceil(first * self.stride + self.low), _floor(last * self.stride + self.high)

    def widest_sources(self, first: int, last: int) -> tuple[int, int]:
        """From the first input unit that output unit `first` reads, as many units as
        last - first + 1 consecutive output units read where they read the most (the same
        as `sources` for integer strides, wider or equal otherwise)."""
        start = _ceil(first * self.stride + self.low)
        return start, start + widest_width(self.stride, self.low, self.high + (last - first) * self.stride)


# int first: isinstance against Fraction, an ABC, costs several times more, and the values
# are ints but after a fractional stride.
def _floor(x: Number) -> int:
    return x if isinstance(x, int) else x.numerator // x.denominator


def _ceil(x: Number) -> int:
    return x if isinstance(x, int) else -((-x.numerator) // x.denominator)


def window(stride: Number, low: Number, high: Number) -> Window:
    stride, low, high = exact(Fraction(stride)), exact(Fraction(low)), exact(Fraction(high))
    return Window(stride, low, high, exact(Fraction(low + high) / 2), widest_width(stride, low, high))


def widest_width(stride: Number, low: Number, high: Number) -> int:
    """max over o of floor(o*stride + high) - ceil(o*stride + low), in closed form.

    Why no loop over the period q (stride = a/q in lowest terms): write x = o*stride and
    c = ceil(x + low) = x + low + u with u in [0, 1); then floor(x + high) = c +
    floor(high - low - u), so the width is floor(high - low - u), largest where u is least.
    As o runs over q consecutive values, x mod 1 takes every value k/q (a is invertible
    mod q), so u = (-x - low) mod 1 takes every value of (-low) mod (1/q) + k/q in [0, 1),
    the least being (-low) mod (1/q). Hence max = floor(high - low - ((-low) mod 1/q)).
    tests/test_bounds.py checks it against the enumeration."""
    if isinstance(stride, int) and isinstance(low, int) and isinstance(high, int):
        return high - low  # the common case: u = 0
    least_u = (-Fraction(low)) % Fraction(1, Fraction(stride).denominator)
    return _floor(exact(high - low - least_u))


def rounding(step: Number, offset: Number = 0) -> Fraction:
    """(q-1)/q, q the common denominator of every o*step + offset: for those values
    floor(x) = ceil(x - (q-1)/q) and ceil(x) = floor(x + (q-1)/q)."""
    q = lcm(Fraction(step).denominator, Fraction(offset).denominator)
    return Fraction(q - 1, q)


@dataclass(frozen=True, slots=True)
class Reach:
    """What an op does to receptive fields: a window per spatial axis of its input (every
    axis but the first), or None when no output value has a local path (global pooling,
    attention); `whole` when some value depends on the whole input (statistics, a gate).

    Which input positions an axis holds is the field pass's to know (a token sequence's
    length may be any axis after a permute), so ops name axes, indices into the input's
    shape: `mixes`, axes every output value reads all of (a linear layer's last axis);
    `normalizes`, axes whose statistics every value uses (a layer norm's last `dims`);
    `moves`, for each output axis the input axis it comes from, None for a new one (layout
    ops; without it an output of the input's rank keeps its axes)."""

    windows: tuple[Window, ...] | None
    whole: bool = False
    mixes: tuple[int, ...] = ()
    normalizes: tuple[int, ...] = ()
    moves: tuple[int | None, ...] | None = None
    prefix: bool = False  # causal: a position reads the positions up to it (the last reads them all)


IDENTITY = Window()


def elementwise_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    """Each output unit reads the input unit at its own position."""
    return Reach((IDENTITY,) * (ins[0].rank - 1))


def reads_nothing(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    """An op with no input (a learned tensor): nothing of the network's input reaches it."""
    return Reach(None)


MERGED = -1  # in `moves`: an output axis holding several input axes (a reshape, a flatten)


def kept_axes(before: tuple[int, ...], after: tuple[int, ...]) -> tuple[int | None, ...]:
    """`moves` of a reshape from `before` to `after`: leading and trailing axes of equal size
    stay; the axes between are MERGED (196 from 14 x 14), or new (None) when none were there."""
    lead = 0
    while lead < min(len(before), len(after)) and before[lead] == after[lead]:
        lead += 1
    tail = 0
    while tail < min(len(before), len(after)) - lead and before[-1 - tail] == after[-1 - tail]:
        tail += 1
    middle = len(after) - lead - tail
    changed = MERGED if len(before) - lead - tail else None
    return (*range(lead), *(changed,) * middle, *range(len(before) - tail, len(before)))


def whole_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    return Reach(None, whole=True)


def prefix_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    """Causal attention, one-directional recurrence: each position reads the whole prefix."""
    return Reach(None, whole=True, prefix=True)


def statistics_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    """Normalisation by statistics over the map: the elementwise path is the local one."""
    return Reach((IDENTITY,) * (ins[0].rank - 1), normalizes=tuple(range(1, ins[0].rank)))


def last_axes_statistics(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    """Statistics over the last `dims` axes (layer and RMS norm): global where those hold
    positions (a map's width), elementwise where they hold features (a token's D)."""
    rank = ins[0].rank
    return Reach((IDENTITY,) * (rank - 1), normalizes=tuple(range(rank - a["dims"], rank)))


def last_axis_mixed(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    """Every output reads the whole last axis (a linear layer): global where it holds positions."""
    rank = ins[0].rank
    return Reach((IDENTITY,) * (rank - 1), mixes=(rank - 1,))


def exact(value: Number) -> Number:
    """An integral Fraction as an int, so that integer arithmetic stays fast."""
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, Fraction) and value.denominator == 1 else value


def no_weights(a: Attrs, ins: Shapes) -> Weights:
    return Weights()


class PadBefore(NamedTuple):
    """Padding forward applies with F.pad before calling the layer's module, which cannot
    state it: (before, after) per spatial axis in axis order, filled with `value` (code)."""

    sides: tuple[tuple[int, int], ...]
    value: str = "0.0"


def module_input(x: Shape, pad: PadBefore | None) -> Saved:
    """The tensor a module reads, saved: the layer's input, or the copy F.pad made of it."""
    if pad is None:
        return Saved(0)
    return Saved(elements=x.dims[0] * prod(n + before + after for n, (before, after) in zip(x.dims[1:], pad.sides)))


def _no_pad(a: Attrs, ins: Shapes) -> PadBefore | None:
    return None


def _zero(a: Attrs, ins: Shapes, out: Shape) -> int:
    return 0


NO_WEIGHTS = no_weights
NO_MACS = _zero
NO_OTHER_FLOPS = _zero
ELEMENTWISE = elementwise_reach
READS_NOTHING = reads_nothing
SAVES_NOTHING = saved.nothing


@dataclass(frozen=True, slots=True)
class OpDef:
    name: str
    doc: str
    attrs: Mapping[str, Attr]
    infer_shape: Callable[[Attrs, Shapes], Shape]
    # Every rule is stated by every op, none guessed: the named constants below say "none"
    # (NO_WEIGHTS, NO_MACS, NO_OTHER_FLOPS) or "position by position" (ELEMENTWISE).
    count_params: Callable[[Attrs, Shapes], Weights]
    count_macs: Callable[[Attrs, Shapes, Shape], int]
    other_flops: Callable[[Attrs, Shapes, Shape], int]
    receptive_field: Callable[[Attrs, Shapes, Shape], Reach]
    # what autograd keeps for backward in training (ops/saved.py): SAVES_NOTHING where that is the truth
    saves: Callable[[Attrs, Shapes, Shape, Grads], tuple[Saved, ...]]
    aliases: tuple[str, ...] = ()
    inputs: tuple[int, int | None] = (1, 1)  # least and most inputs (None: any number)
    macs_rule: str = "0"  # the count_macs rule in words, for the conventions table (docs/conventions.md)
    flops_rule: str = "0"  # the other_flops rule in words
    torch_module: Callable[[Attrs, Shapes], str] | None = None
    torch_expression: Callable[[Attrs, list[str]], str] | None = None
    torch_pad: Callable[[Attrs, Shapes], PadBefore | None] = _no_pad
    # how tables show the op's window (`k3 s2 p1`); ops without one show nothing
    window_text: Callable[[Attrs], str] = lambda a: ""
    # elements a decoder keeps per position of its sequence between steps (causal attention's
    # keys and values: the KV cache), or None for an op that keeps nothing
    cached_per_position: Callable[[Attrs, Shapes], int] | None = None
    # the element types it takes, as PyTorch: "float" computes on floats (an integer input
    # is an error); "any" moves or combines values and keeps their type (layout ops; add
    # promotes int + float to float); "integer" reads indices (embedding)
    reads: str = "float"
    # an output that is the input's memory (a view: reshape, permute, select), its strides from
    # the input's; None: the op makes a new tensor
    view: View | None = None
    # the strides of a new output that is not contiguous (a batch_first module's, moved back
    # from positions first), from its sizes with the batch; None: contiguous
    output_strides: Callable[[Attrs, tuple[int, ...]], tuple[int, ...]] | None = None
    # elementwise: a new output laid out as its first input of the output's sizes (PyTorch's
    # TensorIterator: a permuted input gives a permuted output, which a later fold copies)
    keeps_layout: bool = False

    @property
    def merges(self) -> bool:
        """Joins branches: takes several inputs (add, mul, concat). Said by the most inputs,
        not the least: a concat of one input (`torch.cat([x])`) is still a merge."""
        most = self.inputs[1]
        return most is None or most >= 2


# --- attribute kinds ----------------------------------------------------------------


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _int_at_least(low: int) -> Callable[[Any], int]:
    def read(v: Any) -> int:
        if not _is_int(v) or v < low:
            raise ValueError
        _bounded(v)
        return int(v)

    return read


def _axes_at_least(low: int) -> Callable[[Any], Any]:
    one = _int_at_least(low)

    def read(v: Any) -> Any:
        if isinstance(v, (tuple, list)):
            if not v:
                raise ValueError
            return tuple(one(x) for x in v)
        return one(v)

    return read


def _integer_list(v: Any) -> tuple[int, ...]:
    """A list of integers (`dims=0,2,1`, `shape=[196, -1]`, `196x768`); one integer is a list of one."""
    if isinstance(v, (tuple, list)) and v:
        return tuple(_int_at_least(-LIMIT)(x) for x in v)
    return (_int_at_least(-LIMIT)(v),)


def _boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError
    return v


def _number(v: Any) -> float | int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not isfinite(v):
        raise ValueError
    return _bounded(v) if isinstance(v, int) else v


def _bounded(v: int) -> int:
    """A YAML integer arrives here unchecked (a text one stops at parse_value)."""
    if abs(v) >= LIMIT:
        raise ValueError("too large (limit 2**63)")
    return v


def _probability(v: Any) -> float | int:
    if not 0 <= _number(v) <= 1:
        raise ValueError
    return v


def _positive_numbers(v: Any) -> Any:
    def one(x: Any) -> float | int:
        if _number(x) <= 0:
            raise ValueError
        return x

    if isinstance(v, (tuple, list)):
        return tuple(one(x) for x in v)
    return one(v)


def _padding(v: Any) -> Any:
    """int | per-axis tuple | per-side ((before, after), ...) | 'same'; 'valid' is 0."""
    if v == "valid":
        return 0
    if v == "same":
        return "same"
    if isinstance(v, list) and v and all(isinstance(x, (list, tuple)) for x in v):
        if not all(len(x) == 2 for x in v):
            raise ValueError
        return tuple((_int_at_least(0)(b), _int_at_least(0)(e)) for b, e in v)
    return _axes_at_least(0)(v)


def choice(*words: str) -> Kind:
    def read(v: Any) -> str:
        if v not in words:
            raise ValueError
        return str(v)

    return Kind("one of " + ", ".join(words), read, {"enum": list(words)})


def optional(kind: Kind) -> Kind:
    """The kind, or None: YAML's null, or the word `none` (as the text syntax writes it)."""
    return Kind(
        f"{kind.expected}, or none", lambda v: None if v is None or v == "none" else kind.read(v),
        {"anyOf": [kind.schema, {"type": "null"}, {"const": "none"}]},
    )


def _integers(low: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low}


def _per_axis(low: int) -> dict[str, Any]:
    """An integer, one per axis as a list, or the `5x3` form."""
    return {"anyOf": [_integers(low), {"type": "array", "items": _integers(low), "minItems": 1, "maxItems": 3},
                      {"type": "string", "pattern": r"^\d+(x\d+){1,2}$"}]}


POSITIVE = Kind("a positive integer", _int_at_least(1), _integers(1))
INTEGER = Kind("an integer", _int_at_least(-LIMIT), {"type": "integer"})
INTEGERS = Kind("integers, like 0,2,1 or [196, -1]", lambda v: _integer_list(v),
                {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^-?\d+([x,]-?\d+)*$"},
                           {"type": "array", "items": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                            "minItems": 1}]})
BOOLEAN = Kind("true or false", _boolean, {"type": "boolean"})
NUMBER = Kind("a number", _number, {"type": "number"})
PROBABILITY = Kind("a number from 0 to 1", _probability, {"type": "number", "minimum": 0, "maximum": 1})
AXES = Kind("a positive integer or one per axis, like 5x3", _axes_at_least(1), _per_axis(1))
AXES0 = Kind("a non-negative integer or one per axis, like 2x1", _axes_at_least(0), _per_axis(0))
PADDING = Kind(
    "a non-negative integer, one per axis (2x1), per side ([[1,2],[0,1]]), same or valid", _padding,
    {"anyOf": [*_per_axis(0)["anyOf"], {"enum": ["same", "valid"]},
               {"type": "array", "items": {"type": "array", "items": _integers(0), "minItems": 2, "maxItems": 2}}]},
)
SCALE = Kind("a positive number or one per axis", _positive_numbers,
             {"anyOf": [{"type": "number", "exclusiveMinimum": 0},
                        {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}}]})


# --- shared helpers for rules -------------------------------------------------------


def per_axis(value: Any, rank: int, what: str) -> tuple[Any, ...]:
    """An attribute broadcast to one value per spatial axis."""
    if isinstance(value, tuple):
        if len(value) != rank:
            raise OpError("invalid-argument", f"{what} has {len(value)} values but the input has {rank} spatial axes")
        return value
    return (value,) * rank


def spatial_input(ins: Shapes, low: int = 1, high: int = 3) -> Shape:
    """The single input, checked to have between `low` and `high` spatial axes."""
    x = ins[0]
    if not low <= x.rank - 1 <= high:
        raise OpError(
            "invalid-rank", f"expects an input with {low} to {high} spatial axes (C x H x W ...), got {x}"
        )
    return x


def numel(shape: Shape) -> int:
    return prod(shape.dims)


# The largest tensor netcalc analyses (batch 1). An axis past 2^31 is beyond any real map;
# 2^61 elements is where PyTorch refuses a float32 tensor ("Storage size calculation
# overflowed": 4 bytes each must stay below 2^63).
MAX_AXIS = 2**31
MAX_ELEMENTS = 2**61


def size_problem(shape: Shape) -> str | None:
    """Why a tensor of `shape` is too large to analyse, or None."""
    for axis, n in enumerate(shape.spatial, 1):
        if n > MAX_AXIS:
            return f"spatial axis {axis} has {n:,} units, more than 2^31 = {MAX_AXIS:,}"
    if numel(shape) >= MAX_ELEMENTS:
        return f"it has {numel(shape):,} elements, PyTorch's float32 limit is below 2^61 = {MAX_ELEMENTS:,}"
    return None


def torch_nd(name: str, ins: Shapes) -> str:
    """`nn.Conv2d` for a 2-D map: PyTorch's class for the input's spatial rank."""
    return f"nn.{name}{max(ins[0].rank - 1, 1)}d"


def torch_class(name: str) -> Callable[[Attrs, Shapes], str]:
    """The constructor of a module that takes no arguments (`nn.ReLU()`)."""
    return lambda a, ins: f"nn.{name}()"


def op(name: str, doc: str, infer_shape: Callable[[Attrs, Shapes], Shape], **fields: Any) -> OpDef:
    return OpDef(name=name, doc=doc, attrs=fields.pop("attrs", {}), infer_shape=infer_shape, **fields)


_ALIASES: dict[str, dict[str, str]] = {}


def _aliases(opdef: OpDef) -> dict[str, str]:
    if opdef.name not in _ALIASES:
        _ALIASES[opdef.name] = {alias: key for key, attr in opdef.attrs.items() for alias in attr.aliases}
    return _ALIASES[opdef.name]


def as_written(value: Any) -> str:
    """A value as a spec writes it, for messages: null, true, 5x3, [1, 2], 'same'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple) and value and all(isinstance(v, int) for v in value):
        return "x".join(map(str, value))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(as_written(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def normalize_attrs(
    opdef: OpDef, given: Mapping[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str, str, str | None]]]:
    """Fill defaults, resolve aliases and type-check. Problems: (key, id, message, hint)."""
    from ..diagnostics import did_you_mean

    alias_of = _aliases(opdef)
    values: dict[str, Any] = {}
    problems: list[tuple[str, str, str, str | None]] = []
    meant: set[str] = set()  # attributes a misspelled key was probably meant to be
    for key, value in given.items():
        canonical = alias_of.get(key, key)
        attr = opdef.attrs.get(canonical)
        if canonical in values:
            problems.append((key, "duplicate-argument", f"'{key}' repeats '{canonical}' of '{opdef.name}'", None))
            continue
        if attr is None:
            names = list(opdef.attrs) + list(alias_of)
            hint = did_you_mean(key, names)
            if hint:
                meant.add(alias_of.get(hint.split("'")[1], hint.split("'")[1]))
            problems.append((key, "unknown-argument", f"'{opdef.name}' has no argument '{key}'", hint))
            continue
        try:
            values[canonical] = attr.kind.read(value)
        except ValueError as exc:  # a message says why beyond the kind: a value past the bound
            why = f"is {exc}" if str(exc) else f"must be {attr.kind.expected}"
            problems.append((key, "invalid-argument", f"'{key}' of '{opdef.name}' {why}, got {as_written(value)}",
                             None))
            meant.add(canonical)
    for key, attr in opdef.attrs.items():
        if key in values or key in meant:
            continue
        if attr.default is REQUIRED:
            problems.append(
                (key, "missing-argument", f"'{opdef.name}' needs argument '{key}' ({attr.kind.expected})", None)
            )
        else:
            values[key] = attr.default
    return values, problems


def table(*ops: OpDef) -> dict[str, OpDef]:
    return {o.name: o for o in ops}


def conventions_table(ops: Mapping[str, OpDef]) -> str:
    """The table of counting conventions in docs/conventions.md, generated from the op table."""
    rows = ["| op | MACs | FLOPs beyond 2 x MACs |", "|---|---|---|"]
    for o in ops.values():
        alias = f" ({', '.join(o.aliases)})" if o.aliases else ""
        rows.append(f"| `{o.name}`{alias} | {o.macs_rule} | {o.flops_rule} |")
    return "\n".join(rows)
