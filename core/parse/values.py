"""Layer values as written: `64`, `1_000`, `true`, `0.5`, `same`, `5x3`, `[[1,2],[0,1]]`,
and `$`-expressions, which stay unevaluated (`Expr`) until a block is expanded."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from math import isfinite
from typing import Any

from ..dtypes import TENSOR_BYTES
from .expr import LIMIT

# ASCII only: Python's \d also matches other scripts' digits (a full-width ４ would read as 4)
_INT = re.compile(r"[+-]?\d[\d_]*\Z", re.ASCII)
_FLOAT = re.compile(r"[+-]?(\d[\d_]*)?\.\d+([eE][+-]?\d+)?\Z|[+-]?\d+[eE][+-]?\d+\Z", re.ASCII)
_TUPLE = re.compile(r"(-1|\d[\d_]*)(x(-1|\d[\d_]*))+\Z", re.ASCII)  # -1: reshape's inferred size
_INTEGERS = re.compile(r"[+-]?\d+(,[+-]?\d+)+\Z", re.ASCII)  # dims=0,2,3,1
_COUNT = re.compile(r"(\d[\d_]*(?:\.\d+)?)\s*([KMG]?)\Z", re.IGNORECASE | re.ASCII)
_WORD = re.compile(r"[A-Za-z_][\w.-]*\Z", re.ASCII)
_ARITHMETIC = re.compile(r"[\d_\s()]*[-+*/%(][-+*/%\d_\s()]*\Z", re.ASCII)  # an operator, or parentheses: (4)
_MULTIPLIER = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9}


@dataclass(frozen=True, slots=True)
class Expr:
    """An expression referring to block arguments, evaluated at expansion."""

    source: str


def parse_value(text: str) -> Any:
    """The value of one `key=value` right-hand side, or of a YAML string scalar."""
    text = text.strip()
    if "$" in text and not text.startswith("["):
        return Expr(text)
    if text in ("true", "false"):
        return text == "true"
    if _INT.match(text):
        return _integer(text)
    if _FLOAT.match(text):
        return _finite(text)
    if _TUPLE.match(text):
        return tuple(_integer(part) for part in text.split("x"))
    if _INTEGERS.match(text):
        return [_integer(part) for part in text.split(",")]
    if _ARITHMETIC.match(text):
        return Expr(text)
    if text.startswith("["):
        return _parse_list(text)
    if _WORD.match(text):
        return text
    raise ValueError(f"cannot read value '{text}'")


def _integer(text: str) -> int:
    """A decimal integer, refused past the bound every value keeps (docs/spec-format.md, Expressions)
    before Python converts it: 5,000 digits would be Python's own error."""
    digits = text.lstrip("+-").replace("_", "").lstrip("0")
    if len(digits) > len(str(LIMIT)) or abs(int(text.replace("_", ""))) >= LIMIT:
        raise ValueError(f"{_short(text)} is too large (limit 2**63)")
    return int(text.replace("_", ""))


def _finite(text: str) -> float:
    """A decimal number; one that overflows a float (1e400 reads as inf) is refused."""
    value = float(text.replace("_", ""))
    if not isfinite(value):
        raise ValueError(f"{_short(text)} is too large for a number")
    return value


def _short(text: str) -> str:
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"


def yaml_scalar(node: Any, construct: Callable[[Any], Any], fail: Callable[[str], Exception]) -> Any:
    """A YAML scalar other than a string, as `construct` builds it; an integer too long for
    Python to read (past 4,300 digits: a ValueError) raises fail(message) instead. Shorter
    ones past the bound are refused where they are used, at the layer (the attribute kinds)."""
    try:
        return construct(node)
    except ValueError:
        raise fail(f"{_short(str(node.value))} is too large (limit 2**63)") from None


def _parse_list(text: str) -> Any:
    import yaml

    try:
        loaded = yaml.load(text, Loader=yaml.BaseLoader)  # every scalar a string: read as written below
        if isinstance(loaded, list):
            return from_plain(loaded)
    except yaml.YAMLError:
        pass
    except RecursionError:
        raise ValueError("the list is nested too deeply") from None
    raise ValueError(f"cannot read list '{text}'")


def from_plain(value: Any) -> Any:
    """Normalise a value loaded by YAML: strings are read as layer values, lists recursively."""
    if isinstance(value, str):
        return parse_value(value)
    if isinstance(value, list):
        return [from_plain(item) for item in value]
    return value


def parse_shape(value: Any) -> tuple[int, ...]:
    """`3x224x224`, `[3, 224, 224]` or `1000` as a shape; every dimension positive."""
    if isinstance(value, str):
        value = parse_value(value)
    if isinstance(value, bool):
        raise ValueError("expected a shape like 3x224x224")
    if isinstance(value, int):
        value = (value,)
    if not isinstance(value, (tuple, list)) or not value:
        raise ValueError("expected a shape like 3x224x224")
    dims = tuple(value)
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims):
        raise ValueError("expected positive integer dimensions, like 3x224x224")
    if len(dims) > 4:
        raise ValueError(f"a shape has channels and at most 3 spatial axes, got {len(dims)} dimensions")
    return dims


def parse_output_shapes(value: Any) -> tuple[tuple[int, ...], ...]:
    """`check: output`: one shape (`1000`, `[3, 224, 224]`), or one per output in `output:`
    order, a list of shapes (`[[1000], [10]]`, `[1000, 4x4]` in YAML)."""
    if isinstance(value, str) and value.startswith("["):
        value = parse_value(value)
    if isinstance(value, list) and any(isinstance(item, (list, str, tuple)) for item in value):
        return tuple(parse_shape(item) for item in value)
    return (parse_shape(value),)


def parse_input(value: Any) -> tuple[tuple[int, ...], str]:
    """An input's shape and element type: `3x224x224`, `[3, 224, 224]`, `128:int64`."""
    dtype = "float32"
    if isinstance(value, str) and ":" in value:
        value, _, dtype = value.rpartition(":")
        if dtype not in TENSOR_BYTES:
            raise ValueError(f"unknown element type '{dtype}' (one of {', '.join(TENSOR_BYTES)})")
    return parse_shape(value), dtype


def parse_count(value: Any) -> int:
    """A budget figure: `12M`, `2G`, `1_000`, `3.5M` (K, M, G are powers of 1000)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _COUNT.match(str(value).strip())
    if not match:
        raise ValueError(f"expected a count like 12M or 2G, got '{value}'")
    from fractions import Fraction

    number = Fraction(match.group(1).replace("_", "")) * _MULTIPLIER[match.group(2).upper()]
    if number.denominator != 1:
        raise ValueError(f"'{value}' is not a whole number")
    return int(number)
