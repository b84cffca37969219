"""What both syntaxes share: the layer line, `from` lists and the `check` keys."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..diagnostics import Diagnostic, Span, did_you_mean, error
from .document import INVALID, RESERVED_KEYS, Entry, Ref
from .values import parse_count, parse_output_shapes, parse_value

NAME = re.compile(r"\w[\w-]*\Z")  # `block1-0`, as torchvision's RegNet names them
# a `from` item may reach into a block use at top level: `layer4.2.relu`
QUALIFIED_NAME = re.compile(r"\w[\w-]*(\.\w[\w-]*)*\Z")
_KEY = re.compile(r"[A-Za-z_][\w-]*\Z")  # `-` as in names: an input `x-y=4x6`

# check key -> reader of its value
CHECK_KEYS: dict[str, Callable[[Any], Any]] = {
    "max_params": parse_count,
    "max_macs": parse_count,
    "max_flops": parse_count,
    "max_activation_bytes": parse_count,
    "max_train_memory": parse_count,
    "min_rf": parse_count,
    "output": parse_output_shapes,
}


_SIMPLE_TOKEN = re.compile(r"\S+")
_COMMENT = re.compile(r"(?:^|(?<=\s))#")


def split_tokens(line: str) -> list[tuple[str, int]]:
    """Whitespace-separated tokens with their 0-based columns; brackets group (`[1, 2]`)."""
    if "[" not in line and "(" not in line:  # the common case, at regex speed
        comment = _COMMENT.search(line)
        text = line[: comment.start()] if comment else line
        return [(m.group(), m.start()) for m in _SIMPLE_TOKEN.finditer(text)]
    tokens: list[tuple[str, int]] = []
    depth, start = 0, None
    for i, ch in enumerate(line):
        if ch == "#" and depth == 0 and (i == 0 or line[i - 1] in " \t"):
            break
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch in " \t" and depth <= 0:
            if start is not None:
                tokens.append((line[start:i], start))
                start = None
        elif start is None:
            start = i
    else:
        i = len(line)
    if start is not None:
        tokens.append((line[start:i].rstrip(), start))
    return tokens


def parse_pairs(
    tokens: list[tuple[str, int]], at: Callable[[int], Span], diags: list[Diagnostic], raw: bool = False
) -> list[tuple[str, Any, Span]]:
    """`key=value` tokens -> (key, value, span); malformed ones become diagnostics.

    With `raw`, values stay text (for `check` lines, whose values have their own readers).
    """
    pairs = []
    for text, col in _join_spaced_equals(tokens, at, diags):
        span = at(col)
        key, sep, text_value = text.partition("=")
        if sep and _KEY.match(key) and not text_value:
            diags.append(error("syntax", f"'{key}=' has no value", span))
            pairs.append((key, INVALID, span))  # given, so not also reported missing
            continue
        if not sep or not _KEY.match(key):
            diags.append(error("syntax", f"expected key=value, got '{text}'", span))
            continue
        try:
            value = text_value if raw or key in ("from", "name", "inputs", "share") else parse_value(text_value)
        except ValueError as exc:
            diags.append(error("invalid-value", f"{key}: {exc}", span))
            value = INVALID
        pairs.append((key, value, span))
    return pairs


def _join_spaced_equals(
    tokens: list[tuple[str, int]], at: Callable[[int], Span], diags: list[Diagnostic]
) -> list[tuple[str, int]]:
    """`out = 4`, `out =4` and `out= 4` are one mistake, reported once as such, and read as
    `out=4` so that the layer's other arguments are still checked."""
    joined: list[tuple[str, int]] = []
    i = 0
    while i < len(tokens):
        text, col = tokens[i]
        parts = [text]
        while i + 1 < len(tokens) and _spaced(parts, tokens[i + 1][0]):
            i += 1
            parts.append(tokens[i][0])
        if len(parts) > 1:
            written = " ".join(parts)
            text = "".join(parts)
            diags.append(error("syntax", f"spaces around '=' in '{written}': write '{text}'", at(col)))
        joined.append((text, col))
        i += 1
    return joined


def _spaced(parts: list[str], following: str) -> bool:
    """Whether `following` continues `key =`, `key=` or `key` (then `=...`) written apart;
    `out= k=3` is a missing value before another pair, not one spaced pair."""
    last = parts[-1]
    if not _KEY.match(parts[0].rstrip("=")) or "=" in last[:-1]:
        return False
    if following.startswith("="):
        return not last.endswith("=")
    return last.endswith("=") and "=" not in following


def parse_refs(value: Any, span: Span, diags: list[Diagnostic]) -> tuple[Ref, ...] | None:
    """A `from` value: `a`, `a,b`, `-1`, or a list of those."""
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    items = value if isinstance(value, list) else str(value).split(",")
    refs = []
    for item in items:
        text = str(item).strip()
        if re.fullmatch(r"-\d+", text) and int(text) < 0:
            refs.append(Ref(back=-int(text)))
        elif QUALIFIED_NAME.match(text):
            refs.append(Ref(name=text))
        else:
            diags.append(error("invalid-reference", f"'{text}' is not a layer name or -N", span))
            return None
    return tuple(refs) if refs else None


def parse_outputs(value: Any, span: Span, diags: list[Diagnostic]) -> tuple[str, ...]:
    """`output: a`, `a,b` or a list: layer or block-use names, qualified (`layer4.2.relu`)."""
    items = value if isinstance(value, list) else str(value).split(",")
    names = tuple(str(item).strip() for item in items)
    bad = [name for name in names if not QUALIFIED_NAME.match(name)]
    if bad or not names:
        diags.append(error("invalid-reference", f"output '{bad[0] if bad else ''}' is not a layer name", span))
        return ()
    return names


def make_entry(
    type_: str, pairs: list[tuple[str, Any, Span]], span: Span, diags: list[Diagnostic]
) -> Entry:
    """Sort a layer's key/value pairs into its arguments and reserved keys."""
    args: dict[str, Any] = {}
    arg_spans: dict[str, Span] = {}
    reserved: dict[str, Any] = {}
    for key, value, at in pairs:
        if value is INVALID and key in RESERVED_KEYS:
            continue  # reported where it was read; the entry keeps its defaults
        if key in args or key in reserved:
            diags.append(error("duplicate-argument", f"'{key}' is given twice", at))
            continue
        if key == "from":
            reserved[key] = parse_refs(value, at, diags)
        elif key == "name":
            if not NAME.match(str(value)):
                diags.append(error("invalid-name", f"name '{value}' must be letters, digits, _ and - (not first)", at))
            else:
                reserved[key] = str(value)
        elif key == "share":
            if not QUALIFIED_NAME.match(str(value)):
                diags.append(error("invalid-reference", f"share={value} must name an earlier layer", at))
            else:
                reserved[key] = str(value)
        elif key in ("repeat", "if", "trainable"):
            reserved[key] = value
        else:
            args[key] = value
        arg_spans[key] = at
    return Entry(
        type=type_,
        args=args,
        span=span,
        arg_spans=arg_spans,
        name=reserved.get("name"),
        sources=reserved.get("from"),
        repeat=reserved.get("repeat"),
        condition=reserved.get("if"),
        share=reserved.get("share"),
        trainable=reserved.get("trainable"),
    )


def read_check(key: str, value: Any, span: Span, diags: list[Diagnostic]) -> tuple[Any, Span] | None:
    reader = CHECK_KEYS.get(key)
    if reader is None:
        hint = did_you_mean(key, list(CHECK_KEYS))
        diags.append(error("unknown-check", f"unknown check '{key}'", span, hint))
        return None
    try:
        return reader(value), span
    except ValueError as exc:
        diags.append(error("invalid-value", f"check {key}: {exc}", span))
        return None

