"""A spec as a self-contained PyTorch module (`netcalc export --to torch`): every layer a
torch.nn module at the spec's qualified name (`layer1.0.conv1`), every block a small module
class whose forward reads like the block, merges written out. Instances of a block share a
class when their bodies agree (an `if` or a repeat count can make them differ: then each
body is a class, `Bottleneck2`); the numbers live where the network builds its modules.
Each op states its own PyTorch form beside its other rules (`torch_module`, `torch_expression`,
and `torch_pad` for padding the module cannot state, which forward writes as an `F.pad`
before the call: the module at a layer's name is the layer's own, so a state dict keyed
by the spec's names loads); this module arranges them. The code imports only torch; this
module writes it without importing torch."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any

from .diagnostics import Diagnostic, error
from .ir import BlockInstance, Graph, Layer, Shape
from .ops import LOOKUP
from .ops.registry import PadBefore
from .report import Report

HEADER = '''"""{name}: exported by netcalc from {file}.

Input {inputs}. Module paths are the spec's layer names; forward follows the spec.
"""

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    """A block instance of the spec: its modules, in order, under the spec's names."""

    spec_names = ()

    def __init__(self, *parts):
        super().__init__()
        for name, part in zip(self.spec_names, parts, strict=True):
            # not add_module, which refuses a spec name that nn.Module uses (train, type, ...)
            if isinstance(part, nn.Parameter):  # a `param` layer: a learned tensor, no module
                self._parameters[name] = part
            else:
                self._modules[name] = part


class Pad(nn.Module):
    """Explicit padding, (before, after) per spatial axis, as the spec writes it."""

    def __init__(self, sides, mode="constant", value=0.0):
        super().__init__()
        self.pad = tuple(v for before, after in reversed(sides) for v in (before, after))
        self.mode, self.value = mode, value

    def forward(self, x):
        if self.mode == "constant":
            return F.pad(x, self.pad, value=self.value)
        return F.pad(x, self.pad, mode=self.mode)


class Attention(nn.MultiheadAttention):
    """nn.MultiheadAttention(batch_first=True) giving its output only; one input is self-attention."""

    def forward(self, query, key=None, value=None):
        key = query if key is None else key
        value = key if value is None else value
        return super().forward(query, key, value, need_weights=False)[0]


def _sequence_only(base):
    """nn.LSTM/GRU/RNN(batch_first=True) giving the output sequence (the spec's layer), not the final states."""
    return type(base.__name__, (base,), {{"forward": lambda self, x: base.forward(self, x)[0]}})


LSTM, GRU, RNN = _sequence_only(nn.LSTM), _sequence_only(nn.GRU), _sequence_only(nn.RNN)
'''


def module_code(layer: Layer, ins: tuple[Shape, ...]) -> str | None:
    """The constructor of the layer's module (its op's `torch_module` rule), or None for a
    merge, which forward writes out."""
    rule = LOOKUP[layer.op].torch_module
    return None if rule is None else rule(layer.attrs or {}, ins)


# The header's own module classes and the torch.nn class each extends (Attention is an
# nn.MultiheadAttention), read from HEADER itself; Block and Pad extend nn.Module only.
_HEADER_BASES = {cls: base for cls, base in re.findall(r"^class (\w+)\(nn\.(\w+)\)", HEADER, re.M)
                 if base != "Module"}


def torch_type(layer: Layer, ins: tuple[Shape, ...]) -> str:
    """The PyTorch class of the layer's module, from its constructor code (`nn.Conv2d(...)`
    is `Conv2d`, the header's `Attention(...)` is `MultiheadAttention`); an op that is no
    module (add, concat, permute) keeps its own name."""
    code = module_code(layer, ins)
    if code is None:
        return layer.op
    cls = code.split("(", 1)[0].removeprefix("nn.")
    return _HEADER_BASES.get(cls, cls)


def torch_types(report: Report) -> dict[str, str]:
    """Every layer's PyTorch class by name (`netcalc ... --types torch`), for `Report.as_records`."""
    types: dict[str, str] = {}
    for layer in report.graph.layers:
        types[layer.name] = torch_type(layer, tuple(report.shape(name) for name in layer.inputs))
    return types


def pad_before(layer: Layer, ins: tuple[Shape, ...]) -> PadBefore | None:
    """The padding forward applies before calling the layer's module (its op's `torch_pad`
    rule), or None when there is none to apply."""
    pad = LOOKUP[layer.op].torch_pad(layer.attrs or {}, ins)
    return pad if pad is not None and any(any(side) for side in pad.sides) else None


def pad_call(pad: PadBefore, x: str) -> str:
    """`F.pad(x, (left, right, top, bottom))`: F.pad takes (before, after) pairs from the
    LAST axis back, the spec's sides from the first."""
    flat = tuple(v for before_after in reversed(pad.sides) for v in before_after)
    fill = "" if pad.value == "0.0" else f", value={pad.value}"  # zeros: F.pad's own default
    return f"F.pad({x}, {flat}{fill})"


def _example(shape: Shape) -> str:
    """A batch of one input: uniform floats, or zeros for ids and masks (index 0 is in range)."""
    dims = ", ".join(map(str, shape.dims))
    if shape.is_float:  # the module is built in float32 (`model.half()` makes a float16 one)
        return f"torch.rand(1, {dims})"
    return f"torch.zeros(1, {dims}, dtype=torch.{shape.dtype})"


def _is_expression(part: Layer | _Container) -> bool:
    """An op that is no module (add, concat, permute): forward writes out its expression."""
    return isinstance(part, Layer) and LOOKUP[part.op].torch_module is None


# nn.Module's own public attributes (torch 2.13; tests/test_export.py checks the list), and
# Block's: a part with one of these names is reached through `self._modules`, never as
# `self.name`, which would find the attribute.
MODULE_ATTRIBUTES = frozenset("""
    T_destination add_module apply bfloat16 buffers call_super_init children compile cpu cuda
    double dump_patches eval extra_repr float forward get_buffer get_extra_state get_parameter
    get_submodule half ipu load_state_dict modules mtia named_buffers named_children
    named_modules named_parameters parameters register_backward_hook register_buffer
    register_forward_hook register_forward_pre_hook register_full_backward_hook
    register_full_backward_pre_hook register_load_state_dict_post_hook
    register_load_state_dict_pre_hook register_module register_parameter
    register_state_dict_post_hook register_state_dict_pre_hook requires_grad_ set_extra_state
    set_submodule share_memory state_dict to to_empty train training type xpu zero_grad
    spec_names
""".split())


@dataclass(eq=False)
class _Container:
    """The network (name "") or a block instance, while the exporter walks the graph: its
    layers and instances in spec order, the values it reads from outside (first use first)
    and its values read outside it: one at most, as names outside a block cannot reach
    into it (its output is its last layer, or what an `if` passed through)."""

    name: str
    block: str
    params: dict[str, str] = field(default_factory=dict)  # value -> the block's name for it
    parts: list[Layer | _Container] = field(default_factory=list)
    inputs: dict[str, None] = field(default_factory=dict)
    outputs: dict[str, None] = field(default_factory=dict)
    last: str = ""

    @property
    def returned(self) -> list[str]:
        """What its forward returns: the values read outside it (several when the spec
        reaches into it, `from: layer4.2.relu`, or names them as outputs), else its last."""
        return list(self.outputs) or [self.last]

    @property
    def modules(self) -> list[Layer | _Container]:
        """Its parts that are modules: merges are written out in forward."""
        return [part for part in self.parts if not _is_expression(part)]

    @property
    def repeat(self) -> bool:
        """`repeat: n` of a layer or block: parts `name.0` .. `name.<n-1>` of one type."""
        return all(
            part.name == f"{self.name}.{i}" and (part.op if isinstance(part, Layer) else part.block) == self.block
            for i, part in enumerate(self.parts)
        )


def _containers(graph: Graph) -> _Container:
    """The network's container tree; each layer's reads mark the inputs and outputs of the
    instances they cross (block paths nest, so the crossed ones follow a common prefix)."""
    root = _Container("", graph.name)
    nodes = {"": root}
    blocks = {b.name: b for b in graph.blocks}
    home: dict[str, tuple[str, ...]] = {i.name: () for i in graph.inputs}
    for layer in graph.layers:
        parent = root
        for name in layer.block_path:
            if name not in nodes:
                nodes[name] = _Container(name, blocks[name].block, _params(blocks[name]))
                parent.parts.append(nodes[name])
            parent = nodes[name]
            parent.last = layer.name
        parent.parts.append(layer)
        for source in layer.inputs:
            _cross(nodes, source, home[source], layer.block_path)
        home[layer.name] = layer.block_path
    for output in graph.outputs:  # the spec's outputs; an `if` may have moved one off the last layer
        _cross(nodes, output, home[output], ())
        root.outputs[output] = None
    for node in nodes.values():  # a block's forward takes its inputs in the block's order
        node.inputs = dict.fromkeys(
            [v for v in node.params if v in node.inputs] + [v for v in node.inputs if v not in node.params]
        )
    return root


def _params(instance: BlockInstance) -> dict[str, str]:
    """Value -> its parameter name in the block's forward: the block's name for that input
    (`x` for `in`, a keyword); the first name where two are bound to one value."""
    params: dict[str, str] = {}
    for value, name in zip(instance.inputs, instance.params):
        params.setdefault(value, "x" if name == "in" else name)
    return params


def _cross(
    nodes: dict[str, _Container], source: str, source_path: tuple[str, ...], reader_path: tuple[str, ...]
) -> None:
    shared = 0
    while shared < min(len(source_path), len(reader_path)) and source_path[shared] == reader_path[shared]:
        shared += 1
    for name in reader_path[shared:]:
        nodes[name].inputs.setdefault(source)
    for name in source_path[shared:]:
        nodes[name].outputs.setdefault(source)


def _safe(name: str) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and name not in MODULE_ATTRIBUTES
    )


def _tensor(name: str) -> str:
    """A `param` layer's parameter, `self.class_token` (or through `_parameters`)."""
    return f"self.{name}" if _safe(name) else f"self._parameters[{name!r}]"


def _batched(tensor: str, batch_of: str, shape: Shape | None) -> str:
    """A `param` layer's tensor over the batch of `batch_of`, as torchvision expands its
    class token: a view, so that `torch.cat` with a batch of 8 works."""
    rank = len(shape.dims) if shape is not None else 0
    return f"{tensor}.expand({batch_of}.shape[0], {', '.join(['-1'] * rank)})"


def broadcast_params(report: Report) -> set[str]:
    """The `param` layers read only into tensors of more axes (a layer scale of C on H x W x C):
    PyTorch broadcasts their (1, *shape) from the right, where one expanded over the batch
    would meet the reader's axes with its batch axis."""
    wider: dict[str, bool] = {}
    for layer in report.graph.layers:
        out = report.shapes.get(layer.name)
        for source in layer.inputs:
            shape = report.shapes.get(source)
            if shape is not None and not shape.batched:
                wider[source] = wider.get(source, True) and out is not None and out.rank > shape.rank
    return {name for name, all_wider in wider.items() if all_wider}


def _member(name: str) -> str:
    """`self.conv1`, or `self._modules['0']` where attribute syntax cannot reach the part
    (get_submodule cannot either: it finds nn.Module's `eval` before a part named so)."""
    return f"self.{name}" if _safe(name) else f"self._modules[{name!r}]"


class _Unique:
    """Names not handed out before: `base`, then `base2`, `base3` (with `separator` between)."""

    def __init__(self, taken: set[str] | None = None, separator: str = "") -> None:
        self.taken, self.separator = taken or set(), separator

    def add(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}{self.separator}{n}"
        self.taken.add(name)
        return name


# names the exported code uses itself: a variable of forward must not hide them
_RESERVED = frozenset({"self", "torch", "nn", "F"})


def _variable(name: str) -> str:
    base = re.sub(r"\W", "_", name)
    return f"x_{base}" if base[0].isdigit() or keyword.iskeyword(base) or base in _RESERVED else base


def _class_name(name: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", name)
    text = "".join(w[:1].upper() + w[1:] for w in words if w) or "Network"
    return f"Net{text}" if text[0].isdigit() else text


class _Writer:
    """Writes the classes (one per distinct block body, shared by the instances that have
    it) and the network's class."""

    def __init__(self, report: Report) -> None:
        self.graph, self.shapes, self.costs = report.graph, report.shapes, report.costs
        self.broadcast = broadcast_params(report)
        self.bodies: dict[tuple[Any, ...], str] = {}
        self.classes: list[str] = []
        self.class_names = _Unique({"Block", "Pad", "Attention", "LSTM", "GRU", "RNN", "F"})
        self.network_name = self.class_names.add(_class_name(self.graph.name))

    def forward(self, c: _Container, params: dict[str, str], with_shapes: bool) -> tuple[list[str], list[str]]:
        """(parameter names, body lines) of the forward of `c`, which receives the values
        `params` names (value -> parameter)."""
        prefix = f"{c.name}." if c.name else ""
        variables = _Unique(separator="_")
        values = {name: variables.add(_variable(param)) for name, param in params.items()}
        lines: list[str] = []

        def note(op: str, value: str) -> str:
            return f"  # {op} -> {self.shapes[value]}" if with_shapes else f"  # {op}"

        for part in c.parts:
            path = part.name[len(prefix):]
            outputs = part.returned if isinstance(part, _Container) else [part.name]
            args = [values[n] for n in part.inputs]
            if _is_expression(part):
                call = LOOKUP[part.op].torch_expression(part.attrs or {}, args)  # type: ignore[misc, union-attr]
            else:
                ins = tuple(self.shapes[n] for n in part.inputs)
                pad = pad_before(part, ins) if isinstance(part, Layer) else None  # type: ignore[arg-type]
                if pad is not None:
                    args[0] = pad_call(pad, args[0])
                call = f"{_member(path)}({', '.join(args)})" if part.inputs else _tensor(path) \
                    if part.name in self.broadcast else \
                    _batched(_tensor(path), next(iter(values.values())), self.shapes[part.name])
            for output in outputs:
                values[output] = variables.add(_variable(path if len(outputs) == 1 else output[len(prefix):]))
            assigned = ", ".join(values[output] for output in outputs)
            lines.append(f"{assigned} = {call}{note(part.op if isinstance(part, Layer) else part.block, outputs[-1])}")
        return [values[name] for name in params], [*lines, f"return {', '.join(values[o] for o in c.returned)}"]

    def define(self, c: _Container) -> str:
        """The class of a block instance, written when its body is first seen."""
        unnamed = ["x"] if len(c.inputs) == 1 else [f"x{i}" for i in range(len(c.inputs))]
        params = {value: c.params.get(value, fallback) for value, fallback in zip(c.inputs, unnamed)}
        args, body = self.forward(c, params, with_shapes=False)
        names = tuple(part.name[len(c.name) + 1:] for part in c.modules)
        key = (c.block, c.repeat, names, tuple(args), tuple(body))
        if key not in self.bodies:
            self.bodies[key] = name = self.class_names.add(_class_name(c.block + ("_repeat" if c.repeat else "")))
            what = f"`{c.block}` repeated" if c.repeat else f"`{c.block}` block"
            self.classes += [f"class {name}(Block):", f'    """The spec\'s {what} (first as {c.name})."""', "",
                             f"    spec_names = {names!r}", "", f"    def forward(self, {', '.join(args)}):",
                             *(f"        {line}" for line in body), "", ""]
        return self.bodies[key]

    def construct(self, part: Layer | _Container, indent: str, label: str = "") -> list[str]:
        """The expression that builds a part, over as many lines as it has parts, `label`
        (its module path) as a comment."""
        note = f"  # {label}" if label else ""
        if isinstance(part, Layer):
            return [f"{indent}{module_code(part, tuple(self.shapes[n] for n in part.inputs))},{note}"]  # type: ignore[misc]
        inner = [line for p in part.modules for line in self.construct(p, indent + "    ", p.name)]
        return [f"{indent}{self.define(part)}({note}", *inner, f"{indent}),"]

    def wiring(self) -> list[str]:
        """After construction: shared modules (`share=`) are one module, a tied head uses the
        embedding's weight, and frozen layers (`trainable=false`) keep their parameters."""
        lines = []
        ops = {layer.name: layer.op for layer in self.graph.layers}
        for layer in self.graph.layers:
            if layer.shares and ops[layer.shares] == layer.op:
                lines.append(f"self.set_submodule({layer.name!r}, self.get_submodule({layer.shares!r}))")
            elif layer.shares:
                lines.append(f"self.get_submodule({layer.name!r}).weight = self.get_submodule({layer.shares!r}).weight")
            elif not layer.trainable and self.costs[layer.name].params:
                kind = "parameter" if not layer.inputs else "submodule"  # a `param` layer is a tensor
                lines.append(f"self.get_{kind}({layer.name!r}).requires_grad_(False)")
        return lines

    def network(self) -> list[str]:
        graph = self.graph
        root = _containers(graph)
        init = []
        for part in root.modules:
            built = self.construct(part, "        ")
            # a `param` layer (no inputs) is a tensor: `_parameters[...]` where no attribute reaches it
            member = _tensor(part.name) if isinstance(part, Layer) and not part.inputs else _member(part.name)
            built[0] = f"        {member} = {built[0].strip().rstrip(',')}"
            built[-1] = built[-1].rstrip(",")
            init += built
        args, body = self.forward(root, {i.name: i.name for i in graph.inputs}, with_shapes=True)
        name = self.network_name
        example = ", ".join(_example(i.shape) for i in graph.inputs)
        init += [f"        {line}" for line in self.wiring()]
        return [*self.classes, f"class {name}(nn.Module):", "    def __init__(self):", "        super().__init__()",
                *init, "", f"    def forward(self, {', '.join(args)}):", *(f"        {line}" for line in body), "", "",
                'if __name__ == "__main__":', f"    model = {name}().eval()", "    with torch.no_grad():",
                f"        print({self.printed(f'model({example})')})", ""]

    def printed(self, call: str) -> str:
        """The output shape(s) the example prints: one tuple, or one per output."""
        if len(self.graph.outputs) > 1:
            return f"[tuple(output.shape) for output in {call}]"
        return f"tuple({call}.shape)"


def unexportable(report: Report) -> list[Diagnostic]:
    """Names PyTorch cannot give a module: nn.Module keeps its mode in `training`, so a part
    named so breaks `model.eval()`."""
    return [error("invalid-name", f"layer '{layer.name}' cannot be exported: PyTorch's modules keep their mode in "
                  "an attribute named 'training'", layer.span, "rename it (name=training_)")
            for layer in report.graph.layers if "training" in layer.name.split(".")]


def to_torch(report: Report) -> str:
    graph = report.graph
    inputs = ", ".join(f"{i.name} {i.shape}" for i in graph.inputs)
    header = HEADER.format(name=graph.name, file=graph.file.replace("\\", "/"), inputs=inputs)
    return "\n".join([header, "", *_Writer(report).network()])
