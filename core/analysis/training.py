"""Training memory: what autograd keeps for the backward pass, layer by layer, and the
parameters, gradients and optimizer states beside it.

Each op's `saves` rule (ops/saved.py) lists the tensors it keeps. A tensor kept by several
layers (a ReLU's output that the next convolution keeps too, q, k and v sliced from one
projection) is one storage, counted once, at the first layer that keeps it; a view keeps
its whole storage alive, so it counts the storage's bytes. Which tensors are views follows
PyTorch's strides: the pass carries every tensor's sizes and strides (batch included), so
that a reshape of a permuted tensor, which copies, is told from one that does not.
Parameters and buffers are never counted here: they are their own lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import prod

from ..dtypes import COUNTER_BYTES, DTYPE_BYTES, TENSOR_BYTES
from ..ir import Graph, Layer, Shape
from ..ops import LOOKUP
from ..ops.saved import ACCUMULATE, OUTPUT, Grads, Saved, contiguous_strides, dense_like, is_contiguous, view_strides
from .cost import Cost

HALF = frozenset({"float16", "bfloat16"})
TRAINING_DTYPES = tuple(d for d in DTYPE_BYTES if d != "int8")  # int8 is for inference
# the states an optimizer keeps per trainable parameter (torch.optim: momentum_buffer;
# Adam's exp_avg and exp_avg_sq), held in the master weights' type
OPTIMIZER_STATES = {"sgd": 0, "sgd-momentum": 1, "adam": 2, "adamw": 2}


@dataclass(frozen=True, slots=True)
class Tensor:
    storage: str  # the layer (or input) whose memory it is
    sizes: tuple[int, ...]
    strides: tuple[int, ...]


def master_dtype(dtype: str) -> str:
    """Mixed precision keeps float32 weights, gradients and optimizer states."""
    return "float32" if dtype in HALF else dtype


def saved_bytes(graph: Graph, shapes: Mapping[str, Shape | None], batch: int, dtype: str,
                inputs_need_grad: bool = False) -> dict[str, int]:
    """Per layer, the bytes autograd keeps for backward that no earlier layer keeps, at
    `batch` and with activations in `dtype`, in training mode. `inputs_need_grad`: the
    inputs' float tensors require gradients (the network is part of a larger one)."""
    keeper = _Keeper.of_inputs(graph, shapes, batch, dtype, inputs_need_grad)
    return {layer.name: keeper.run(layer) for layer in graph.layers}


def checkpointed_uses(graph: Graph, block: str) -> list[str]:
    """The uses of block type `block` that --checkpoint runs under torch.utils.checkpoint:
    the outermost, and not a repeat's group (`h` of `h.0`, `h.1`: its members are)."""
    instances = graph.blocks
    groups = {b.name for b, after in zip(instances, instances[1:])
              if after.name == f"{b.name}.0" and after.block == b.block}
    uses: list[str] = []
    for b in instances:
        if b.block == block and b.name not in groups and not any(b.name.startswith(f"{u}.") for u in uses[-1:]):
            uses.append(b.name)
    return uses


def checkpointed_saved_bytes(graph: Graph, shapes: Mapping[str, Shape | None], batch: int, dtype: str,
                             uses: list[str], inputs_need_grad: bool = False) -> tuple[dict[str, int], int]:
    """As `saved_bytes`, with the block `uses` run under torch.utils.checkpoint: a use keeps
    only the tensors it reads from outside (at its first layer: checkpoint saves its
    inputs), its layers nothing; the other layers keep what they keep. Also returns the
    most that one use keeps again while its backward recomputes it (the peak's addition:
    one use at a time)."""
    keeper = _Keeper.of_inputs(graph, shapes, batch, dtype, inputs_need_grad)
    segments = _segments(graph, set(uses))
    kept: dict[str, int] = {}
    recomputed = 0
    for index, layer in enumerate(graph.layers):
        segment = segments.get(index)
        if segment is None:
            kept[layer.name] = keeper.run(layer)
            continue
        start, reads = segment
        if start == index:
            kept[layer.name] = sum(keeper.keep(name) for name in reads)
            recomputed = max(recomputed, keeper.fork(reads).run_all(graph.layers, index, segments))
        else:
            kept[layer.name] = 0
        keeper.run(layer, count=False)
    return kept, recomputed


def _segments(graph: Graph, uses: set[str]) -> dict[int, tuple[int, list[str]]]:
    """For each layer inside a checkpointed use (by index): the index of the use's first
    layer, and the tensors the use reads that it does not make (shared, in reading order)."""
    segments: dict[int, tuple[int, list[str]]] = {}
    current: str | None = None
    start, made, reads = -1, set[str](), list[str]()
    for index, layer in enumerate(graph.layers):
        use = next((name for name in layer.block_path if name in uses), None)
        if use is None:
            current = None
            continue
        if use != current:
            current, start, made, reads = use, index, set(), []
        reads += [name for name in dict.fromkeys(layer.inputs) if name not in made and name not in reads]
        made.add(layer.name)
        segments[index] = (start, reads)
    return segments


class _Keeper:
    """The tensors so far, which need gradients, and the storages already counted."""

    def __init__(self, shapes: Mapping[str, Shape | None], batch: int, dtype: str) -> None:
        self.shapes, self.batch, self.dtype = shapes, batch, dtype
        self.tensors: dict[str, Tensor] = {}
        self.storage_bytes: dict[str, int] = {}
        self.needs_grad: dict[str, bool] = {}
        self.counted: set[str] = set()

    @classmethod
    def of_inputs(cls, graph: Graph, shapes: Mapping[str, Shape | None], batch: int, dtype: str,
                  inputs_need_grad: bool) -> _Keeper:
        """A keeper holding the network's inputs (float ones needing gradients, if said so)."""
        keeper = cls(shapes, batch, dtype)
        for i in graph.inputs:
            keeper._new(i.name, i.shape, None)
            keeper.needs_grad[i.name] = inputs_need_grad and i.shape.is_float
        return keeper

    def run(self, layer: Layer, count: bool = True) -> int:
        """The layer's output made; with `count`, the bytes of what it keeps that no earlier
        layer kept."""
        opdef = LOOKUP[layer.op]
        a = layer.attrs or {}
        ins = tuple(self._shape(n) for n in layer.inputs)
        out = self._shape(layer.name)
        weights = layer.trainable and opdef.count_params(a, ins).params > 0
        grads = Grads(tuple(self.needs_grad[n] for n in layer.inputs), weights,
                      tuple(layer.inputs.index(n) for n in layer.inputs))
        self._output(layer, ins, out)
        self.needs_grad[layer.name] = out.is_float and (weights or any(grads.inputs))
        return sum(self._bytes(layer, item) for item in opdef.saves(a, ins, out, grads)) if count else 0

    def keep(self, name: str) -> int:
        """The bytes of tensor `name`'s storage, kept now, if no layer kept it before."""
        storage = self.tensors[name].storage
        if storage in self.counted or _is_parameter(self.shapes, storage):
            return 0
        self.counted.add(storage)
        return self.storage_bytes[storage]

    def fork(self, names: list[str]) -> _Keeper:
        """A keeper that holds only the tensors `names`, already kept (a checkpointed block's
        inputs, alive through its recomputation)."""
        fork = _Keeper(self.shapes, self.batch, self.dtype)
        for name in names:
            tensor = fork.tensors[name] = self.tensors[name]
            fork.storage_bytes[tensor.storage] = self.storage_bytes[tensor.storage]
            fork.needs_grad[name] = self.needs_grad[name]
            fork.counted.add(tensor.storage)
        return fork

    def run_all(self, layers: tuple[Layer, ...], start: int, segments: Mapping[int, tuple[int, list[str]]]) -> int:
        """What the checkpointed use starting at `start` keeps, run from its inputs."""
        total, index = 0, start
        while index < len(layers) and segments.get(index, (None,))[0] == start:
            total += self.run(layers[index])
            index += 1
        return total

    def _shape(self, name: str) -> Shape:
        shape = self.shapes[name]
        assert shape is not None
        return shape

    def _output(self, layer: Layer, ins: tuple[Shape, ...], out: Shape) -> None:
        opdef, a = LOOKUP[layer.op], layer.attrs or {}
        if opdef.view is not None:
            source = self.tensors[layer.inputs[0]]
            sizes = self._sizes(out)
            strides = opdef.view(a, source.sizes, source.strides, sizes)
            if strides is not None:
                self.tensors[layer.name] = Tensor(source.storage, sizes, strides)
                return
        self._new(layer.name, out, self._layout(layer, out))

    def _layout(self, layer: Layer, out: Shape) -> tuple[int, ...] | None:
        """The strides of a new output that is not contiguous, else None."""
        opdef, sizes = LOOKUP[layer.op], self._sizes(out)
        if opdef.output_strides is not None:
            return opdef.output_strides(layer.attrs or {}, sizes)
        if opdef.keeps_layout:
            like = next((self.tensors[n] for n in layer.inputs if self.tensors[n].sizes == sizes), None)
            return dense_like(sizes, like.strides) if like is not None else None
        return None

    def _new(self, name: str, shape: Shape, strides: tuple[int, ...] | None) -> None:
        sizes = self._sizes(shape)
        self.tensors[name] = Tensor(name, sizes, strides or contiguous_strides(sizes))
        self.storage_bytes[name] = prod(sizes) * self._element_bytes(shape.dtype if not shape.is_float else None)

    def _sizes(self, shape: Shape) -> tuple[int, ...]:
        return (self.batch if shape.batched else 1, *shape.dims)

    def _element_bytes(self, dtype: str | None) -> int:
        if dtype is None:
            return DTYPE_BYTES[self.dtype]
        if dtype == ACCUMULATE:
            return DTYPE_BYTES[master_dtype(self.dtype)]
        return TENSOR_BYTES[dtype]

    def _bytes(self, layer: Layer, item: Saved) -> int:
        if item.kept is None:
            return (item.elements * self.batch + item.fixed) * self._element_bytes(item.dtype)
        name = layer.name if item.kept == OUTPUT else layer.inputs[item.kept]
        tensor = self.tensors[name]
        if item.moved:  # positions before the batch: a transposed view
            tensor = _moved(tensor)
        if item.expanded is not None:
            tensor = _expand(tensor, (self.batch, *item.expanded))
        if item.folded and not _folds(tensor, item.folded):
            shape = self._shape(name)
            return prod(tensor.sizes) * self._element_bytes(None if shape.is_float else shape.dtype)
        if tensor.storage in self.counted or _is_parameter(self.shapes, tensor.storage):
            return 0
        self.counted.add(tensor.storage)
        return self.storage_bytes[tensor.storage]


def _moved(tensor: Tensor) -> Tensor:
    """Tensor.transpose(0, 1): the batch and positions axes swapped."""
    sizes, strides = tensor.sizes, tensor.strides
    return Tensor(tensor.storage, (sizes[1], sizes[0], *sizes[2:]), (strides[1], strides[0], *strides[2:]))


def _expand(tensor: Tensor, lead: tuple[int, ...]) -> Tensor:
    """Tensor.expand to `lead` + its last two sizes: new and size-1 axes get stride 0."""
    rank = len(lead) + 2
    sizes = (1,) * (rank - len(tensor.sizes)) + tensor.sizes
    strides = (0,) * (rank - len(tensor.strides)) + tensor.strides
    wide = tuple(n if m == 1 else m for m, n in zip(sizes[:-2], lead))
    repeated = tuple(0 if m == 1 and n != 1 else st for m, n, st in zip(sizes[:-2], wide, strides[:-2]))
    return Tensor(tensor.storage, wide + sizes[-2:], repeated + strides[-2:])


def _folds(tensor: Tensor, kept_axes: int) -> bool:
    """Whether reshaping to (-1, the last `kept_axes` sizes) is a view."""
    if is_contiguous(tensor.sizes, tensor.strides):
        return True
    sizes = (prod(tensor.sizes[:-kept_axes]), *tensor.sizes[-kept_axes:])
    return view_strides(tensor.sizes, tensor.strides, sizes) is not None


def _is_parameter(shapes: Mapping[str, Shape | None], storage: str) -> bool:
    """A `param` layer's tensor is a parameter: counted with the parameters."""
    shape = shapes.get(storage)
    return shape is not None and not shape.batched


@dataclass(frozen=True, slots=True)
class Training:
    """A training step's settings: the optimizer and the gradients' type (None: the master
    weights'). Mixed precision (--dtype float16/bfloat16) keeps float32 master weights,
    their gradients and the optimizer's states; activations are saved in --dtype."""

    optimizer: str = "adam"
    grad_dtype: str | None = None
    checkpoint: str | None = None  # a block type whose uses run under torch.utils.checkpoint

    def problem(self, dtype: str, graph: Graph) -> tuple[str, str] | None:
        """(the setting at fault: dtype, grad_dtype or checkpoint, and why) where these
        settings cannot train `graph` at `dtype`; None where they can. The one check the
        command line and the Python API make."""
        types = ", ".join(TRAINING_DTYPES)
        if dtype not in TRAINING_DTYPES:
            return "dtype", f"{dtype} is no type to train in; use {types}"
        if self.grad_dtype is not None and self.grad_dtype not in TRAINING_DTYPES:
            return "grad_dtype", f"{self.grad_dtype} is no type for gradients; use {types}"
        known = sorted({b.block for b in graph.blocks})
        if self.checkpoint is not None and self.checkpoint not in known:
            return "checkpoint", (f"{graph.name} has no block '{self.checkpoint}'"
                                  + (f"; its blocks: {', '.join(known)}" if known else "; it has no blocks"))
        return None

    def record(self, dtype: str) -> dict[str, str | int]:
        master = master_dtype(dtype)
        return {"optimizer": self.optimizer, "optimizer_states": OPTIMIZER_STATES[self.optimizer],
                "master_dtype": master, "grad_dtype": self.grad_dtype or master,
                **({"checkpoint": self.checkpoint} if self.checkpoint else {})}

    def saved(self, graph: Graph, shapes: Mapping[str, Shape | None], batch: int,
              dtype: str) -> tuple[dict[str, int], int]:
        """Per layer what autograd keeps through the forward pass, and what a checkpointed
        use keeps again while it is recomputed (0 without --checkpoint)."""
        if self.checkpoint is None:
            return saved_bytes(graph, shapes, batch, dtype), 0
        return checkpointed_saved_bytes(graph, shapes, batch, dtype, checkpointed_uses(graph, self.checkpoint))

    def totals(self, cost: Cost, saved: int, dtype: str, recomputed: int = 0) -> dict[str, int]:
        """What one step holds at its peak, after forward: the weights and buffers (in the
        master type: autocast leaves BatchNorm's running statistics float32), a gradient per
        trainable parameter, the optimizer's states and what autograd saved. Not counted:
        the gradients of activations in flight during backward (at most a few layers'
        outputs at once), autocast's half copies of the weights, the allocator's rounding
        and the kernels' workspaces. With --checkpoint, the most one use keeps again while
        its backward recomputes it adds to the peak."""
        master = DTYPE_BYTES[master_dtype(dtype)]
        trainable = cost.params - cost.frozen_params
        weights = cost.params * master
        buffers = (cost.buffers - cost.counters) * master + cost.counters * COUNTER_BYTES
        gradients = trainable * DTYPE_BYTES[self.grad_dtype or master_dtype(dtype)]
        states = trainable * OPTIMIZER_STATES[self.optimizer] * master
        return {
            "master_param_bytes": weights,
            "master_buffer_bytes": buffers,
            "gradient_bytes": gradients,
            "optimizer_state_bytes": states,
            "saved_activation_bytes": saved,
            **({"recomputed_bytes": recomputed} if self.checkpoint else {}),
            "train_memory_bytes": weights + buffers + gradients + states + saved + recomputed,
        }
