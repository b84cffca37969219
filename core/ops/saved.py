"""What autograd keeps for the backward pass: the `saves` rule of every op, and the `view`
rule of the ops whose output shares its input's memory.

A `saves(a, ins, out, grads) -> tuple[Saved, ...]` rule lists the tensors PyTorch's
autograd saves when the layer runs in training mode (what `saved_tensors_hooks` sees),
parameters and buffers left out (they are counted as such). A saved tensor is either one
the layer reads or returns (`kept`: an input's index or OUTPUT), which the training pass
counts once however many layers keep it, or one the op makes (`elements` per sample and
`fixed` elements whatever the batch, in the compute dtype unless `dtype` says otherwise).
`grads` says which inputs require gradients and whether the layer's weights are
trainable: autograd saves only what the gradients it must compute need.
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod
from typing import Any, NamedTuple

from ..ir import Shape

OUTPUT = -1  # `Saved.kept` of the layer's output
# `Saved.dtype` of statistics: float32 where the compute dtype is a half type (PyTorch
# accumulates in it), else the compute dtype
ACCUMULATE = "accumulate"


class Saved(NamedTuple):
    kept: int | None = None  # the input (or OUTPUT) it is; None: a tensor the op makes
    elements: int = 0  # made: elements per sample
    fixed: int = 0  # made: elements whatever the batch (BatchNorm's statistics)
    dtype: str | None = None  # made: its type, when not the compute dtype ("int64" indices, "bool" masks)
    # kept: reshaped to (-1, its last `folded` axes) first (a linear layer's rows): the same
    # memory where the strides allow a view, else a copy (Tensor.reshape)
    folded: int = 0
    # kept and folded: first broadcast to these leading sizes (per sample; torch.matmul's
    # expand): axes of size 1 and missing ones repeat with stride 0, which a fold may copy
    expanded: tuple[int, ...] | None = None
    # kept and folded: first its batch and positions axes swapped (a batch_first module's
    # transpose): a view where the tensor is stored positions first (a recurrence's output)
    moved: bool = False


class Grads(NamedTuple):
    """Which inputs require gradients and whether the layer's weights do; which inputs are
    one tensor (`first[i]`: the first input reading the tensor input i reads; mha's
    self-attention)."""

    inputs: tuple[bool, ...]
    weights: bool
    first: tuple[int, ...] = ()

    @property
    def any(self) -> bool:
        return self.weights or any(self.inputs)


Attrs = dict[str, Any]
Shapes = tuple[Shape, ...]


def nothing(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """Layout ops, sums and scalings: their gradients need no values."""
    return ()


def input_for_input_grad(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """Elementwise functions whose derivative reads the input (GELU, SiLU, Hardswish)."""
    return (Saved(0),) if g.inputs[0] else ()


def output_for_input_grad(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """Functions whose derivative reads the output (ReLU, sigmoid, tanh, softmax)."""
    return (Saved(OUTPUT),) if g.inputs[0] else ()


def input_for_weight_grad(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """Embeddings: the weight's gradient reads the ids."""
    return (Saved(0),) if g.weights else ()


def input_for_any_grad(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """PReLU, whose gradients both read the input; convolutions, which compute both in one
    backward and save the input for it whichever is needed."""
    return (Saved(0),) if g.any else ()


def positions_first(a: Attrs, sizes: tuple[int, ...]) -> tuple[int, ...]:
    """The strides of a batch_first module's output: a (L, N, ...) result seen as (N, L, ...)."""
    rest = contiguous_strides(sizes[2:])
    inner = prod(sizes[2:])
    return (inner, sizes[0] * inner) + rest


# --- views: where an output is the input's memory, seen with other sizes or strides --------

# view(a, sizes, strides, out_sizes) -> the output's strides, or None when it is a new tensor;
# sizes and strides include the batch axis, as PyTorch's
View = Callable[[Any, tuple[int, ...], tuple[int, ...], tuple[int, ...]], tuple[int, ...] | None]


def contiguous_strides(sizes: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for n in reversed(sizes):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def is_contiguous(sizes: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """PyTorch's rule: axes of size 1 may have any stride."""
    step = 1
    for n, stride in zip(reversed(sizes), reversed(strides)):
        if n != 1:
            if stride != step:
                return False
            step *= n
    return True


def dense_like(sizes: tuple[int, ...], strides: tuple[int, ...]) -> tuple[int, ...]:
    """The strides of an elementwise result (TensorIterator's): dense, its axes in the order
    of the input's strides, so that a permuted input gives a permuted output."""
    order = sorted(range(len(sizes)), key=lambda axis: -strides[axis])
    dense, step = [0] * len(sizes), 1
    for axis in reversed(order):
        dense[axis] = step
        step *= sizes[axis]
    return tuple(dense)


def same(a: Attrs, sizes: tuple[int, ...], strides: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, ...]:
    """nn.Identity: the input itself."""
    return strides


def reshaped(a: Attrs, sizes: tuple[int, ...], strides: tuple[int, ...],
             out: tuple[int, ...]) -> tuple[int, ...] | None:
    """`reshape`/`flatten`: a view where the strides allow one (PyTorch's computeStride),
    else a contiguous copy."""
    if is_contiguous(sizes, strides):
        return contiguous_strides(out)
    return view_strides(sizes, strides, out)


def view_strides(sizes: tuple[int, ...], strides: tuple[int, ...],
                  out: tuple[int, ...]) -> tuple[int, ...] | None:
    """ATen's computeStride: group the old axes into runs that are contiguous with each
    other; every new axis must fall inside one run."""
    new: list[int] = [0] * len(out)
    view_d = len(out) - 1
    chunk_base_stride = strides[-1] if strides else 1
    tensor_numel = 1
    view_numel = 1
    for tensor_d in range(len(sizes) - 1, -1, -1):
        tensor_numel *= sizes[tensor_d]
        if tensor_d == 0 or (sizes[tensor_d - 1] != 1 and strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or out[view_d] == 1):
                new[view_d] = view_numel * chunk_base_stride
                view_numel *= out[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if tensor_d > 0:
                chunk_base_stride = strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    return tuple(new) if view_d == -1 else None


def permuted(a: Attrs, sizes: tuple[int, ...], strides: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, ...]:
    rank = len(sizes)
    return tuple(strides[d % rank] for d in a["dims"])


def transposed(a: Attrs, sizes: tuple[int, ...], strides: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, ...]:
    rank = len(sizes)
    first, second = (d % rank for d in a["dims"])
    moved = list(strides)
    moved[first], moved[second] = moved[second], moved[first]
    return tuple(moved)


def selected(a: Attrs, sizes: tuple[int, ...], strides: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, ...]:
    axis = a["dim"] % len(sizes)
    return strides[:axis] + strides[axis + 1:]


def sliced(a: Attrs, sizes: tuple[int, ...], strides: tuple[int, ...], out: tuple[int, ...]) -> tuple[int, ...]:
    axis = a["dim"] % len(sizes)
    return strides[:axis] + (strides[axis] * a["step"],) + strides[axis + 1:]
