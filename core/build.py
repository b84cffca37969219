"""Document -> Graph: expand blocks and repeats, resolve `from`, evaluate `$` expressions,
normalise attributes through the op table, and name every layer like a PyTorch module.

`expand` is a generator that yields layers in topological order. `$in` (the channel
count of a block's input) is answered by the `shape_of` callback, which the caller keeps
up to date by inferring each layer's shape as it is yielded.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from .diagnostics import Diagnostic, Span, did_you_mean, error, warning
from .ir import BlockInstance, Input, Layer, Shape
from .ops import LOOKUP
from .ops.registry import OpDef, OpError, as_written, normalize_attrs
from .parse.document import INVALID, MAX_LAYERS, REQUIRED, BlockDef, Document, Entry
from .parse.expr import ExprError, evaluate, names
from .parse.values import Expr

MAX_NESTING = 64  # blocks within blocks; far beyond real networks, well within Python's stack

ShapeOf = Callable[[str], "Shape | None"]
Out = str | None  # the node an entry's output is, or None when it could not be built
Expansion = Generator[Layer, None, Out]


@dataclass(frozen=True, slots=True)
class _Scope:
    prefix: str  # qualified name of the enclosing block instance, plus "."
    inputs: Mapping[str, str]  # local input names (`in`, `x`, `input`) -> nodes
    first_input: str
    env: Mapping[str, Any]  # bound arguments
    block_path: tuple[str, ...]
    stack: tuple[str, ...]  # blocks being expanded, to catch block cycles


class Builder:
    def __init__(self, doc: Document, inputs: tuple[Input, ...], shape_of: ShapeOf) -> None:
        self.doc, self.inputs, self.shape_of = doc, inputs, shape_of
        self.diags: list[Diagnostic] = []
        self.blocks: list[BlockInstance] = []
        self.count = 0
        self.output: str | None = None
        self.outputs: tuple[str, ...] = ()  # as `output:` names them; empty: the last layer alone
        self._sizes: dict[str, int] = {}
        self._attrs: dict[tuple[Any, ...], tuple[Mapping[str, Any], list[Any]]] = {}
        self._uses_in: dict[int, bool] = {}
        self.qualified: dict[str, str] = {}  # every layer and block instance built so far -> its output
        self.built: dict[str, Layer] = {}
        self.frozen = False  # inside a use with trainable=false

    def fail(self, id: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diags.append(error(id, message, span, hint))

    # --- sequences ----------------------------------------------------------------

    def expand(self) -> Generator[Layer, None, None]:
        for block in self.doc.blocks.values():
            if block.name in LOOKUP:
                self.fail("duplicate-block", f"block '{block.name}' has the name of a layer type", block.span)
            if not block.layers:  # its uses would vanish without a trace
                self.fail("empty-block", f"block '{block.name}' has no layers", block.span,
                          "indent its layer lines under it" if self.doc.file.endswith(".net") else None)
        inputs = {i.name: i.name for i in self.inputs}
        first = self.inputs[0].name
        inputs.setdefault("input", first)
        scope = _Scope("", inputs, first, {}, (), ())
        out = yield from self.sequence(self.doc.layers, scope)
        if self.doc.layers and out not in inputs.values():
            self.output = out
        if self.doc.outputs and self.output is not None:
            self.outputs = self.named_outputs(self.doc.outputs, self.doc.outputs_span or self.doc.span)
            self.output = self.outputs[0] if self.outputs else None

    def named_outputs(self, names: tuple[str, ...], span: Span) -> tuple[str, ...]:
        """`output:` names, as `from` at top level finds them (a block use: its last layer)."""
        found = []
        for name in names:
            if name not in self.qualified:
                hint = did_you_mean(name, list(self.qualified))
                self.fail("unknown-reference", f"output '{name}' names no layer or block use", span, hint)
                return ()
            found.append(self.qualified[name])
        return tuple(found)

    def sequence(self, entries: Iterable[Entry], scope: _Scope) -> Expansion:
        entries = tuple(entries)
        explicit = {e.name for e in entries if e.name}
        local_names = _auto_names(entries, explicit | set(scope.inputs))
        known: dict[str, Out] = dict(scope.inputs)
        history: list[Out] = []
        for index, entry in enumerate(entries):
            local = local_names[index]
            if local in known:
                self.fail("duplicate-name", f"name '{local}' is already used in this scope", entry.span)
            sources = self.resolve(entry, index, history, known, explicit, scope)
            if entry.share is not None:
                entry = self.bind_share(entry, known, scope)
            out = yield from self.entry(entry, scope.prefix + local, sources, scope)
            known[local] = out
            history.append(out)
        return history[-1] if history else scope.first_input

    def bind_share(self, entry: Entry, known: dict[str, Out], scope: _Scope) -> Entry:
        """The entry with `share` naming the qualified layer it shares, as `from` finds names."""
        name = entry.share or ""
        where = entry.arg_spans.get("share", entry.span)
        if entry.type in self.doc.blocks:
            self.fail("invalid-share", f"share= is for a layer; '{entry.type}' is a block (share its layers)", where)
            return replace(entry, share="")
        local = known.get(name)
        target = local if local is not None or scope.stack else self.qualified.get(name)
        problem = None
        if target is None:
            problem = "not an earlier layer here"
        elif local is not None and local != scope.prefix + name:  # a block use's output, or `if`'s input
            problem = "a block use, not a layer" if scope.prefix + name in self.qualified else "dropped by `if`"
        elif target not in self.built:
            problem = "a network input, not a layer"
        if problem:
            self.fail("invalid-share", f"share={name}: '{name}' is {problem}", where)
            return replace(entry, share="")
        return replace(entry, share=target)

    def resolve(
        self, entry: Entry, index: int, history: list[Out], known: dict[str, Out], explicit: set[str], scope: _Scope
    ) -> tuple[str, ...] | None:
        """The nodes an entry reads, or None when one is missing (reported, or poisoned upstream)."""
        if entry.sources is None:
            opdef = LOOKUP.get(entry.type)
            if opdef is not None and opdef.inputs[1] == 0:  # a learned tensor (`param`) reads nothing
                return ()
            previous = history[-1] if history else scope.first_input
            return None if previous is None else (previous,)
        nodes: list[str] = []
        for ref in entry.sources:
            node: Out = None
            if ref.name is not None and ref.name in known:
                node = known[ref.name]
            elif ref.name is not None and not scope.stack and ref.name in self.qualified:
                node = self.qualified[ref.name]  # top level reaching into a block use: `layer4.2.relu`
            elif ref.name is not None and ref.name in explicit:
                self.fail("forward-reference", f"'{entry.type}' reads '{ref.name}', which comes later "
                          "(a layer may only read earlier layers: is there a cycle?)", entry.span)
            elif ref.name is not None:
                hint = did_you_mean(ref.name, [k for k in known if k])
                self.fail("unknown-reference", f"'{entry.type}' reads '{ref.name}', which is not defined here",
                          entry.span, hint)
            elif index - ref.back >= 0:
                node = history[index - ref.back]
            elif index - ref.back == -1:
                node = scope.first_input
            else:
                self.fail("unknown-reference", f"from -{ref.back} reaches before the first layer", entry.span)
            if node is None:
                return None
            nodes.append(node)
        return tuple(nodes)

    # --- one entry: a layer or a block use, maybe repeated or conditional --------------

    def entry(self, entry: Entry, qualified: str, sources: tuple[str, ...] | None, scope: _Scope) -> Expansion:
        """Expand one entry. Without `sources` (its input failed) it is only checked, so
        that its own mistakes are reported too."""
        env = self.env_with_in(scope, entry) if sources is not None else scope.env
        if env is None:
            return None
        if entry.condition is not None:
            keep = self.value(entry.condition, env, entry, "if")
            if not isinstance(keep, bool):
                if keep is not INVALID:
                    self.fail("invalid-argument", f"if needs true or false, got {keep!r}", entry.span)
                return None
            if not keep:
                return sources[0] if sources else None  # a dropped layer passes its first input through
        if entry.type.startswith("$"):  # a layer type given as a block argument: `- $act`
            bound = env.get(entry.type[1:])
            if not isinstance(bound, str):
                what = "not an argument of the block" if bound is None else f"{as_written(bound)}, not a layer type"
                self.fail("unknown-type", f"layer type {entry.type} is {what}", entry.span)
                return None
            entry = replace(entry, type=bound)
        opdef = LOOKUP.get(entry.type)
        block = self.doc.blocks.get(entry.type)
        if opdef is None and block is None:
            hint = did_you_mean(entry.type, list(LOOKUP) + list(self.doc.blocks))
            self.fail("unknown-type", f"unknown layer type '{entry.type}'", entry.span, hint)
            return None
        count = self.repeat_count(entry, env)
        trainable = self.trainable(entry, env)
        if count == 0 or trainable is None:
            return None
        if sources is None:
            if block is None:
                yield from self.layer(opdef, entry, qualified, None, env, ())  # type: ignore[arg-type]
            return None
        outer, self.frozen = self.frozen, self.frozen or not trainable
        try:
            return (yield from self.instances(entry, opdef, block, qualified, sources, env, count, scope))
        finally:
            self.frozen = outer

    def trainable(self, entry: Entry, env: Mapping[str, Any]) -> bool | None:
        """`trainable=` as written (true when not), or None after an error."""
        if entry.trainable is None:
            return True
        value = self.value(entry.trainable, env, entry, "trainable")
        if not isinstance(value, bool):
            if value is not INVALID:
                self.fail("invalid-argument", f"trainable needs true or false, got {as_written(value)}", entry.span)
            return None
        return value

    def instances(
        self, entry: Entry, opdef: OpDef | None, block: BlockDef | None, qualified: str, sources: tuple[str, ...],
        env: Mapping[str, Any], count: int | None, scope: _Scope,
    ) -> Expansion:
        """The entry once, or `count` times in sequence (`name.0`, `name.1`, ...), each
        instance after the first reading the previous one's output."""
        named = [(qualified, env)] if count is None else [(f"{qualified}.{i}", {**env, "i": i}) for i in range(count)]
        path = scope.block_path
        if count is not None:
            self.blocks.append(BlockInstance(qualified, entry.type, entry.span))
            path = path + (qualified,)
        out: Out = None
        for i, (name, instance_env) in enumerate(named):
            reads = sources if i == 0 else (out, *sources[1:]) if block else (out,)
            if block is not None:
                out = yield from self.block_use(block, entry, name, reads, instance_env, scope, path)  # type: ignore[arg-type]
            else:
                out = yield from self.layer(opdef, entry, name, reads, instance_env, path)  # type: ignore[arg-type]
            if out is None:
                return None
            self.qualified[name] = out
        if out is not None:
            self.qualified[qualified] = out  # a repeated layer or block: its last instance
        return out

    def repeat_count(self, entry: Entry, env: Mapping[str, Any]) -> int | None:
        """None when not repeated; 0 after an error."""
        if entry.repeat is None:
            return None
        n = self.value(entry.repeat, env, entry, "repeat")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            if n is not INVALID:
                self.fail("invalid-argument", f"repeat must be a positive integer, got {n!r}", entry.span)
            return 0
        if self.count + n * self.static_size(entry.type) > MAX_LAYERS:
            self.fail("too-large", f"repeat={n} would expand past {MAX_LAYERS:,} layers", entry.span)
            return 0
        return n

    def block_use(
        self, block: BlockDef, entry: Entry, name: str, sources: tuple[str, ...], env: Mapping[str, Any],
        scope: _Scope, path: tuple[str, ...],
    ) -> Expansion:
        if block.name in scope.stack:
            chain = " -> ".join(scope.stack + (block.name,))
            self.fail("block-cycle", f"block '{block.name}' uses itself ({chain})", entry.span)
            return None
        if len(scope.stack) >= MAX_NESTING:
            self.fail("too-deep", f"blocks are nested more than {MAX_NESTING} deep", entry.span)
            return None
        if len(sources) != len(block.inputs):
            self.fail("wrong-input-count", f"block '{block.name}' takes {len(block.inputs)} input(s) "
                      f"({', '.join(block.inputs)}), got {len(sources)}", entry.span)
            return None
        args = self.bind(block, entry, env)
        if args is None:
            return None
        self.blocks.append(BlockInstance(name, block.name, entry.span, sources, block.inputs))
        inner = _Scope(name + ".", dict(zip(block.inputs, sources)), sources[0], args,
                       path + (name,), scope.stack + (block.name,))
        return (yield from self.sequence(block.layers, inner))

    def bind(self, block: BlockDef, entry: Entry, env: Mapping[str, Any]) -> dict[str, Any] | None:
        args: dict[str, Any] = {}
        ok = True
        for key, raw in entry.args.items():
            span = entry.arg_spans.get(key, entry.span)
            if key not in block.params:
                hint = did_you_mean(key, list(block.params))
                self.fail("unknown-argument", f"block '{block.name}' has no argument '{key}'", span, hint)
                ok = False
                continue
            args[key] = self.value(raw, env, entry, key)
            ok = ok and args[key] is not INVALID
        for key, default in block.params.items():
            if key in args:
                continue
            if default is REQUIRED:
                self.fail("missing-argument", f"block '{block.name}' needs argument '{key}'", entry.span)
                ok = False
            else:
                args[key] = self.value(default, args, entry, key)
                ok = ok and args[key] is not INVALID
        return args if ok else None

    def layer(
        self, opdef: OpDef, entry: Entry, name: str, sources: tuple[str, ...] | None, env: Mapping[str, Any],
        path: tuple[str, ...],
    ) -> Expansion:
        least, most = opdef.inputs
        if sources is not None and (len(sources) < least or (most is not None and len(sources) > most)):
            wanted = f"{least}" if least == most else f"at least {least}"
            self.fail("wrong-input-count", f"layer '{name}' ({opdef.name}) takes {wanted} input(s), "
                      f"got {len(sources)}", entry.span)
            return None
        given = {key: self.value(raw, env, entry, key, quiet=sources is None) for key, raw in entry.args.items()}
        if any(v is INVALID for v in given.values()):
            return None
        attrs, problems = self.normalize(opdef, given)
        for key, id, message, hint in problems:
            self.fail(id, f"layer '{name}': {message}", entry.arg_spans.get(key, entry.span), hint)
        if problems or sources is None:
            return None
        self.count += 1
        if self.count > MAX_LAYERS:
            self.fail("too-large", f"the spec expands past {MAX_LAYERS:,} layers", entry.span)
            return None
        own = Layer(name, opdef.name, attrs, sources, entry.span, path, trainable=not self.frozen)
        layer = self.shared(own, self.built[entry.share], entry) if entry.share else own
        if layer is None:
            return None
        yield layer
        self.qualified[name] = name
        self.built[name] = layer
        return name

    def shared(self, layer: Layer, target: Layer, entry: Entry) -> Layer | None:
        """The layer calling `target`'s module again (same type and arguments), or a linear
        head tied to an embedding's weight; None (reported) otherwise. It trains as `target`."""
        where = entry.arg_spans.get("share", entry.span)
        if layer.op == "linear" and target.op == "embedding":
            features = self.shape_of(layer.inputs[0])
            table = (target.attrs or {})["num"], (target.attrs or {})["dim"]
            if features is not None and ((layer.attrs or {})["out"], features.dims[-1]) != table:
                self.fail("invalid-share", f"layer '{layer.name}' (linear {features.dims[-1]} -> "
                          f"{(layer.attrs or {})['out']}) cannot be tied to '{target.name}' (embedding "
                          f"num={table[0]} dim={table[1]}): it needs out={table[0]} on {table[1]} features", where)
                return None
        elif (layer.op, dict(layer.attrs or {})) != (target.op, dict(target.attrs or {})):
            self.fail("invalid-share", f"layer '{layer.name}' cannot share '{target.name}': a shared module has "
                      f"the same type and arguments ({' '.join([target.op, *_arguments(target)])})", where)
            return None
        elif not self.same_weights(layer, target):
            mine, theirs = (" and ".join(str(self.shape_of(n)) for n in x.inputs) for x in (layer, target))
            self.fail("invalid-share", f"layer '{layer.name}' reads {mine}, but the module of '{target.name}' "
                      f"has weights for {theirs}", where)
            return None
        # a shared module trains as it does where it was made; a tied head's own bias, as the head
        tied = layer.op != target.op
        return replace(layer, shares=target.name, trainable=layer.trainable if tied else target.trainable)

    def same_weights(self, layer: Layer, target: Layer) -> bool:
        """Whether the module's weights fit this call's input as they fit the first call's
        (PyTorch raises where they do not: a Linear(40, 16) given 16 features)."""
        mine = tuple(self.shape_of(n) for n in layer.inputs)
        theirs = tuple(self.shape_of(n) for n in target.inputs)
        if any(shape is None for shape in mine + theirs):
            return True  # an input failed: that error is reported already
        rule = LOOKUP[layer.op].count_params
        try:
            return rule(layer.attrs or {}, mine) == rule(target.attrs or {}, theirs)  # type: ignore[arg-type]
        except OpError:
            return True  # this input does not fit the op at all: the shape pass says so

    def normalize(self, opdef: OpDef, given: dict[str, Any]) -> tuple[Mapping[str, Any], list[Any]]:
        """normalize_attrs, once per distinct (op, arguments): identical layers then share
        one read-only attrs mapping, which also makes the shape and cost memos cheap."""
        try:
            key = (opdef.name, tuple(given.items()))
            hash(key)
        except TypeError:  # a list value (per-side padding): not cached
            attrs, problems = normalize_attrs(opdef, given)
            return MappingProxyType(attrs), problems
        if key not in self._attrs:
            attrs, problems = normalize_attrs(opdef, given)
            self._attrs[key] = (MappingProxyType(attrs), problems)
        return self._attrs[key]

    # --- values ---------------------------------------------------------------------

    def value(self, raw: Any, env: Mapping[str, Any], entry: Entry, key: str, quiet: bool = False) -> Any:
        """A raw value with its expressions evaluated; INVALID after an error (reported
        unless `quiet`: `$in` is unknown when the block's input failed). None is a value
        (YAML's null), which the attribute's kind refuses with its own message."""
        if isinstance(raw, list):
            items = [self.value(item, env, entry, key, quiet) for item in raw]
            return INVALID if any(i is INVALID for i in items) else items
        if not isinstance(raw, Expr):
            return raw
        try:
            return evaluate(raw.source, env)
        except ExprError as exc:
            if quiet and not {"in", "last"}.isdisjoint(names(raw.source)):
                return INVALID
            self.fail("invalid-expression", f"{key}={raw.source}: {exc}", entry.arg_spans.get(key, entry.span))
            return INVALID

    def env_with_in(self, scope: _Scope, entry: Entry) -> Mapping[str, Any] | None:
        """The scope's arguments, plus `$in` when the entry uses it and we are in a block."""
        if not scope.stack:
            return scope.env
        uses_in = self._uses_in.get(id(entry))
        if uses_in is None:
            uses_in = self._uses_in[id(entry)] = any(
                not {"in", "last"}.isdisjoint(names(v.source)) for v in _exprs(entry))
        if not uses_in:
            return scope.env
        shape = self.shape_of(scope.first_input)
        if shape is None:
            return None  # the input itself failed; that error is already reported
        # $in: the first axis (channels, or a sequence's length); $last: the last (its features),
        # unless the block has an argument of that name (a v1 spec's `last` keeps its meaning)
        return {"last": shape.dims[-1], **scope.env, "in": shape.dims[0]}

    def static_size(self, type_: str) -> int:
        """Layers in one use of `type_`, counting literal repeats (to refuse absurd specs early)."""
        block = self.doc.blocks.get(type_)
        if block is None:
            return 1
        if type_ not in self._sizes:
            self._sizes[type_] = 1  # provisional, so that a block cycle terminates here
            total = 0
            for e in block.layers:
                times = e.repeat if isinstance(e.repeat, int) and not isinstance(e.repeat, bool) else 1
                total += times * self.static_size(e.type)
            self._sizes[type_] = max(total, 1)
        return self._sizes[type_]


def _arguments(layer: Layer) -> list[str]:
    return [f"{key}={as_written(value)}" for key, value in (layer.attrs or {}).items()]


def _exprs(entry: Entry) -> Iterable[Expr]:
    values: list[Any] = list(entry.args.values()) + [entry.repeat, entry.condition, entry.trainable]
    while values:
        v = values.pop()
        if isinstance(v, Expr):
            yield v
        elif isinstance(v, list):
            values.extend(v)


def _auto_names(entries: tuple[Entry, ...], taken: set[str]) -> list[str]:
    """Explicit names, and `type_N` (N counting that type from 1) for unnamed entries."""
    counters: dict[str, int] = {}
    result = []
    for e in entries:
        if e.name:
            result.append(e.name)
            continue
        base = e.type.lstrip("$")  # `- $act` is named act_1
        while True:
            counters[base] = counters.get(base, 0) + 1
            candidate = f"{base}_{counters[base]}"
            if candidate not in taken:
                break
        result.append(candidate)
    return result


def unused_layers(layers: tuple[Layer, ...], outputs: tuple[str, ...],
                  blocks: Iterable[BlockInstance] = ()) -> list[Diagnostic]:
    """Warnings for layers whose output reaches nothing (the network's outputs excepted).

    A layer inside a block is reported at the line that uses the block at top level, not
    at its own line in the block's definition: that line is shared by every use, and the
    layer may be dead in one use only (an `if` dropped its reader there). The message names
    the layer (`layer1.conv_2`) and where the block writes it."""
    read = {source for layer in layers for source in layer.inputs}
    uses = {b.name: b for b in blocks}
    found = []
    for layer in layers:
        if layer.name in read or layer.name in outputs:
            continue
        span, where = layer.span, ""
        if layer.block_path:
            span = uses[layer.block_path[0]].span
            # the innermost block whose definition holds the layer's line (a repeated
            # layer's instance names an op, not a block)
            block = next((uses[n].block for n in reversed(layer.block_path) if uses[n].block not in LOOKUP), None)
            where = f", in block '{block}' at line {layer.span.line}" if block else ""
        message = f"the output of layer '{layer.name}' ({layer.op}{where}) is never used"
        found.append(warning("unused-layer", message, span))
    return found
