"""The text syntax: one layer line per line, `name`/`input`/`block`/`check` header lines,
and a block's layers indented under its `block` line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..diagnostics import Diagnostic, Span, error
from .common import NAME, make_entry, parse_outputs, parse_pairs, read_check, split_tokens
from .document import INVALID, MAX_LAYERS, REQUIRED, BlockDef, Document, Entry, InputDecl
from .values import parse_input

DEFAULT_INPUT = "input"


class _Reader:
    def __init__(self, file: str, diags: list[Diagnostic]) -> None:
        self.file, self.diags = file, diags
        self.name: str | None = None
        self.inputs: list[InputDecl] = []
        self.blocks: dict[str, BlockDef] = {}
        self.layers: list[Entry] = []
        self.checks: dict[str, tuple[Any, Span]] = {}
        self.outputs: tuple[str, ...] = ()
        self.outputs_span: Span | None = None
        self.block: dict[str, Any] | None = None  # the block being read
        self.entries = 0  # layer lines read, in blocks or not
        self.seen: set[str] = set()  # headers given

    def span(self, line: int, col: int) -> Span:
        return Span(self.file, line, col + 1)

    def line(self, number: int, text: str) -> None:
        tokens = split_tokens(text)
        if not tokens:
            return
        indented = text[:1] in (" ", "\t")
        if self.block is not None and indented:
            self.block["layers"].append(self.entry(number, tokens))
            return
        self.close_block()
        head, col = tokens[0]
        at = self.span(number, col)
        if indented:
            self.diags.append(error("syntax", "indented line outside a block", at))
        elif head == "name":
            self.header_name(tokens, at)
        elif head == "input":
            self.header_input(number, tokens, at)
        elif head == "block":
            self.open_block(number, tokens, at)
        elif head == "output":
            if len(tokens) != 2:
                self.diags.append(error("syntax", "expected 'output NAME' or 'output a,b'", at))
            elif self.once("output", at):
                self.outputs, self.outputs_span = parse_outputs(tokens[1][0], at, self.diags), at
        elif head == "check":
            for key, value, span in parse_pairs(tokens[1:], lambda c: self.span(number, c), self.diags, raw=True):
                read = read_check(key, value, span, self.diags)
                if read is not None and self.once(f"check {key}", span):
                    self.checks[key] = read
        else:
            self.layers.append(self.entry(number, tokens))

    def once(self, what: str, span: Span) -> bool:
        """Whether `what` (a header: the name, an input, a check) is seen for the first time;
        a repeat is an error, as a repeated key is in YAML."""
        if what in self.seen:
            self.diags.append(error("duplicate-key", f"{what} is given twice", span))
            return False
        self.seen.add(what)
        return True

    def entry(self, number: int, tokens: list[tuple[str, int]]) -> Entry:
        self.entries += 1
        type_, col = tokens[0]
        pairs = parse_pairs(tokens[1:], lambda c: self.span(number, c), self.diags)
        return make_entry(type_, pairs, self.span(number, col), self.diags)

    def header_name(self, tokens: list[tuple[str, int]], at: Span) -> None:
        if len(tokens) != 2:
            self.diags.append(error("syntax", "expected 'name NAME'", at))
        elif self.once("name", at):
            self.name = tokens[1][0]

    def header_input(self, number: int, tokens: list[tuple[str, int]], at: Span) -> None:
        if len(tokens) == 2 and "=" not in tokens[1][0]:
            items = [(DEFAULT_INPUT, tokens[1][0], self.span(number, tokens[1][1]))]
        else:
            items = [
                (key, value, span)
                for key, value, span in parse_pairs(tokens[1:], lambda c: self.span(number, c), self.diags, raw=True)
            ]
        if not items:
            self.diags.append(error("syntax", "expected 'input 3x224x224'", at))
        for name, value, span in items:
            if value is INVALID:  # already reported
                continue
            if not self.once("input" if name == DEFAULT_INPUT else f"input {name}", span):
                continue
            try:
                dims, dtype = parse_input(value)
                self.inputs.append(InputDecl(name, dims, span, dtype))
            except ValueError as exc:
                self.diags.append(error("invalid-input", f"input {name}: {exc}", span))

    def open_block(self, number: int, tokens: list[tuple[str, int]], at: Span) -> None:
        if len(tokens) < 2 or not NAME.match(tokens[1][0]):
            self.diags.append(error("syntax", "expected 'block NAME arg=default ...'", at))
            return
        params: dict[str, Any] = {}
        inputs: tuple[str, ...] = ("in",)
        for text, col in tokens[2:]:
            span = self.span(number, col)
            key = text.partition("=")[0]
            if key in params or (key == "inputs" and inputs != ("in",)):
                self.diags.append(error("duplicate-argument", f"'{key}' is given twice", span))
                continue
            if "=" not in text:
                params[text] = REQUIRED
                continue
            for key, value, _ in parse_pairs([(text, col)], lambda c, at=span: at, self.diags):  # type: ignore[misc]
                if key == "inputs":
                    inputs = tuple(part.strip() for part in str(value).split(","))
                    if len(set(inputs)) != len(inputs):
                        self.diags.append(error("duplicate-name", f"an input of block '{tokens[1][0]}' is named "
                                                "twice", span))
                else:
                    params[key] = value
        self.block = {"name": tokens[1][0], "params": params, "inputs": inputs, "layers": [], "span": at}

    def close_block(self) -> None:
        if self.block is None:
            return
        b = self.block
        if b["name"] in self.blocks:
            self.diags.append(error("duplicate-block", f"block '{b['name']}' is defined twice", b["span"]))
        self.blocks[b["name"]] = BlockDef(b["name"], b["params"], b["inputs"], tuple(b["layers"]), b["span"])
        self.block = None


def _lines(source: str) -> Iterator[str]:
    """The lines of `source`, one at a time (a list of them all would double its memory),
    whatever ends them: \n, \r\n or \r."""
    if "\r" in source:
        source = source.replace("\r\n", "\n").replace("\r", "\n")
    start, end = 0, len(source)
    while start < end:
        stop = source.find("\n", start)
        stop = end if stop < 0 else stop
        yield source[start:stop]
        start = stop + 1


def parse_text(source: str, file: str, stem: str) -> tuple[Document, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    reader = _Reader(file, diags)
    for number, text in enumerate(_lines(source), start=1):
        reader.line(number, text)
        if reader.entries > MAX_LAYERS:  # refused before the rest is read: memory stays bounded
            diags.append(error("too-large", f"the spec has more than {MAX_LAYERS:,} layer lines",
                               Span(file, number, 1)))
            break
    reader.close_block()
    doc = Document(
        file=file,
        name=reader.name or stem,
        inputs=tuple(reader.inputs),
        blocks=reader.blocks,
        layers=tuple(reader.layers),
        checks=reader.checks,
        span=Span(file, 1, 1),
        outputs=reader.outputs,
        outputs_span=reader.outputs_span,
    )
    return doc, diags
