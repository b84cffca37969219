"""YAML events -> nodes, like `yaml.compose`, with the bounds a hostile spec needs.

PyYAML's composer recurses once per nesting level (the pure-Python one runs out of stack),
returns an alias as the very node of its anchor (so a problem in it is reported at the
anchor, not where it is used) and expands nothing itself, so that "a billion laughs" of
nested aliases reaches the reader whole. This composer is a loop over libyaml's (or
PyYAML's) events that:

- nests at most MAX_NESTING levels, an error at the node that goes deeper;
- counts every value, an alias as many values as it stands for, and stops at MAX_VALUES,
  before the rest of the file is composed: memory stays proportional to what may be read;
- gives each use of an alias a copy of its anchor's nodes marked at the alias.
"""

from __future__ import annotations

from typing import Any

import yaml

# Levels from the top: a spec's own take six (spec, blocks, a block, its layers, a layer, its
# arguments); deeper is certainly a mistake, and far below libyaml's own limit.
MAX_NESTING = 32
MAX_VALUES = 2_000_000  # a layer line is one value; 2x the 1,000,000 layers a spec may expand to

_RESOLVER = yaml.resolver.Resolver()


class ComposeLimit(yaml.MarkedYAMLError):
    """A bound of this composer, at the node that crossed it; `id` is the diagnostic id."""

    def __init__(self, id: str, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)
        self.id = id


def compose(source: str, loader: Any) -> yaml.Node | None:
    """The single document of `source` as nodes (None when it is empty)."""
    return _Composer().run(yaml.parse(source, Loader=loader))


class _Composer:
    def __init__(self) -> None:
        self.anchors: dict[str, tuple[yaml.Node, int]] = {}  # name -> (node, values it holds)
        self.values = 0
        self.stack: list[tuple[yaml.Node, list[yaml.Node], str | None, int]] = []  # open collections
        self.root: yaml.Node | None = None
        self.documents = 0

    def run(self, events: Any) -> yaml.Node | None:
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                self.documents += 1
                if self.documents > 1:
                    raise yaml.composer.ComposerError("expected a single document in the stream", None,
                                                      "but found another document", _mark(event))
            elif isinstance(event, yaml.AliasEvent):
                self.add(self.alias(event))
            elif isinstance(event, yaml.ScalarEvent):
                self.add(_scalar(event), event.anchor, 1)
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                self.open(event)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                self.close(event)
        return self.root

    def count(self, values: int, mark: Any) -> None:
        self.values += values
        if self.values > MAX_VALUES:
            raise ComposeLimit("too-large", f"the spec holds more than {MAX_VALUES:,} YAML values (a spec expands "
                               "to at most 1,000,000 layers)", mark)

    def open(self, event: Any) -> None:
        if len(self.stack) >= MAX_NESTING:
            raise ComposeLimit("too-deep", f"the YAML is nested more than {MAX_NESTING} levels deep",
                               event.start_mark)
        sequence = isinstance(event, yaml.SequenceStartEvent)
        kind = yaml.SequenceNode if sequence else yaml.MappingNode
        tag = event.tag if event.tag not in (None, "!") else _RESOLVER.resolve(kind, None, event.implicit)
        node = kind(tag, [], event.start_mark, None, event.flow_style)
        self.count(1, event.start_mark)
        self.stack.append((node, [], event.anchor, self.values - 1))

    def close(self, event: Any) -> None:
        node, children, anchor, values_before = self.stack.pop()
        node.end_mark = event.end_mark
        node.value = children if isinstance(node, yaml.SequenceNode) else list(zip(children[::2], children[1::2]))
        self.add(node, anchor, self.values - values_before, counted=True)

    def add(self, node: yaml.Node, anchor: str | None = None, values: int = 0, counted: bool = False) -> None:
        if not counted:
            self.count(values, node.start_mark)
        if anchor is not None:
            self.anchors[anchor] = (node, values)
        if self.stack:
            self.stack[-1][1].append(node)
        else:
            self.root = node

    def alias(self, event: Any) -> yaml.Node:
        if event.anchor not in self.anchors:
            raise yaml.composer.ComposerError(None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
        node, values = self.anchors[event.anchor]
        self.count(values, event.start_mark)
        return _marked_copy(node, event.start_mark, event.end_mark)


def _mark(event: Any) -> Any:
    """An event's start: libyaml's marks and PyYAML's are different classes, read alike."""
    return event.start_mark


def _scalar(event: Any) -> yaml.ScalarNode:
    tag = event.tag if event.tag not in (None, "!") else _RESOLVER.resolve(yaml.ScalarNode, event.value,
                                                                            event.implicit)
    return yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)


class AliasedScalar(yaml.ScalarNode):
    """A scalar reached through an alias: marked at the alias, where its text is not."""


def _marked_copy(node: yaml.Node, start: Any, end: Any) -> yaml.Node:
    """The anchored nodes again, every one marked at the alias: a problem in them is
    reported where they are used. The copy is as large as the values already counted."""
    if isinstance(node, yaml.ScalarNode):
        return AliasedScalar(node.tag, node.value, start, end, node.style)
    if isinstance(node, yaml.SequenceNode):
        return yaml.SequenceNode(node.tag, [_marked_copy(n, start, end) for n in node.value], start, end,
                                 node.flow_style)
    pairs = [(_marked_copy(k, start, end), _marked_copy(v, start, end)) for k, v in node.value]
    return yaml.MappingNode(node.tag, pairs, start, end, getattr(node, "flow_style", None))
