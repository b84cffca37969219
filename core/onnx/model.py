"""Reading an ONNX model into a `Document`: the graph's inputs, its nodes mapped one by one
onto layers (operators.py), constants folded, names made module paths.

Positions: an ONNX file has no lines, so a node's span is its index in the graph, from 1
(`model.onnx:13:1` is the 13th node); messages also name the node and its op type.
Values are followed with their shapes as the op table computes them, so that a Reshape's
`0` or a Flatten's axis map exactly; the batch axis is the first axis, as in the rest of
netcalc, and a file's batch size (1, or a symbolic `batch`) is that axis wherever a
constant names it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from math import prod
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..analysis.shapes import bounded, typed
from ..diagnostics import Diagnostic, Span, error, warning
from ..ir import Shape
from ..ops import LOOKUP
from ..ops.registry import REQUIRED, OpError, normalize_attrs
from ..parse.document import Document, Entry, InputDecl, Ref
from ..parse.values import parse_input

if TYPE_CHECKING:
    import numpy as np

# ONNX element types (TensorProto.DataType) as netcalc's dtypes
DTYPES = {1: "float32", 10: "float16", 11: "float64", 16: "bfloat16", 6: "int32", 7: "int64", 9: "bool"}
READ_LIMIT = 1 << 16  # elements of a constant read as values (shapes, axes, pads); larger ones stay shapes


class Unmapped(Exception):
    """A node netcalc cannot map exactly: becomes a positioned error, never a guess."""

    def __init__(self, message: str, id: str = "unsupported-node") -> None:
        super().__init__(message)
        self.id, self.message = id, message


@dataclass(frozen=True, slots=True)
class Constant:
    """A value known from the file: an initializer (a weight, when a layer reads it as data:
    parameters) or computed from constants. `array` is None for one too large to read."""

    dims: tuple[int, ...]
    array: np.ndarray | None
    weight: bool = False
    origin: str | None = None  # the initializer it is (or a transpose or view of): a tied weight is one tensor

    @property
    def numel(self) -> int:
        n = 1
        for d in self.dims:
            n *= d
        return n


@dataclass(frozen=True, slots=True)
class Tensor:
    """A value computed from the inputs: the layer (or input) that gives it, its shape
    without the batch axis. Where the batch axis has moved (attention's heads reshaped
    into it, a sequence-first recurrence), the tensor is `full`: its shape holds every
    ONNX axis, the batch's among them (of size 1), and netcalc's own batch axis is one of
    size 1 in front; counts per sample stay exact (see docs/onnx.md)."""

    layer: str
    shape: Shape
    full: bool = False

    @property
    def onnx_dims(self) -> tuple[int, ...]:
        """Its shape as ONNX has it, at batch 1."""
        return self.shape.dims if self.full else (1, *self.shape.dims)


Value = Constant | Tensor


@dataclass(frozen=True, slots=True)
class Node:
    index: int  # from 1
    op_type: str
    name: str
    inputs: tuple[str, ...]  # "" for an optional input left out
    outputs: tuple[str, ...]
    attrs: dict[str, Any]
    domain: str  # "" (or ai.onnx) for the standard operators
    scope: str | None  # the PyTorch module path recorded for it (see module_path)
    fallback: str  # its name without one: the node's name, or its first output
    span: Span

    @property
    def label(self) -> str:
        named = f" '{self.name}'" if self.name else ""
        return f"node {self.index}{named} ({self.op_type})"


Handler = Callable[["Reader", Node], None]


def onnx_module() -> Any:
    try:
        import onnx
    except ImportError:
        return None
    return onnx


def read_onnx(path: Path, file: str, options: Sequence[str] = (),
              allow_unknown: bool = False) -> tuple[Document, list[Diagnostic]]:
    """The model at `path` as a Document, with the diagnostics of reading it. `options` are
    the --input values, which give symbolic dimensions their sizes; `allow_unknown`
    (--allow-unknown) reads an unmapped operator as identity where the file declares its
    output of its input's shape (`Reader.unknown`)."""
    onnx = onnx_module()
    where = Span(file, 1, 1)
    if onnx is None:
        return _empty(file, path.stem, where), [error("onnx-not-installed", f"{file} is an ONNX model: reading it "
                                                      "needs the onnx package", where,
                                                      'pip install "netcalc[onnx]"')]
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError, or a truncated file: say so, positioned at the file
        return _empty(file, path.stem, where), [error("invalid-onnx", f"{file} is not a readable ONNX model "
                                                      f"({type(exc).__name__}: {exc})", where)]
    reader = Reader(model.graph, file, path.stem, options, str(path.parent), lifted_constants(model), allow_unknown,
                    recorded_buffers(model))
    return reader.read()


def recorded_buffers(model: Any) -> frozenset[str]:
    """The initializers a torch.export file records as buffers (its graph signature): read
    as data they are no `param` (a running mean added to x), so they are refused there."""
    import re

    signature = next((p.value for p in model.graph.metadata_props
                      if p.key == "pkg.torch.export.ExportedProgram.graph_signature"), "")
    return frozenset(re.findall(r"BUFFER target='([^']*)'", signature))


def lifted_constants(model: Any) -> frozenset[str]:
    """The initializers a torch.export file records as no parameter or buffer: the constants
    its exporter lifted (`x + 1`, a tensor made in forward) and folded. Such a file states
    its parameters and buffers (the graph signature); an initializer that is none of them
    and was folded from none of them is a constant. Other files say nothing: every
    initializer is taken as learned."""
    import re

    signature = next((p.value for p in model.graph.metadata_props
                      if p.key == "pkg.torch.export.ExportedProgram.graph_signature"), None)
    if signature is None:
        return frozenset()
    learned = set(re.findall(r"(?:PARAMETER|BUFFER) target='([^']*)'", signature))
    origins: dict[str, set[str]] = {}
    for value in (*model.graph.value_info, *model.graph.input, *model.graph.initializer):
        for prop in value.metadata_props:
            if prop.key == "pkg.onnxscript.optimizer.folded_from":
                try:
                    origins.setdefault(value.name, set()).update(map(str, ast.literal_eval(prop.value)))
                except (ValueError, SyntaxError):
                    origins.setdefault(value.name, set()).add(value.name)  # unreadable: taken as learned
    return frozenset(t.name for t in model.graph.initializer
                     if t.name not in learned and not origins.get(t.name, set()) & (learned | {t.name}))


def _empty(file: str, stem: str, span: Span) -> Document:
    return Document(file, stem, (), {}, (), {}, span)


class Reader:
    def __init__(self, graph: Any, file: str, stem: str, options: Sequence[str], folder: str = "",
                 lifted: frozenset[str] = frozenset(), allow_unknown: bool = False,
                 buffers: frozenset[str] = frozenset()) -> None:
        from .operators import BATCH_FIRST, FOLDERS, HANDLERS

        self.graph, self.file, self.stem = graph, file, stem
        self.folder = folder  # where a constant stored as external data is, beside the model
        self.lifted = lifted  # initializers the file records as constants, not parameters (lifted_constants)
        self.allow_unknown = allow_unknown
        self.buffers = buffers  # initializers the file records as buffers (recorded_buffers)
        self.handlers, self.folders, self.batch_first = HANDLERS, FOLDERS, BATCH_FIRST
        self.options = _input_options(options)
        self.values: dict[str, Value] = {}
        self.entries: list[Entry] = []
        self.names: set[str] = set()
        self.counters: dict[str, int] = {}  # `type_N` names per block scope and type
        self.owners: dict[str, str] = {}  # an initializer -> the layer whose weight it is
        self.diags: list[Diagnostic] = []
        self.batch: int | None = None  # the file's batch size where it states one
        self.readers: dict[str, int] = {}  # value -> how many node inputs read it
        # a MatMul's linear layer, whose bias the Add after it may be (value -> entry, tensor)
        self.pending_bias: dict[str, tuple[int, Tensor]] = {}
        self._last: Node | None = None  # the node being read (graph outputs are converted at the last)
        self.pad_sources: dict[str, str] = {}  # a Pad's output -> its input, should a Conv take the padding
        # a Pad of -inf before a max pool -> (its input, the sides): the pool's padding
        self.pool_pads: dict[str, tuple[str, list[list[int]]]] = {}
        self.consumers: dict[str, list[int]] = {}  # value -> the indices (from 1) of the nodes that read it
        self.skipped: set[int] = set()  # nodes a pattern has read already (GELU's arithmetic)
        self.producers: dict[str, int] = {}  # value -> the index (from 1) of the node that gives it
        self.recurrences: dict[str, str] = {}  # a recurrent node's output Y -> the layer it is the output of
        for index, node in enumerate(graph.node, start=1):
            self.producers.update((name, index) for name in node.output if name)
            for name in node.input:
                self.readers[name] = self.readers.get(name, 0) + 1
                self.consumers.setdefault(name, []).append(index)

    # --- the walk ---------------------------------------------------------------------

    def read(self) -> tuple[Document, list[Diagnostic]]:
        where = Span(self.file, 1, 1)
        for tensor in self.graph.initializer:
            self.values[tensor.name] = Constant(tuple(tensor.dims), None, weight=tensor.name not in self.lifted,
                                                origin=tensor.name)
        self._initializers = {t.name: t for t in self.graph.initializer}
        if not self.graph.node:
            return _empty(self.file, self.stem, where), [error("invalid-onnx", f"{self.file} has no nodes (an empty "
                                                              "file, or a model without a graph)", where)]
        inputs = self._inputs(where)
        if inputs is None:
            return _empty(self.file, self.stem, where), self.diags
        if not inputs:
            return _empty(self.file, self.stem, where), [error("invalid-onnx", f"{self.file} has no input that a "
                                                              "node reads", where)]
        for index, proto in enumerate(self.graph.node, start=1):  # constants first: a pattern looks ahead at them
            if proto.op_type == "Constant" and not proto.input:
                try:
                    self._map(self._node(index, proto))
                except Unmapped:
                    pass  # reported where the walk reaches it
        for index, proto in enumerate(self.graph.node, start=1):
            if index in self.skipped:
                continue
            node = self._last = self._node(index, proto)
            try:
                self._map(node)
            except Unmapped as exc:
                self.diags.append(error(exc.id, f"{node.label}: {exc.message}", node.span))
                return replace(_empty(self.file, self.stem, where), inputs=inputs), self.diags
        outputs = []
        for output in self.graph.output:
            value = self.values.get(output.name)
            if isinstance(value, Tensor) and value.full:
                try:
                    assert self._last is not None  # a full tensor comes from a node
                    value = self.tensor(self.as_batched(output.name, self._last), self._last)
                except Unmapped as exc:  # positioned at the node that gives it
                    at = next((e.span for e in reversed(self.entries) if e.name == value.layer), where)
                    self.diags.append(error(exc.id, f"graph output '{output.name}': {exc.message}", at))
                    return replace(_empty(self.file, self.stem, where), inputs=inputs), self.diags
            if not isinstance(value, Tensor) or value.layer not in self.names:
                self.diags.append(error("unsupported-node", f"graph output '{output.name}' is not computed by a "
                                        "layer from the inputs (a constant, or an input itself)", where))
                return replace(_empty(self.file, self.stem, where), inputs=inputs), self.diags
            outputs.append(value.layer)
        return Document(self.file, self.stem, inputs, {}, tuple(self.entries), {}, where, tuple(outputs),
                        where), self.diags

    def _map(self, node: Node) -> None:
        import numpy as np

        if node.domain not in ("", "ai.onnx"):
            self.unknown(node, f"operator {node.domain}::{node.op_type} of a custom domain is not mapped")
            return
        try:
            with np.errstate(all="ignore"):  # numpy's warnings on a file's odd constants: the error says it
                self._dispatch(node)
        except (ValueError, TypeError, IndexError, KeyError, AssertionError, ArithmeticError, MemoryError) as exc:
            # a node missing an attribute or input its operator needs, or constants that do not compute
            raise Unmapped(f"is malformed or cannot be computed ({type(exc).__name__}: {exc})",
                           id="invalid-onnx") from None

    def _dispatch(self, node: Node) -> None:
        present = [name for name in node.inputs if name]
        if present and all(isinstance(self.values.get(name), Constant) for name in present) \
                and node.op_type in self.folders:
            self.folders[node.op_type](self, node)
            return
        handler = self.handlers.get(node.op_type)
        if handler is None:
            self.unknown(node, f"ONNX operator {node.op_type} is not mapped onto netcalc's layers")
            return
        if node.op_type in self.batch_first and node.inputs and isinstance(self.values.get(node.inputs[0]), Tensor):
            node = replace(node, inputs=(self.as_batched(node.inputs[0], node), *node.inputs[1:]))
        handler(self, node)

    def unknown(self, node: Node, why: str) -> None:
        """An operator netcalc does not map: an error, or with --allow-unknown, where the file
        declares the node's one output with its first input's shape, an identity layer and a
        warning that its costs are not counted."""
        if not self.allow_unknown:
            raise Unmapped(why, id="unknown-operator")
        data = next((name for name in node.inputs if isinstance(self.values.get(name), Tensor)), None)
        problem = self._not_identity(node, data)
        if problem is not None:
            raise Unmapped(f"{why}; --allow-unknown reads it as identity only where the file declares its one output "
                           f"with the shape and type of its first computed input, and {problem}", id="unknown-operator")
        weights = sum(prod(c.dims) for name in node.inputs if isinstance(c := self.values.get(name), Constant))
        uncounted = f" (nor its {weights:,} constant elements)" if weights else ""
        self.diags.append(warning("allowed-unknown-operator", f"{node.label}: {why}: read as identity "
                                  f"(--allow-unknown); its parameters, MACs and FLOPs are not counted{uncounted}",
                                  node.span))
        assert data is not None
        self.emit(node, "identity", {}, [data])

    def _not_identity(self, node: Node, data: str | None) -> str | None:
        """Why --allow-unknown cannot read `node` as identity, or None."""
        if len(node.outputs) != 1:
            return f"it has {len(node.outputs)} outputs"
        if data is None:
            return "it reads no computed tensor"
        x = self.tensor(data, node)
        declared, element = self._declared(node.outputs[0]), self._declared_type(node.outputs[0])
        if x.full:
            return f"its input '{data}' has its batch axis elsewhere than first"
        if declared is None:
            return f"the file declares no shape for '{node.outputs[0]}'"
        batch = declared[0] if declared else None
        if declared[1:] != x.shape.dims or not (isinstance(batch, str) or batch == (self.batch or 1)):
            return (f"the file declares '{node.outputs[0]}' as {'x'.join(map(str, declared))}, not its input's "
                    f"{'x'.join(map(str, (self.batch or 'N', *x.shape.dims)))}")
        if element is not None and element != x.shape.dtype:
            return f"the file declares '{node.outputs[0]}' of type {element}, not its input's {x.shape.dtype}"
        return None

    def _declared_type(self, name: str) -> str | None:
        """The element type the file declares for value `name`, by PyTorch's name, where netcalc knows it."""
        from onnx import helper

        for info in (*self.graph.value_info, *self.graph.output):
            if info.name == name and info.type.HasField("tensor_type") and info.type.tensor_type.elem_type:
                numpy_type = helper.tensor_dtype_to_np_dtype(info.type.tensor_type.elem_type)
                return {"bool": "bool", "int64": "int64", "int32": "int32", "float16": "float16",
                        "float32": "float32", "float64": "float64"}.get(str(numpy_type), str(numpy_type))
        return None

    def _declared(self, name: str) -> tuple[int | str, ...] | None:
        """The shape the file declares for value `name` (value_info or a graph output),
        symbolic axes by name; None where it declares none."""
        for info in (*self.graph.value_info, *self.graph.output):
            if info.name == name and info.type.HasField("tensor_type") and info.type.tensor_type.HasField("shape"):
                return tuple(d.dim_value if d.HasField("dim_value") else d.dim_param
                             for d in info.type.tensor_type.shape.dim)
        return None

    def _node(self, index: int, proto: Any) -> Node:
        from onnx import helper

        attrs = {a.name: _attribute(helper.get_attribute_value(a)) for a in proto.attribute}
        fallback = _layer_name(proto.name or (proto.output[0] if proto.output else proto.op_type))
        return Node(index, proto.op_type, proto.name, tuple(proto.input), tuple(proto.output), attrs,
                    proto.domain, module_path(proto), fallback, Span(self.file, index, 1))

    # --- inputs ---------------------------------------------------------------------

    def _inputs(self, where: Span) -> tuple[InputDecl, ...] | None:
        """The real inputs: those without an initializer (older files list every weight as
        an input too); an input no node reads is left out."""
        decls: list[InputDecl] = []
        for value in self.graph.input:
            if value.name in self.values or not self.readers.get(value.name):
                continue
            tensor_type = value.type.tensor_type
            dtype = DTYPES.get(tensor_type.elem_type)
            if dtype is None:
                self.diags.append(error("invalid-input", f"input '{value.name}' has element type "
                                        f"{tensor_type.elem_type}, which netcalc does not read", where))
                return None
            dims = self._input_dims(value.name, [_dimension(d) for d in tensor_type.shape.dim], where, bool(decls))
            if dims is None:
                return None
            name = self._unique(_layer_name(value.name).replace(".", "_"))
            decls.append(InputDecl(name, dims, where, dtype))
            self.values[value.name] = Tensor(name, Shape(dims, dtype))
            self.names.add(name)
        return tuple(decls)

    def _input_dims(self, name: str, dims: list[int | str], where: Span, first: bool) -> tuple[int, ...] | None:
        if len(dims) < 2:
            self.diags.append(error("invalid-input", f"input '{name}' has {'no axis' if not dims else 'one value'} "
                                    "per sample; netcalc's shapes need an axis besides the batch", where))
            return None
        if any(isinstance(d, int) and d < 1 for d in dims[1:]):
            self.diags.append(error("invalid-input", f"input '{name}' has a size below 1 "
                                    f"({'x'.join(map(str, dims))})", where))
            return None
        # a --input without a name is the first input's, as for a spec
        given = self.options.get(_layer_name(name).replace(".", "_")) or (None if first else self.options.get(None))
        batch = dims[0]
        self.batch = batch if isinstance(batch, int) and batch > 0 else self.batch
        if given is not None:
            return given
        symbolic = [d for d in dims[1:] if isinstance(d, str)]
        if symbolic:
            what = symbolic[0] or "unnamed"
            names = [k for k in self.options if k is not None]
            if names:  # named --input values, none of them this input's
                what += f"'; --input names {', '.join(names)}, not '{_layer_name(name).replace('.', '_')}"
            self.diags.append(error("symbolic-dimension", f"input '{name}' has a symbolic dimension '{what}' "
                                    f"({'x'.join(str(d) for d in dims)}): give its size with --input", where,
                                    f"--input {_layer_name(name).replace('.', '_')}=" + "x".join(
                                        "N" if isinstance(d, str) else str(d) for d in dims[1:])))
            return None
        return tuple(int(d) for d in dims[1:])

    # --- values ---------------------------------------------------------------------

    def value(self, name: str, node: Node) -> Value:
        found = self.values.get(name)
        if found is None:
            raise Unmapped(f"reads '{name}', which no earlier node or initializer gives (or one netcalc does not "
                           "map)", id="invalid-onnx")
        return found

    def tensor(self, name: str, node: Node) -> Tensor:
        found = self.value(name, node)
        if not isinstance(found, Tensor):
            raise Unmapped(f"input '{name}' is a constant where netcalc maps a computed tensor")
        return found

    def constant(self, name: str, node: Node) -> Constant | None:
        if not name:
            return None
        found = self.value(name, node)
        return found if isinstance(found, Constant) else None

    def array(self, name: str, node: Node) -> np.ndarray:
        """A constant's values (shapes, axes, pads, scales)."""
        found = self.constant(name, node)
        if found is None:
            raise Unmapped(f"input '{name}' is computed from the model's inputs; netcalc needs it constant")
        if found.array is not None:
            return found.array
        proto = self._initializers.get(name)
        if proto is None or found.numel > READ_LIMIT:
            raise Unmapped(f"input '{name}' ({found.numel:,} elements) is too large to read as a constant")
        from onnx import numpy_helper

        try:
            array = numpy_helper.to_array(proto, base_dir=self.folder)
        except Exception as exc:  # onnx's checker: external data missing or outside the model's folder
            raise Unmapped(f"the values of '{name}' cannot be read ({type(exc).__name__}: {exc})",
                           id="invalid-onnx") from None
        self.values[name] = Constant(found.dims, array, found.weight, found.origin)
        return array

    def readable(self, name: str) -> bool:
        """A constant whose values can be read: computed, or an initializer small enough."""
        found = self.values.get(name)
        return isinstance(found, Constant) and (found.array is not None or (
            found.numel <= READ_LIMIT and name in self._initializers))

    def ints(self, name: str, node: Node) -> tuple[int, ...]:
        return tuple(int(v) for v in self.array(name, node).reshape(-1))

    @staticmethod
    def attr_array(node: Node, key: str) -> np.ndarray:
        """A tensor attribute's values (a ConstantOfShape's `value`)."""
        from onnx import numpy_helper

        return numpy_helper.to_array(node.attrs[key])

    def set_constant(self, name: str, array: np.ndarray, weight: bool = False) -> None:
        self.values[name] = Constant(tuple(int(d) for d in array.shape), array, weight)

    # --- layers ---------------------------------------------------------------------

    def emit(self, node: Node, op: str, args: dict[str, Any], inputs: Sequence[str], output: str | None = None,
             path: str | None = None, full: bool | None = None, weight: str | None = None) -> Tensor:
        """A layer of type `op` reading `inputs` (ONNX value names) for the node's output;
        the output is full where its inputs are, unless `full` says. `weight` names the
        constant that is its weight: one that an earlier layer has is shared (`share=`), as
        PyTorch's tied weights are one tensor, written once in the file."""
        sources = [self.tensor(name, node) for name in inputs]
        full = any(s.full for s in sources) if full is None else full
        opdef = LOOKUP[op]
        attrs, problems = normalize_attrs(opdef, args)
        if problems:
            raise Unmapped(f"maps to '{op}', which refuses its arguments: {problems[0][2]}")
        ins = tuple(s.shape for s in sources)
        try:
            shape = typed(opdef.reads, bounded(opdef.infer_shape(attrs, ins)), ins)
        except OpError as exc:
            raise Unmapped(f"as '{op}' on {' and '.join(map(str, ins))}: {exc.message}", exc.id) from None
        # `input` and `in` name a spec's input, never a layer (a module named `input` is `input_2`)
        name = self._unique(path if path is not None else self._name(node, op), ("in", "input"))
        origin = self.constant(weight, node).origin if weight else None  # type: ignore[union-attr]
        share = self.owners.get(origin) if origin else None
        if origin and share is None:
            self.owners[origin] = name
        self.entries.append(Entry(op, _as_written(opdef, args), node.span, {}, name,
                                  tuple(Ref(s.layer) for s in sources), share=share))
        tensor = Tensor(name, shape, full)
        self.values[output or node.outputs[0]] = tensor
        self.names.add(name)
        return tensor

    def alias(self, node: Node, source: str) -> None:
        """The node's output is its input (Identity, an inference Dropout)."""
        self.values[node.outputs[0]] = self.value(source, node)

    def _name(self, node: Node, op: str) -> str:
        """A module's layer is named by its module path, as the spec it came from names it; a
        functional op (an add, a reshape) has none, and is named as a spec names an unnamed
        layer in that block: `layer1.0.add_1`."""
        if node.scope is None:
            return node.fallback
        if LOOKUP[op].torch_module is not None and node.scope:
            return node.scope
        prefix = f"{node.scope}." if node.scope else ""
        while True:
            self.counters[prefix + op] = count = self.counters.get(prefix + op, 0) + 1
            if f"{prefix}{op}_{count}" not in self.names:
                return f"{prefix}{op}_{count}"

    def _unique(self, base: str, reserved: tuple[str, ...] = ()) -> str:
        name, n = base, 1
        while name in self.names or name in reserved:
            n += 1
            name = f"{base}_{n}"
        return name

    def only_reader(self, value: str) -> Node | None:
        """The one node that reads `value`, or None where none or several do."""
        readers = self.consumers.get(value, [])
        if len(readers) != 1:
            return None
        return self._node(readers[0], self.graph.node[readers[0] - 1])

    def producer(self, value: str) -> Node | None:
        index = self.producers.get(value)
        return None if index is None else self._node(index, self.graph.node[index - 1])

    def read_only_by(self, value: str, node: Node) -> bool:
        """Whether `node` is the one node that reads the value's elements (a Shape reads only
        its shape), and the value is no graph output."""
        if any(output.name == value for output in self.graph.output):
            return False
        readers = [i for i in self.consumers.get(value, []) if self.graph.node[i - 1].op_type != "Shape"]
        return readers == [node.index]

    @staticmethod
    def layer_name(name: str) -> str:
        return _layer_name(name)

    def rank_with_batch(self, name: str, node: Node) -> int:
        """The tensor's rank as ONNX counts it."""
        return len(self.tensor(name, node).onnx_dims)

    def as_full(self, name: str, node: Node) -> str:
        """The value as a full tensor (a reshape to 1 x shape where it is batched)."""
        tensor = self.tensor(name, node)
        if tensor.full:
            return name
        if self.batch not in (None, 1):
            raise Unmapped(f"the batch axis moves here; netcalc follows it only in a model exported at batch 1 or "
                           f"with a symbolic batch (this one is exported at {self.batch})")
        self.emit(node, "reshape", {"shape": list(tensor.onnx_dims)}, [name], output=f"{name}#full", full=True)
        return f"{name}#full"

    def drop_batch(self, name: str, node: Node, axis: int) -> str:
        """A full tensor whose ONNX axis `axis` is the batch (of 1) as a batched one: that
        axis dropped, which moves no element at batch 1."""
        tensor = self.tensor(name, node)
        if not tensor.full:
            if axis != 0:
                raise Unmapped("reads a tensor whose batch axis is first where the operator expects it elsewhere")
            return name
        if tensor.shape.dims[axis] != 1:
            raise Unmapped(f"reads a tensor of shape {tensor.shape} whose axis {axis} is not the batch of 1")
        dims = list(tensor.shape.dims[:axis] + tensor.shape.dims[axis + 1:])
        self.emit(node, "reshape", {"shape": dims}, [name], output=f"{name}#batched", full=False)
        return f"{name}#batched"

    def as_batched(self, name: str, node: Node) -> str:
        """The value with the batch axis first again (a full tensor whose first axis is 1)."""
        tensor = self.tensor(name, node)
        if not tensor.full:
            return name
        if tensor.shape.rank < 2 or tensor.shape.dims[0] != 1:
            raise Unmapped(f"reads a tensor of shape {tensor.shape} whose batch axis is not first")
        return self.drop_batch(name, node, 0)

    def is_batch(self, size: int) -> bool:
        """A constant's size for the batch axis: the file's batch, -1 or 0 (as Reshape writes it)."""
        return size in (-1, 0) or size == (self.batch or 1)


def module_path(proto: Any) -> str | None:
    """The PyTorch module path the exporter recorded for the node (`layer1.0.conv1` from
    `/layer1/layer1.0/conv1/Conv`, or from the name scopes torch.export keeps); "" at the
    top level; None for a file with no such record (another framework's)."""
    for prop in proto.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            try:
                scopes = [s for s in ast.literal_eval(prop.value) if s]
            except (ValueError, SyntaxError):
                return None
            return scopes[-2] if len(scopes) >= 2 else ""
    parts = [p for p in proto.name.split("/") if p]
    if not proto.name.startswith("/") or not parts:
        return None
    return scope_path(parts[:-1]) if len(parts) >= 2 else ""


def scope_path(scopes: list[str]) -> str:
    """The module path of TorchScript's scopes, which name a child by its parent's local name
    and its own (`layer2`, `layer2.0`, `downsample`, `downsample.0`): layer2.0.downsample.0."""
    path = scopes[0]
    for scope in scopes[1:]:
        parent, _, local = scope.rpartition(".")
        path = f"{path}.{local}" if parent and (path == parent or path.endswith("." + parent)) else f"{path}.{scope}"
    return path


def _layer_name(name: str) -> str:
    """A name the spec's syntax takes: word characters, `-` and `.` between them."""
    cleaned = "".join(c if c.isalnum() or c in "_-." else "_" for c in name).strip(".")
    cleaned = ".".join(part or "_" for part in cleaned.split("."))
    return cleaned if cleaned and (cleaned[0].isalnum() or cleaned[0] == "_") else f"_{cleaned}"


def _as_written(opdef: Any, args: dict[str, Any]) -> dict[str, Any]:
    """The arguments a person would write: those that differ from the op's defaults, a value
    the same on every axis once (`k=3`, not `k=3x3`)."""
    defaults, _ = normalize_attrs(opdef, {key: value for key, value in args.items()
                                          if opdef.attrs[key].default is REQUIRED})
    written = {}
    for key, value in args.items():
        if isinstance(value, tuple) and value and len(set(value)) == 1 and key not in ("dims", "shape"):
            value = value[0]
        attr = opdef.attrs[key]
        if attr.default is not REQUIRED and attr.kind.read(value) == defaults[key]:
            continue
        written[key] = value
    return written


def _dimension(dim: Any) -> int | str:
    """A dimension's size; a symbolic one's name ("" when it has neither)."""
    kind = dim.WhichOneof("value")
    return dim.dim_value if kind == "dim_value" else dim.dim_param if kind == "dim_param" else ""


def _attribute(value: Any) -> Any:
    if isinstance(value, float):  # ONNX floats are float32: 1e-05, not 9.999999747378752e-06
        return float(f"{value:.7g}")
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return tuple(v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value)
    return value


def _input_options(options: Sequence[str]) -> dict[str | None, tuple[int, ...]]:
    """--input values by input name (None: the one input), read leniently: the analysis
    reports a malformed one."""
    found: dict[str | None, tuple[int, ...]] = {}
    for text in options:
        name, sep, shape = text.rpartition("=")
        try:
            found[name if sep else None] = parse_input(shape)[0]
        except ValueError:
            continue
    return found
