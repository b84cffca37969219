"""Safe integer expressions for block arguments: `$w*4`, `$k//2`, `2**$i`.

A small Pratt parser over `+ - * // % **`, parentheses, integers and `$name`; never
Python's `eval`. Every intermediate value is bounded so that `2**2**99` is an error, not a
hang.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

LIMIT = 2**63  # beyond any tensor size; larger values are certainly a mistake
MAX_NESTING = 64  # parentheses and unary signs; deeper is a mistake, and would exhaust the stack
_TOKEN = re.compile(r"\s*(?:(\d[\d_]*)|\$([A-Za-z_]\w*)|(\*\*|//|[-+*%()])|(\S))", re.ASCII)
_BINARY = {"+": 10, "-": 10, "*": 20, "//": 20, "%": 20, "**": 30}


class ExprError(ValueError):
    pass


def evaluate(source: str, env: Mapping[str, Any]) -> Any:
    """Evaluate `source` with `$name` bound from `env`.

    A lone `$name` yields the bound value whatever its type (a word, tuple or boolean);
    any arithmetic needs integers.
    """
    tokens = _tokenize(source)
    if len(tokens) == 1 and tokens[0][0] == "name":
        return _lookup(tokens[0][1], env)
    parser = _Parser(tokens, env)
    value = parser.expression(0)
    if parser.pos != len(tokens):
        raise ExprError(f"unexpected '{tokens[parser.pos][1]}' in '{source}'")
    return value


def names(source: str) -> list[str]:
    return [m.group(2) for m in _TOKEN.finditer(source) if m.group(2)]


def _tokenize(source: str) -> list[tuple[str, str]]:
    tokens = []
    for m in _TOKEN.finditer(source):
        number, name, op, other = m.groups()
        if other is not None:
            hint = " (use // for integer division)" if other == "/" else ""
            raise ExprError(f"unexpected '{other}' in '{source}'{hint}")
        if number is not None:
            tokens.append(("int", number))
        elif name is not None:
            tokens.append(("name", name))
        elif op is not None:
            tokens.append(("op", op))
    if not tokens:
        raise ExprError("empty expression")
    return tokens


def _lookup(name: str, env: Mapping[str, Any]) -> Any:
    if name not in env:
        known = ", ".join(f"${n}" for n in sorted(env)) or "none"
        raise ExprError(f"unknown argument '${name}' (known here: {known})")
    return env[name]


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], env: Mapping[str, Any]) -> None:
        self.tokens, self.env, self.pos, self.depth = tokens, env, 0, 0

    def expression(self, min_power: int) -> int:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExprError(f"the expression is nested more than {MAX_NESTING} levels deep")
        left = self.operand()
        while self.pos < len(self.tokens):
            kind, op = self.tokens[self.pos]
            power = _BINARY.get(op) if kind == "op" else None
            if power is None or power < min_power:
                break
            self.pos += 1
            # ** is right-associative, the others left-associative
            right = self.expression(power if op == "**" else power + 1)
            left = _apply(op, left, right)
        self.depth -= 1
        return left

    def operand(self) -> int:
        if self.pos >= len(self.tokens):
            raise ExprError("expression ends too early")
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if kind == "int":
            digits = text.replace("_", "")
            if len(digits) > len(str(LIMIT)):  # before int(), which refuses 4,300 digits itself
                raise ExprError(f"value {digits[:20]}... is too large (limit 2**63)")
            return _bounded(int(digits))
        if kind == "name":
            value = _lookup(text, self.env)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ExprError(f"${text} is {value!r}, not an integer")
            return value
        if text == "-":
            return -self.expression(25)
        if text == "+":
            return self.expression(25)
        if text == "(":
            value = self.expression(0)
            if self.pos >= len(self.tokens) or self.tokens[self.pos][1] != ")":
                raise ExprError("missing ')'")
            self.pos += 1
            return value
        raise ExprError(f"unexpected '{text}'")


def _apply(op: str, a: int, b: int) -> int:
    if op in ("//", "%") and b == 0:
        raise ExprError("division by zero")
    if op == "**":
        if b < 0:
            raise ExprError("negative exponent")
        if abs(a) > 1 and b > 64:
            raise ExprError(f"{a}**{b} is too large")
        return _bounded(a**b)
    result = {"+": a + b, "-": a - b, "*": a * b}.get(op)
    if result is None:
        result = a // b if op == "//" else a % b
    return _bounded(result)


def _bounded(value: int) -> int:
    if abs(value) >= LIMIT:
        raise ExprError(f"value {value} is too large (limit 2**63)")
    return value
