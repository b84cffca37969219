"""The YAML syntax, read from `yaml.compose()` nodes so that every value keeps its mark.

PyYAML's marks are 0-based; they become 1-based `Span`s here and nowhere else. Only the
standard scalar, sequence and mapping tags are accepted: `!!python/...` is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

from ..diagnostics import Diagnostic, Span, did_you_mean, error
from .common import NAME, make_entry, parse_outputs, parse_pairs, read_check, split_tokens
from .document import INVALID, RESERVED_KEYS, TOP_KEYS, BlockDef, Document, Entry, InputDecl
from .source import span_at
from .values import from_plain, parse_input, yaml_scalar
from .yaml_compose import AliasedScalar, ComposeLimit, compose

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_TAG = "tag:yaml.org,2002:"
_SAFE_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map")}
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # what YAML reads as a line break


class _Invalid(Exception):
    """A node that cannot be read; its diagnostic is already recorded."""


_RESOLVED = {_TAG + t for t in ("int", "float", "bool")}


def _as_written(node: yaml.Node) -> bool:
    """A plain scalar YAML would read as a number or a boolean by its own (1.1) rules, where
    `0x1` is hexadecimal, `1:30` sexagesimal and `yes` true: netcalc reads it as a value
    written on a layer line instead (`0x1` is 0 by 1), so both forms of a layer agree."""
    return isinstance(node, yaml.ScalarNode) and node.tag in _RESOLVED and node.style in (None, "")


def mark_span(file: str, mark: yaml.Mark | None) -> Span:
    """The one place PyYAML's 0-based marks become 1-based positions."""
    return Span(file, mark.line + 1, mark.column + 1) if mark else Span(file, 1, 1)


class _Reader:
    def __init__(self, file: str, diags: list[Diagnostic], source: str = "") -> None:
        self.file, self.diags, self.source = file, diags, source
        self._lines: list[str] | None = None

    def source_lines(self) -> list[str]:
        """The source split as YAML breaks lines, once and only when needed."""
        if self._lines is None:
            self._lines = _LINE_BREAK.split(self.source)
        return self._lines

    def span(self, node: yaml.Node) -> Span:
        return mark_span(self.file, node.start_mark)

    def fail(self, id: str, message: str, node: yaml.Node, hint: str | None = None) -> _Invalid:
        self.diags.append(error(id, message, self.span(node), hint))
        return _Invalid()

    def plain(self, node: yaml.Node, what: str = "") -> Any:
        """The Python value of a node (layer values read from strings); `what` names it in
        messages (`conv k`). Nesting is bounded by the composer, so this recursion is too."""
        if node.tag not in _SAFE_TAGS:
            raise self.fail("unsafe-tag", f"tag '{node.tag}' is not allowed in a spec", node)
        if isinstance(node, yaml.SequenceNode):
            return [self.plain(item, what) for item in node.value]
        if isinstance(node, yaml.MappingNode):
            return {name: self.plain(v, what) for name, _, v in self.mapping(node, what or "a value")}
        prefix = f"{what}: " if what else ""
        if node.tag == _TAG + "str" or _as_written(node):
            try:
                return from_plain(node.value)
            except ValueError as exc:
                raise self.fail("invalid-value", prefix + str(exc), node) from None
        return yaml_scalar(node, _CONSTRUCTOR.construct_object,
                           lambda why: self.fail("invalid-value", prefix + why, node))

    def raw(self, node: yaml.Node) -> Any:
        """A scalar's text, or a list of them: names are never read as values."""
        if isinstance(node, yaml.SequenceNode):
            return [self.scalar_text(item) for item in node.value]
        return self.scalar_text(node)

    def scalar_text(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail("syntax", "expected a name or a list of names", node)
        return node.value

    def key(self, node: yaml.Node) -> str:
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail("syntax", "expected a plain key", node)
        return str(node.value)

    def mapping(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        if node.tag not in _SAFE_TAGS:
            raise self.fail("unsafe-tag", f"tag '{node.tag}' is not allowed in a spec", node)
        if not isinstance(node, yaml.MappingNode):
            raise self.fail("syntax", f"expected a mapping for {what}", node)
        items, seen = [], set()
        for k, v in node.value:
            name = self.guard(self.key, k)
            if name is None:  # a list or a mapping as a key: reported, the rest still read
                continue
            if name in seen:
                self.fail("duplicate-key", f"key '{name}' is given twice in {what}", k)
                continue
            seen.add(name)
            items.append((name, k, v))
        return items

    def sequence(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail("syntax", f"expected a list for {what}", node)
        return list(node.value)

    # --- the document -------------------------------------------------------------

    def document(self, root: yaml.Node | None, stem: str) -> Document:
        top: dict[str, yaml.Node] = {}
        if root is None:
            self.diags.append(error("syntax", "the spec is empty", Span(self.file, 1, 1)))
        elif not isinstance(root, yaml.MappingNode):
            what = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
            self.fail("syntax", f"a spec is a mapping of {', '.join(TOP_KEYS)}; this file is {what}", root,
                      "start with `input: 3x224x224` and put the layers under `layers:`")
        else:
            for name, knode, vnode in self.mapping(root, "the spec"):
                if name not in TOP_KEYS:
                    self.fail("unknown-key", f"unknown top-level key '{name}'", knode, did_you_mean(name, TOP_KEYS))
                top[name] = vnode
        return Document(
            file=self.file,
            name=str(self.guard(self.plain, top["name"], fallback=stem)) if "name" in top else stem,
            inputs=self.guard(self.inputs, top["input"], fallback=()) if "input" in top else (),
            blocks=self.guard(self.blocks, top["blocks"], fallback={}) if "blocks" in top else {},
            layers=self.guard(self.entries, top["layers"], fallback=()) if "layers" in top else (),
            checks=self.guard(self.checks, top["check"], fallback={}) if "check" in top else {},
            span=Span(self.file, 1, 1),
            outputs=self.outputs(top["output"]) if "output" in top else (),
            outputs_span=self.span(top["output"]) if "output" in top else None,
        )

    def outputs(self, node: yaml.Node) -> tuple[str, ...]:
        names = self.guard(self.raw, node)
        return () if names is None else parse_outputs(names, self.span(node), self.diags)

    @staticmethod
    def guard(read: Any, *args: Any, fallback: Any = None) -> Any:
        """read(*args), or `fallback` for a node that could not be read (already reported)."""
        try:
            return read(*args)
        except _Invalid:
            return fallback

    def inputs(self, node: yaml.Node) -> tuple[InputDecl, ...]:
        if isinstance(node, yaml.MappingNode):
            pairs = [(name, v) for name, _, v in self.mapping(node, "input")]
        else:
            pairs = [("input", node)]
        decls = []
        for name, vnode in pairs:
            try:
                decls.append(InputDecl(name, *self.input_shape(vnode)))
            except ValueError as exc:
                self.fail("invalid-input", f"input {name}: {exc}", vnode)
        return tuple(decls)

    def input_shape(self, node: yaml.Node) -> tuple[tuple[int, ...], Span, str]:
        # `128:int64` is text to YAML; a list or `3x224x224` is a layer value
        raw = node.value if isinstance(node, yaml.ScalarNode) and ":" in node.value else self.plain(node)
        dims, dtype = parse_input(raw)
        return dims, self.span(node), dtype

    def checks(self, node: yaml.Node) -> dict[str, tuple[Any, Span]]:
        checks = {}
        for name, knode, vnode in self.mapping(node, "check"):
            # budgets like 12M are not layer values: scalars go to the check's own reader as text
            value = vnode.value if isinstance(vnode, yaml.ScalarNode) else self.plain(vnode)
            read = read_check(name, value, self.span(knode), self.diags)
            if read is not None:
                checks[name] = read
        return checks

    def blocks(self, node: yaml.Node) -> dict[str, BlockDef]:
        blocks = {}
        for name, knode, vnode in self.mapping(node, "blocks"):
            if not NAME.match(name):
                self.fail("invalid-name", f"block name '{name}' must be letters, digits, _ and - (not first)", knode)
                continue
            blocks[name] = self.guard(self.block, name, knode, vnode)
        return {name: b for name, b in blocks.items() if b is not None}

    def block(self, name: str, knode: yaml.Node, node: yaml.Node) -> BlockDef:
        if isinstance(node, yaml.SequenceNode):  # a block with no args: just its layers
            return BlockDef(name, {}, ("in",), self.entries(node), self.span(knode))
        params: dict[str, Any] = {}
        inputs: tuple[str, ...] = ("in",)
        layers: tuple[Entry, ...] = ()
        for key, k, v in self.mapping(node, f"block '{name}'"):
            if key == "args":
                if not (isinstance(v, yaml.ScalarNode) and v.tag == _TAG + "null"):
                    params = {a: self.plain(d) for a, _, d in self.mapping(v, f"args of '{name}'")}
            elif key == "inputs":
                value = self.plain(v)
                inputs = tuple(str(i) for i in (value if isinstance(value, list) else str(value).split(",")))
            elif key == "layers":
                layers = self.entries(v)
            else:
                self.fail("unknown-key", f"unknown key '{key}' in block '{name}'", k,
                          did_you_mean(key, ("args", "inputs", "layers")))
        return BlockDef(name, params, inputs, layers, self.span(knode))

    def entries(self, node: yaml.Node) -> tuple[Entry, ...]:
        entries = []
        for item in self.sequence(node, "layers"):
            entry = self.guard(self.entry, item)
            if entry is not None:
                entries.append(entry)
        return tuple(entries)

    def entry(self, node: yaml.Node) -> Entry:
        if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "str":
            return self.layer_line(node)
        if not isinstance(node, yaml.MappingNode):
            raise self.fail("syntax", "expected a layer line, a layer type or {TYPE: {args}}", node)
        types = [(n, k, v) for n, k, v in self.mapping(node, "a layer") if n not in RESERVED_KEYS]
        if len(types) != 1:
            found = ", ".join(n for n, _, _ in types) or "none"
            raise self.fail("syntax", f"a layer mapping needs exactly one type key, found: {found}", node)
        type_, knode, args_node = types[0]
        pairs = []
        if not (isinstance(args_node, yaml.ScalarNode) and args_node.tag == _TAG + "null"):
            for key, k, v in self.mapping(args_node, f"the arguments of '{type_}'"):
                # a value that cannot be read is reported; the layer stays, so that the rest of
                # the spec reads as written and no argument is reported missing
                value = self.guard(self.plain, v, f"layer '{type_}', {key}", fallback=INVALID)
                pairs.append((key, value, self.span(k)))
        for key, k, v in self.mapping(node, "a layer"):
            if key in RESERVED_KEYS:
                if isinstance(v, yaml.ScalarNode) and v.tag == _TAG + "null":  # not "no repeat", "no if"
                    raise self.fail("invalid-value", f"'{key}' needs a value, got null", v)
                value = self.raw(v) if key in ("from", "name", "share") else self.plain(v)
                pairs.append((key, value, self.span(k)))
        return make_entry(type_, pairs, self.span(knode), self.diags)

    def layer_line(self, node: yaml.ScalarNode) -> Entry:
        tokens, at = self.folded_tokens(node) or self.line_tokens(node)
        if not tokens:
            raise self.fail("syntax", "empty layer line", node)
        pairs = parse_pairs(tokens[1:], at, self.diags)
        return make_entry(tokens[0][0], pairs, at(tokens[0][1]), self.diags)

    def line_tokens(self, node: yaml.ScalarNode) -> tuple[list[tuple[str, int]], Callable[[int], Span]]:
        """Tokens of a scalar, and their columns where the text maps onto the line one to one
        (a plain scalar, or a quoted one without escapes); elsewhere (an alias, a block
        scalar, escapes) every token is placed at the scalar itself, never past its line."""
        start = self.span(node)
        if not self.written_as_is(node):
            return split_tokens(node.value), lambda col: start
        # plain scalars on one line map offsets to columns exactly; quoted ones are off by one
        shift = 1 if node.style in ("'", '"') else 0
        return split_tokens(node.value), lambda col: Span(self.file, start.line, start.col + shift + col)

    def written_as_is(self, node: yaml.ScalarNode) -> bool:
        first, last = node.start_mark, node.end_mark
        if isinstance(node, AliasedScalar) or first is None or last is None or last.line != first.line:
            return False
        if node.style in (None, ""):
            return True
        if node.style not in ("'", '"') or not self.source:
            return False  # a block scalar (| or >) starts on the next line
        line = self.source_lines()[first.line]
        return line[first.column + 1 : last.column - 1] == node.value

    def folded_tokens(self, node: yaml.ScalarNode) -> tuple[list[tuple[str, int]], Callable[[int], Span]] | None:
        """A plain scalar continued on later lines is folded into one line by YAML: read its
        tokens from the source lines instead, so that each keeps its own line and column
        (None for a scalar on one line, or one whose folding is not token by token)."""
        first, last = node.start_mark, node.end_mark
        if (
            isinstance(node, AliasedScalar)
            or node.style not in (None, "")
            or first is None
            or last is None
            or last.line == first.line
            or not self.source
        ):
            return None
        lines = self.source_lines()
        found: list[tuple[str, Span]] = []
        for number in range(first.line, last.line + 1):
            low = first.column if number == first.line else 0
            high = last.column if number == last.line else len(lines[number])
            found += [(text, Span(self.file, number + 1, low + col + 1))
                      for text, col in split_tokens(lines[number][low:high])]
        if [text for text, _ in found] != [text for text, _ in split_tokens(node.value)]:
            return None
        return [(text, index) for index, (text, _) in enumerate(found)], lambda index: found[index][1]


def parse_yaml(source: str, file: str, stem: str) -> tuple[Document, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    try:
        root = _compose(source)
    except yaml.MarkedYAMLError as exc:
        diags.append(_syntax_error(exc, file))
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow, at its offset
        diags.append(_character_error(exc, source, file))
    except yaml.YAMLError as exc:
        diags.append(error("yaml-syntax", f"YAML error: {exc}", Span(file, 1, 1)))
    else:
        return _Reader(file, diags, source).document(root, stem), diags
    return Document(file, stem, (), {}, (), {}, Span(file, 1, 1)), diags


def _compose(source: str) -> yaml.Node | None:
    try:
        return compose(source, _Loader)
    except yaml.MarkedYAMLError as exc:
        # Some libyaml releases refuse deep flow nesting while scanning ahead, past netcalc's
        # own limit and before the composer meets it: PyYAML's own parser, which reads
        # lazily, lets netcalc's limit speak, so every PyYAML gives the same error.
        if "nesting depth" in str(exc.problem) and _Loader is not yaml.SafeLoader:
            return compose(source, yaml.SafeLoader)
        raise


def _character_error(exc: yaml.reader.ReaderError, source: str, file: str) -> Diagnostic:
    code = exc.character if isinstance(exc.character, int) else ord(exc.character)  # PyYAML gives either
    return error("yaml-syntax", f"YAML does not allow the character U+{code:04X} ({exc.reason})",
                 span_at(file, source, exc.position))


def _syntax_error(exc: yaml.MarkedYAMLError, file: str) -> Diagnostic:
    span = mark_span(file, exc.problem_mark or exc.context_mark)
    if isinstance(exc, ComposeLimit):
        return error(exc.id, str(exc.problem), span)
    return error("yaml-syntax", f"YAML syntax error: {exc.problem or exc.context or 'invalid YAML'}", span)
