"""Layout and lookup ops of token networks: `embedding`, `param`, `permute`, `transpose`,
`reshape`, `slice`, `select`.

Axes are PyTorch's: `dim`/`dims` count the batch axis as 0 (dim 1 is the first axis of a
spec's shape) and negative values count from the end. Layout ops keep their input's
element type (token ids stay int64); they are written out in the exported forward as
tensor methods, since PyTorch has no module for them.
"""

from __future__ import annotations

from math import prod

from ..ir import Shape
from .merge import axis_of
from .registry import (
    ELEMENTWISE,
    IDENTITY,
    INTEGER,
    INTEGERS,
    NO_MACS,
    NO_OTHER_FLOPS,
    NO_WEIGHTS,
    POSITIVE,
    READS_NOTHING,
    SAVES_NOTHING,
    Attr,
    Attrs,
    OpError,
    Reach,
    Shapes,
    Weights,
    kept_axes,
    op,
    optional,
    table,
)
from .saved import input_for_weight_grad, permuted, reshaped, selected, sliced, transposed


def _embedding(a: Attrs, ins: Shapes) -> Shape:
    if a["padding_idx"] is not None and not -a["num"] <= a["padding_idx"] < a["num"]:
        raise OpError("invalid-argument", f"padding_idx={a['padding_idx']} is not an index of {a['num']} rows")
    return Shape(ins[0].dims + (a["dim"],))


def _embedding_torch(a: Attrs, ins: Shapes) -> str:
    return f"nn.Embedding({a['num']}, {a['dim']}, padding_idx={a['padding_idx']})"


def _embedding_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    """Each id becomes a vector: the ids' axes, then a new feature axis."""
    return Reach((IDENTITY,) * (ins[0].rank - 1), moves=(*range(ins[0].rank), None))


def _permute_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    return Reach((IDENTITY,) * (out.rank - 1), moves=_permutation(a["dims"], ins[0].rank))


def _transpose_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    axes = list(range(ins[0].rank))
    first, second = (axis_of(d, ins[0].rank) for d in a["dims"])
    axes[first], axes[second] = axes[second], axes[first]
    return Reach((IDENTITY,) * (out.rank - 1), moves=tuple(axes))


def _select_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    dropped = axis_of(a["dim"], ins[0].rank)
    return Reach((IDENTITY,) * (out.rank - 1), moves=tuple(i for i in range(ins[0].rank) if i != dropped))


def _reshape_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    """Axes the reshape leaves alone (equal sizes from either end) keep what they hold; the
    rest are merged or split, positions mixed into one axis (see the field pass)."""
    return Reach((IDENTITY,) * (out.rank - 1), moves=kept_axes(ins[0].dims, out.dims))


def _param(a: Attrs, ins: Shapes) -> Shape:
    if any(n < 1 for n in a["shape"]):
        raise OpError("invalid-argument", f"shape={list(a['shape'])} needs positive sizes")
    return Shape(a["shape"], batched=False)


def _permutation(dims: tuple[int, ...], rank: int) -> tuple[int, ...]:
    """`dims` (batch first, as Tensor.permute takes them) as indices into the spec's axes."""
    if len(dims) != rank + 1:
        raise OpError("invalid-argument", f"dims={','.join(map(str, dims))} must name all {rank + 1} axes, "
                      "the batch axis 0 first")
    axes = tuple(d % (rank + 1) if -(rank + 1) <= d <= rank else -1 for d in dims)
    if sorted(axes) != list(range(rank + 1)):
        raise OpError("invalid-argument", f"dims={','.join(map(str, dims))} is not a permutation of 0..{rank}")
    if axes[0] != 0:
        raise OpError("invalid-argument", "the batch axis must stay first (dims starting with 0)")
    return tuple(d - 1 for d in axes[1:])


def _permute(a: Attrs, ins: Shapes) -> Shape:
    x = ins[0]
    return Shape(tuple(x.dims[axis] for axis in _permutation(a["dims"], x.rank)))


def _transpose(a: Attrs, ins: Shapes) -> Shape:
    x = ins[0]
    if len(a["dims"]) != 2:
        raise OpError("invalid-argument", f"dims={','.join(map(str, a['dims']))} must name two axes")
    first, second = (axis_of(d, x.rank) for d in a["dims"])
    dims = list(x.dims)
    dims[first], dims[second] = dims[second], dims[first]
    return Shape(tuple(dims))


def _reshape(a: Attrs, ins: Shapes) -> Shape:
    x, shape = ins[0], a["shape"]
    if shape.count(-1) > 1 or any(n < -1 or n == 0 for n in shape):
        raise OpError("invalid-argument", f"shape={list(shape)} needs positive sizes and at most one -1")
    known = prod(n for n in shape if n != -1)
    if -1 in shape:
        if x.numel % known:
            raise OpError("shape-mismatch", f"cannot reshape {x} ({x.numel:,} elements) to {list(shape)}")
        shape = tuple(x.numel // known if n == -1 else n for n in shape)
    elif known != x.numel:
        raise OpError("shape-mismatch", f"cannot reshape {x} ({x.numel:,} elements) to {list(shape)} "
                      f"({known:,} elements)")
    return Shape(shape)


def _slice_range(a: Attrs, n: int) -> range:
    """Python's slice rules on an axis of n: negatives count from the end, bounds clip."""
    return range(n)[slice(a["start"], a["end"], a["step"])]


def _slice(a: Attrs, ins: Shapes) -> Shape:
    x = ins[0]
    axis = axis_of(a["dim"], x.rank)
    kept = len(_slice_range(a, x.dims[axis]))
    if kept == 0:
        raise OpError("non-positive-size", f"the slice {_slice_text(a)} of dim={a['dim']} keeps nothing of "
                      f"{x.dims[axis]}")
    return Shape(x.dims[:axis] + (kept,) + x.dims[axis + 1:])


def _slice_text(a: Attrs) -> str:
    start = "" if a["start"] == 0 else a["start"]
    end = "" if a["end"] is None else a["end"]
    return f"[{start}:{end}]" if a["step"] == 1 else f"[{start}:{end}:{a['step']}]"


def _slice_torch(a: Attrs, args: list[str]) -> str:
    """`x[:, 0:58]` for dim=1, `x[..., 2:, :]` for dim=-2: the axis counted as `dim` counts."""
    sliced = _slice_text(a)[1:-1]
    dim = a["dim"]
    return f"{args[0]}[{':, ' * dim}{sliced}]" if dim >= 0 else f"{args[0]}[..., {sliced}{', :' * (-dim - 1)}]"


def _select(a: Attrs, ins: Shapes) -> Shape:
    x = ins[0]
    axis = axis_of(a["dim"], x.rank)
    if not -x.dims[axis] <= a["index"] < x.dims[axis]:
        raise OpError("invalid-argument", f"index={a['index']} is out of range for dim={a['dim']} of size "
                      f"{x.dims[axis]}")
    if x.rank == 1:
        raise OpError("invalid-rank", f"selecting from {x} would leave only the batch axis")
    return Shape(x.dims[:axis] + x.dims[axis + 1:])


_MOVES = {"count_params": NO_WEIGHTS, "count_macs": NO_MACS, "other_flops": NO_OTHER_FLOPS, "reads": "any",
          "flops_rule": "0 (a view or a copy)", "saves": SAVES_NOTHING}

OPS = table(
    op("embedding", "A lookup table of `num` vectors of size `dim` (nn.Embedding): reads integer ids of any "
       "shape, gives that shape + dim.", _embedding,
       attrs={"num": Attr(POSITIVE, aliases=("num_embeddings",)), "dim": Attr(POSITIVE, aliases=("embedding_dim",)),
              "padding_idx": Attr(optional(INTEGER), None)},
       count_params=lambda a, ins: Weights(a["num"] * a["dim"]), count_macs=NO_MACS, other_flops=NO_OTHER_FLOPS,
       flops_rule="0 (a lookup)", receptive_field=_embedding_reach, torch_module=_embedding_torch,
       reads="integer", saves=input_for_weight_grad),
    op("param", "A learned tensor of `shape` with no input (nn.Parameter): a class token, a position "
       "embedding, a layer scale; broadcast over the batch.", _param,
       attrs={"shape": Attr(INTEGERS)}, count_params=lambda a, ins: Weights(prod(a["shape"])),
       count_macs=NO_MACS, other_flops=NO_OTHER_FLOPS, receptive_field=READS_NOTHING, inputs=(0, 0),
       saves=SAVES_NOTHING,
       torch_module=lambda a, ins: f"nn.Parameter(torch.zeros(1, {', '.join(map(str, a['shape']))}))"),
    op("permute", "Reorders all axes (Tensor.permute); `dims` name them batch first: 0,2,3,1 is channels last.",
       _permute, attrs={"dims": Attr(INTEGERS)}, **_MOVES, receptive_field=_permute_reach, view=permuted,
       torch_expression=lambda a, args: f"{args[0]}.permute({', '.join(map(str, a['dims']))})"),
    op("transpose", "Swaps two axes (Tensor.transpose): dims=1,2.", _transpose,
       attrs={"dims": Attr(INTEGERS)}, **_MOVES, receptive_field=_transpose_reach, view=transposed,
       torch_expression=lambda a, args: f"{args[0]}.transpose({', '.join(map(str, a['dims']))})"),
    op("reshape", "Gives the elements a new `shape` (no batch axis; at most one -1), as Tensor.reshape.",
       _reshape, attrs={"shape": Attr(INTEGERS)}, **_MOVES, receptive_field=_reshape_reach, view=reshaped,
       torch_expression=lambda a, args: f"{args[0]}.reshape({args[0]}.shape[0], {', '.join(map(str, a['shape']))})"),
    op("slice", "Keeps `start`:`end`:`step` of axis `dim` (Python's slice rules; ShuffleNetV2's split is two).",
       _slice, attrs={"dim": Attr(INTEGER), "start": Attr(INTEGER, 0), "end": Attr(optional(INTEGER), None),
                      "step": Attr(POSITIVE, 1)},
       **_MOVES, receptive_field=ELEMENTWISE, torch_expression=_slice_torch, view=sliced),
    op("select", "Takes position `index` of axis `dim` and drops the axis (Tensor.select): index=0 is a class "
       "token, index=-1 the last step.", _select, attrs={"dim": Attr(INTEGER), "index": Attr(INTEGER)},
       **_MOVES, receptive_field=_select_reach, view=selected,
       torch_expression=lambda a, args: f"{args[0]}.select({a['dim']}, {a['index']})"),
)
