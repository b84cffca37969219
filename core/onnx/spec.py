"""`netcalc import`: a model read from ONNX (one layer per node, named by module paths such
as `layer1.0.conv1`) as a readable spec. A spec names `layer1.0.conv1` through block uses,
so the layers are nested by their paths: each module becomes a block use, modules with
the same body share one block definition, and uses `0`, `1`, ... of one block that form a
chain are written once with `repeat` (a ResNet stage of identical units). The spec
expands to the same layer names, so `summary` of it equals `summary` of the file.

Where the paths cannot be nested (a module's layers interleaved with others', or a layer
inside a module read from another module), the layers stay flat, with `.` in their names
written as `_`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..ops import LOOKUP
from ..parse.document import BlockDef, Document, Entry, Ref

_WORD = re.compile(r"[A-Za-z_][\w]*\Z")


class CannotNest(Exception):
    """The paths do not form modules a spec can write."""


@dataclass
class _Group:
    key: str  # the path segment that names the module (`layer1`), or "" for one layer
    entries: list[Entry]


def to_spec(doc: Document) -> Document:
    """The flat document of a model, with its module paths written as blocks."""
    try:
        nester = _Nester(doc)
        layers = nester.scope(list(doc.layers), "", {}, top=True)
    except CannotNest:
        return _flat(doc)
    first = doc.inputs[0].name if doc.inputs else None
    return replace(doc, blocks=nester.blocks, layers=tuple(_implicit_sources(layers, first)))


class _Nester:
    def __init__(self, doc: Document) -> None:
        self.blocks: dict[str, BlockDef] = {}
        self.bodies: dict[Any, str] = {}  # a body -> the block already defined with it
        self.inputs = {i.name for i in doc.inputs}

    def scope(self, entries: list[Entry], prefix: str, outside: dict[str, str], top: bool = False) -> list[Entry]:
        """The entries of one scope (full names under `prefix`), with local names and
        references: `outside` maps values from outside the scope to the block's inputs."""
        groups = _groups(entries, prefix)
        local: dict[str, str] = dict(outside)  # full name -> how this scope refers to it
        result: list[Entry] = []
        for group in groups:
            if not group.key:
                entry = group.entries[0]
                result.append(self.rebind(entry, entry.name[len(prefix):], local, top))  # type: ignore[index]
                local[entry.name] = entry.name[len(prefix):]  # type: ignore[index]
                continue
            result.append(self.module(group, prefix, local, top))
            inner = {_name(e) for e in group.entries}
            last = _name(group.entries[-1])
            local[last] = group.key  # the use's value is its last layer
            for name in inner - {last}:
                local[name] = name if top else _refuse(name)  # top level reaches into a use by its full name
        return result

    def rebind(self, entry: Entry, name: str, local: dict[str, str], top: bool) -> Entry:
        refs = []
        for ref in entry.sources or ():
            target = local.get(ref.name or "")
            if target is None:
                if top and ref.name in self.inputs:
                    target = ref.name
                else:
                    raise CannotNest(f"{entry.name} reads {ref.name}")
            if target.startswith("\0"):
                raise CannotNest(target)
            refs.append(Ref(target))
        return replace(entry, name=name, sources=tuple(refs))

    def module(self, group: _Group, prefix: str, local: dict[str, str], top: bool) -> Entry:
        """A block use for the module `group.key`: its body a block definition (shared by
        modules of the same body), or a repeat of one where its parts form a chain."""
        path = f"{prefix}{group.key}."
        inner = {_name(e) for e in group.entries}
        sources = list(dict.fromkeys(str(ref.name) for e in group.entries for ref in e.sources or ()
                                     if ref.name not in inner))
        params = ("in",) if len(sources) == 1 else tuple(f"in{i}" for i in range(len(sources)))
        body = self.scope(group.entries, path, {s: p for s, p in zip(sources, params)})
        use_sources = [Ref(s) for s in sources]
        repeated = _repeat_of(body, params)
        if repeated is not None:
            block, count = repeated
            entry = Entry(block, {}, group.entries[0].span, {}, group.key, tuple(use_sources), repeat=count)
        else:
            block = self.define(path[:-1], params, body, group.entries[0])
            entry = Entry(block, {}, group.entries[0].span, {}, group.key, tuple(use_sources))
        return self.rebind(entry, group.key, local, top)

    def define(self, key: str, params: tuple[str, ...], body: list[Entry], first: Entry) -> str:
        layers = tuple(_implicit_sources(body, params[0]))
        shape = (params, tuple(_body_key(e) for e in layers))
        if shape in self.bodies:
            return self.bodies[shape]
        name = _block_name(key, set(self.blocks))
        self.blocks[name] = BlockDef(name, {}, params, layers, first.span)
        self.bodies[shape] = name
        return name


def _name(entry: Entry) -> str:
    assert entry.name is not None  # the reader names every layer
    return entry.name


def _groups(entries: list[Entry], prefix: str) -> list[_Group]:
    """Consecutive entries by the module their path names next; a module seen twice apart
    cannot be one block use."""
    groups: list[_Group] = []
    seen: set[str] = set()
    for entry in entries:
        assert entry.name is not None and entry.name.startswith(prefix)
        head, dot, _ = entry.name[len(prefix):].partition(".")
        key = head if dot else ""
        if key and groups and groups[-1].key == key:
            groups[-1].entries.append(entry)
            continue
        if key in seen or (not key and head in seen):
            raise CannotNest(f"{prefix}{head} comes twice, apart")
        seen.add(key or head)
        groups.append(_Group(key, [entry]))
    return groups


def _refuse(name: str) -> str:
    return "\0" + name  # read from another module: not expressible inside a block


def _repeat_of(body: list[Entry], params: tuple[str, ...]) -> tuple[str, int] | None:
    """(block, count) when the body is uses 0..n-1 of one block, each reading the one before."""
    if len(params) != 1 or len(body) < 2:
        return None
    block = body[0].type
    for i, entry in enumerate(body):
        reads = (Ref(params[0]),) if i == 0 else (Ref(str(i - 1)),)
        if entry.name != str(i) or entry.type != block or entry.repeat is not None or entry.sources != reads \
                or block in LOOKUP:
            return None
    return block, len(body)


def _implicit_sources(entries: Sequence[Entry], first: str | None) -> list[Entry]:
    """`from` left out where an entry reads only the one before it (or the block's input,
    first), as people write specs."""
    result = []
    previous = first
    for entry in entries:
        reads_previous = entry.sources is not None and previous is not None and entry.sources == (Ref(previous),)
        no_input = entry.sources == () and LOOKUP.get(entry.type) is not None and LOOKUP[entry.type].inputs[1] == 0
        result.append(replace(entry, sources=None) if reads_previous or no_input else entry)
        previous = entry.name
    return result


def _body_key(entry: Entry) -> Any:
    return (entry.type, tuple(sorted((k, repr(v)) for k, v in entry.args.items())), entry.name,
            entry.sources, entry.repeat)


def _block_name(path: str, taken: set[str]) -> str:
    """The path of the first module with the body (`layer1_0`), unused and no layer type."""
    base = path.replace(".", "_").replace("-", "_")
    base = base if _WORD.match(base) else f"block_{base}"
    name, n = base, 1
    while name in taken or name in LOOKUP:
        n += 1
        name = f"{base}_{n}"
    return name


def _flat(doc: Document) -> Document:
    """The layers as they are, `.` in names written `_` (a spec name has no dots)."""
    renamed: dict[str, str] = {}
    taken = {i.name for i in doc.inputs}
    for entry in doc.layers:  # `a.b` is `a_b`, or `a_b_2` where the file has an `a_b` too
        base = name = _name(entry).replace(".", "_")
        n = 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        renamed[_name(entry)] = name

    def local(name: str | None) -> str | None:
        return None if name is None else renamed.get(name, name)

    layers = [replace(e, name=local(e.name), sources=tuple(Ref(local(r.name)) for r in e.sources or ()))
              for e in doc.layers]
    first = doc.inputs[0].name if doc.inputs else None
    return replace(doc, layers=tuple(_implicit_sources(layers, first)),
                   outputs=tuple(local(o) or o for o in doc.outputs))
