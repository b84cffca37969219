"""torchinfo's totals (torchinfo 1.8.0, `summary(model, input_data=...)` on the module
`netcalc export` writes), computed from a report without torch: "Total params",
"Trainable params", "Total mult-adds" and the four memory lines.

torchinfo records one entry per module call, in the order forward makes them, at the depth
of the module's path (the network is depth 0, each block instance a module, each layer that
is a module one more). A leaf is a module without child modules; MultiheadAttention is not
one (its `out_proj` is a child that forward never calls, so no entry shows it). Its rules:

- Total mult-adds: over leaf calls, each weight tensor times what torchinfo multiplies it
  by: `weight` and `bias` of a class named Conv*, the batch times the output's spatial
  positions; of any other class (Linear, Embedding, norms, PReLU), the batch only, whatever
  the positions of a sequence; other names holding "weight" or "bias" (LSTM's
  `weight_ih_l0`), the batch times the sequence length. No attention products, nothing
  for layers without weights. netcalc's MACs count the multiply-accumulates themselves
  (conv, convT, linear, attention products), per position.
- Forward/backward pass size: twice ("x2 for gradients") the output bytes of every leaf
  call whose module has parameters, a shared module at every call. A tuple output counts its
  first tensor. netcalc's "Forward activations" counts every layer's output once, with
  parameters or not.
- Params size: the parameter bytes of the leaf modules, a shared module once. A block's own
  tensors (`param` layers: a class token) and MultiheadAttention's weights are left out; a
  head tied to an embedding (`share=`) counts the embedding's weight again. netcalc counts
  every parameter once, and buffers apart.
- Total params and Trainable params: the leaf modules' parameters plus what each other
  module holds beyond its children's ("leftover"), so a `param` layer and
  MultiheadAttention count there; a tied weight counts twice here too.
- Input size: the bytes of each input tensor plus the Python object of its storage (64
  bytes each: torchinfo takes `sys.getsizeof(tensor.untyped_storage())`).
- Estimated Total Size: input + forward/backward + params. Buffers are never counted.

Outputs and parameters take `dtype`'s size, as in a model converted to it (`model.half()`);
token ids and masks keep their own. The batch multiplies mult-adds, outputs and inputs.
Sizes print in decimal megabytes (bytes / 10**6) with two decimals, mult-adds in M, G or T.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from math import prod

from .dtypes import DTYPE_BYTES, TENSOR_BYTES
from .export import torch_type
from .ir import Layer
from .ops import LOOKUP
from .report import Report

# sys.getsizeof(storage) - storage.nbytes(): the storage's Python object (CPython 3.11, torch 2.13;
# tests/test_torchinfo.py measures it)
STORAGE_OBJECT_BYTES = 64
CONTAINER_CLASSES = frozenset({"MultiheadAttention"})  # exported modules that hold a child module
RECURRENT_CLASSES = frozenset({"LSTM", "GRU", "RNN"})  # weights named weight_ih_l0, bias_hh_l0, ...


@dataclass(frozen=True, slots=True)
class Call:
    """One entry of torchinfo's summary list: a module called, its figures for one sample."""

    name: str  # the layer, or the block instance ("" is the network)
    depth: int
    leaf: bool
    recursive: bool  # its module was called before (a shared module)
    params: int  # the module's parameters, each tensor once
    trainable: int
    output_bytes: int  # its output (a block's: its last layer's)
    mult_adds: int  # what Total mult-adds takes from it: 0 unless a leaf


def torchinfo_figures(report: Report, batch: int = 1, dtype: str = "float32") -> dict[str, int]:
    """torchinfo's totals for `report` (a valid one) run on `batch` samples in `dtype`:
    `params`, `trainable_params`, `mult_adds` and the bytes of the four memory lines,
    `input_bytes`, `forward_backward_bytes`, `params_bytes`, `total_bytes`."""
    size = DTYPE_BYTES[dtype]
    calls = module_calls(report, size)
    params, trainable = _counted(calls, "params"), _counted(calls, "trainable")
    inputs = sum(i.shape.numel * (size if i.shape.is_float else TENSOR_BYTES[i.shape.dtype]) * batch
                 + STORAGE_OBJECT_BYTES for i in report.graph.inputs)
    outputs = sum(2 * c.output_bytes for c in calls if c.leaf and c.params > 0) * batch
    weights = sum(c.params for c in calls if c.leaf and not c.recursive) * size
    return {
        "params": params,
        "trainable_params": trainable,
        "mult_adds": sum(c.mult_adds for c in calls if c.leaf) * batch,
        "input_bytes": inputs,
        "forward_backward_bytes": outputs,
        "params_bytes": weights,
        "total_bytes": inputs + outputs + weights,
    }


def torchinfo_lines(figures: Mapping[str, int]) -> list[tuple[str, str]]:
    """(label, text) of torchinfo's "Total mult-adds" and four memory lines, printed
    `label: text`. The unit is written `(G)`, as torchinfo means it: on Python 3.11 and later
    torchinfo 1.8.0 prints the enum instead, `(Units.GIGABYTES)` (its issue #350)."""
    unit, mult_adds = _readable(figures["mult_adds"])
    return [
        (f"Total mult-adds ({unit})", mult_adds),
        ("Input size (MB)", megabytes(figures["input_bytes"])),
        ("Forward/backward pass size (MB)", megabytes(figures["forward_backward_bytes"])),
        ("Params size (MB)", megabytes(figures["params_bytes"])),
        ("Estimated Total Size (MB)", megabytes(figures["total_bytes"])),
    ]


def megabytes(n: int) -> str:
    # torchinfo's own expression: at exactly 5,000 bytes past a hundredth the binary float of
    # n / 1e6 decides the rounding, which only the same division reproduces
    return f"{n / 1e6:0.2f}"


def _readable(n: int) -> tuple[str, str]:
    """torchinfo's format_output_num: M below 10**9, G below 10**12, else T; a whole number
    without decimals, others with two, both with thousands separators."""
    unit, scale = ("T", 10**12) if n >= 10**12 else ("G", 10**9) if n >= 10**9 else ("M", 10**6)
    return unit, f"{n // scale:,d}" if n % scale == 0 else f"{n / scale:,.2f}"


# --- torchinfo's summary list, from the graph ---


@dataclass
class _Containers:
    """The network ("") and its block instances, as modules: the parameter tensors under
    each, which hold a child module, the layer each returns, and its own `param` layers."""

    tensors: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    parents: set[str] = field(default_factory=set)
    last: dict[str, str] = field(default_factory=dict)
    own: dict[str, list[str]] = field(default_factory=dict)
    depth: dict[str, int] = field(default_factory=dict)  # module -> depth of its last path: torchinfo hooks it there
    ops: dict[str, str] = field(default_factory=dict)


def module_calls(report: Report, size: int) -> list[Call]:
    """torchinfo's entries in call order: the network, then each block instance where its
    first layer is reached and each layer that is a module (`size`: bytes of a float)."""
    tree = _containers(report)
    calls = [_container_call(report, tree, "", 0, size)]
    entered: set[str] = set()
    called: set[str] = set()  # modules: a second call is torchinfo's "recursive"
    for layer in report.graph.layers:
        for i, name in enumerate(layer.block_path):
            if name not in entered:  # an instance's layers are consecutive: it is called at its first
                calls.append(_container_call(report, tree, name, i + 1, size))
                entered.add(name)
        if is_module(layer):
            module = _module(layer, tree.ops)
            calls.append(_layer_call(layer, report, size, tree.depth[module], module in called))
            called.add(module)
    return calls


def _containers(report: Report) -> _Containers:
    graph = report.graph
    tree = _Containers(last={"": graph.output}, ops={layer.name: layer.op for layer in graph.layers})
    for layer in graph.layers:
        path = layer.block_path
        held = {owner: counts for owner, counts in _tensors(layer, report).items() if counts[0]}
        for container in ("", *path):
            tree.tensors.setdefault(container, {}).update(held)
        for container in path:
            tree.last[container] = layer.name
        if path:
            tree.parents.update(("", *path[:-1]))  # each block instance is a child module of the one around it
        if is_module(layer):
            tree.parents.add(path[-1] if path else "")
            tree.depth[_module(layer, tree.ops)] = len(path) + 1
        elif not layer.inputs:
            tree.own.setdefault(path[-1] if path else "", []).append(layer.name)
    return tree


def _container_call(report: Report, tree: _Containers, name: str, depth: int, size: int) -> Call:
    """A block instance (or the network): a leaf when it holds no module, where torchinfo
    reads its own tensors' names for mult-adds."""
    params, trainable = _sum(tree.tensors.get(name, {}))
    leaf = name not in tree.parents
    out = report.shape(tree.last[name]).dims
    macs = sum(_named_macs(layer.removeprefix(f"{name}."), report.costs[layer].params, out)
               for layer in tree.own.get(name, ())) if leaf else 0
    return Call(name, depth, leaf, False, params, trainable, report.costs[tree.last[name]].activation_bytes(size), macs)


def is_module(layer: Layer) -> bool:
    """A module of the export: not a merge or layout op (written out in forward), nor a
    `param` layer (a tensor of its block)."""
    return LOOKUP[layer.op].torch_module is not None and bool(layer.inputs)


def _module(layer: Layer, ops: Mapping[str, str]) -> str:
    """The layer whose module `layer` calls: a layer sharing one of its own type calls it again."""
    return layer.shares if layer.shares and ops[layer.shares] == layer.op else layer.name


def _tensors(layer: Layer, report: Report) -> dict[str, tuple[int, int]]:
    """The parameter tensors of the layer's module, by the layer that owns them: (params,
    trainable). A tied head holds the embedding's weight beside its own bias."""
    owners = (layer.shares, layer.name) if layer.shares else (layer.name,)
    return {o: (report.costs[o].params, report.costs[o].params - report.costs[o].frozen_params) for o in owners}


def _sum(tensors: Mapping[str, tuple[int, int]]) -> tuple[int, int]:
    return sum(p for p, _ in tensors.values()), sum(t for _, t in tensors.values())


def _layer_call(layer: Layer, report: Report, size: int, depth: int, recursive: bool) -> Call:
    params, trainable = _sum(_tensors(layer, report))
    cls = torch_type(layer, tuple(report.shape(name) for name in layer.inputs))
    out = report.shape(layer.name).dims
    if cls in RECURRENT_CLASSES:
        macs = params * out[0]  # batch x length
    elif "Conv" in cls:
        macs = params * prod(out[1:])  # batch x positions: torchinfo leaves the channels out
    else:
        macs = params  # weight and bias: batch only
    leaf = cls not in CONTAINER_CLASSES
    return Call(layer.name, depth, leaf, recursive, params, trainable, report.costs[layer.name].activation_bytes(size),
                macs if leaf else 0)


def _named_macs(name: str, params: int, out: tuple[int, ...]) -> int:
    """A block's own tensor, where the block is a leaf: torchinfo goes by its name (and,
    for `weight` and `bias`, by a class named Conv*, which a block's class is taken not to be)."""
    if name in ("weight", "bias"):
        return params
    return params * out[0] if "weight" in name or "bias" in name else 0


def _counted(calls: list[Call], figure: str) -> int:
    """torchinfo's Total params (or Trainable params): a leaf's own count, each other
    module's leftover (its count less its children's), calls of a module seen before skipped."""
    ends = _subtree_ends(calls)
    leftover = [0] * len(calls)
    below = [0] * (len(calls) + 1)  # below[i]: what calls i.. hand to the modules above them
    for i in range(len(calls) - 1, -1, -1):
        c = calls[i]
        leftover[i] = getattr(c, figure) - (below[i + 1] - below[ends[i]])
        handed = 0 if c.recursive else getattr(c, figure) if c.leaf else leftover[i]
        below[i] = below[i + 1] + handed
    return sum(max(getattr(c, figure) if c.leaf else leftover[i], 0) for i, c in enumerate(calls) if not c.recursive)


def _subtree_ends(calls: list[Call]) -> list[int]:
    """For each call, the index after its children: the next call at its depth or above."""
    ends = [len(calls)] * len(calls)
    open_calls: list[int] = []
    for i, c in enumerate(calls):
        while open_calls and calls[open_calls[-1]].depth >= c.depth:
            ends[open_calls.pop()] = i
        open_calls.append(i)
    return ends
