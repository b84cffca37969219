"""Attention: `matmul` (torch.matmul), `mha` (nn.MultiheadAttention, batch_first) and
`sdpa` (F.scaled_dot_product_attention, grouped-query and causal).

Each mixes every position of its sequence, so its output is `global` (whole_reach): a
causal one still reads the whole prefix, and its first position is no local window.
Attention products are MACs (torchvision's ViT figures count them); the softmax and the
scaling of the scores are FLOPs beyond them, 4 per score, as softmax's 3 plus 1.
"""

from __future__ import annotations

from ..ir import Shape
from .registry import (
    BOOLEAN,
    NO_OTHER_FLOPS,
    NO_WEIGHTS,
    POSITIVE,
    PROBABILITY,
    Attr,
    Attrs,
    OpError,
    Shapes,
    Weights,
    numel,
    op,
    optional,
    prefix_reach,
    table,
    whole_reach,
)
from .saved import ACCUMULATE, OUTPUT, Grads, Saved, positions_first

# --- matmul -------------------------------------------------------------------------


def _matmul_shape(a: Attrs, ins: Shapes) -> Shape:
    x, y = ins
    if x.rank < 2 or y.rank < 2:
        # with the batch axis in front a 1-axis operand is a matrix to torch.matmul, which
        # would multiply across the batch: no per-sample vector rule can be exact
        raise OpError("invalid-rank", f"each operand needs 2 axes or more besides the batch, got {x} and {y}")
    if any(s.rank < max(x.rank, y.rank) and s.batched for s in ins):
        # torch aligns batch axes from the right: the batch axis of one would meet an axis of
        # the other; a `param` has none, and broadcasts
        raise OpError("shape-mismatch", f"cannot multiply {x} by {y}: their ranks differ "
                      "(only a `param`, which has no batch axis, may have fewer axes)")
    if x.dims[-1] != y.dims[-2]:
        raise OpError("shape-mismatch", f"cannot multiply {x} by {y}: contracted lengths "
                      f"{x.dims[-1]} and {y.dims[-2]} differ")
    return Shape(_leading(x, y) + (x.dims[-2], y.dims[-1]), batched=x.batched or y.batched)


def _leading(x: Shape, y: Shape) -> tuple[int, ...]:
    """The broadcast of the axes before the last two, aligned from the right."""
    rank = max(x.rank, y.rank) - 2
    dims = []
    for m, n in zip((1,) * (rank + 2 - x.rank) + x.dims[:-2], (1,) * (rank + 2 - y.rank) + y.dims[:-2]):
        if m != n and 1 not in (m, n):
            raise OpError("shape-mismatch", f"cannot broadcast the leading axes of {x} and {y}")
        dims.append(max(m, n))
    return tuple(dims)


def _matmul_macs(a: Attrs, ins: Shapes, out: Shape) -> int:
    return numel(out) * ins[0].dims[-1]


# --- mha ----------------------------------------------------------------------------


def _qkv(ins: Shapes) -> Shapes:
    """(query, key, value): one input is all three (self-attention)."""
    if len(ins) == 2:
        raise OpError("wrong-input-count", "takes one input (self-attention) or three (query, key, value), got 2")
    return ins * 3 if len(ins) == 1 else ins


def _sequences(ins: Shapes) -> None:
    if any(x.rank != 2 for x in ins):
        raise OpError("invalid-rank", "expects L x E sequences (positions, features), got "
                      + " and ".join(map(str, ins)))


def _kv_dims(a: Attrs, ins: Shapes) -> tuple[int, int]:
    """kdim and vdim, PyTorch's default being the embed dim (the query's features)."""
    e = ins[0].dims[-1]
    return a["kdim"] or e, a["vdim"] or e


def _mha_shape(a: Attrs, ins: Shapes) -> Shape:
    query, key, value = _qkv(ins)
    _sequences((query, key, value))
    e = query.dims[-1]
    if e % a["heads"]:
        raise OpError("invalid-argument", f"heads={a['heads']} must divide the embed dim {e} (the query's features)")
    for tensor, name, what, dim in zip((key, value), ("key", "value"), ("kdim", "vdim"), _kv_dims(a, ins)):
        if tensor.dims[-1] != dim:
            default = "" if a[what] else ", by default the query's features"
            raise OpError("shape-mismatch",
                          f"the {name} {tensor} has {tensor.dims[-1]} features but {what}={dim}{default}")
    if key.dims[0] != value.dims[0]:
        raise OpError("shape-mismatch", f"key {key} and value {value} differ in length")
    return query


def _mha_params(a: Attrs, ins: Shapes) -> Weights:
    """q, k, v projections (one packed in_proj_weight when kdim = vdim = E, the same count),
    out_proj E x E; biases: in_proj_bias 3E and out_proj's E."""
    e = ins[0].dims[-1]
    kdim, vdim = _kv_dims(a, ins)
    return Weights(e * (e + kdim + vdim) + e * e + (4 * e if a["bias"] else 0))


def _lengths(ins: Shapes) -> tuple[int, int]:
    """L (queries) and S (keys)."""
    query, key, _ = _qkv(ins)
    return query.dims[0], key.dims[0]


def _mha_macs(a: Attrs, ins: Shapes, out: Shape) -> int:
    (length, source), e = _lengths(ins), ins[0].dims[-1]
    kdim, vdim = _kv_dims(a, ins)
    projections = length * e * e + source * kdim * e + source * vdim * e + length * e * e
    return projections + 2 * length * source * e  # Q·Kᵀ and A·V over all heads


def _mha_flops(a: Attrs, ins: Shapes, out: Shape) -> int:
    (length, source), e = _lengths(ins), ins[0].dims[-1]
    biases = (2 * length + 2 * source) * e if a["bias"] else 0  # q, k, v and out projections
    return 4 * a["heads"] * length * source + biases


def _mha_torch(a: Attrs, ins: Shapes) -> str:
    kdim, vdim = _kv_dims(a, ins)
    return (f"Attention({ins[0].dims[-1]}, {a['heads']}, dropout={a['dropout']}, bias={a['bias']}, "
            f"kdim={kdim}, vdim={vdim}, batch_first=True)")


# --- sdpa ---------------------------------------------------------------------------


def _kv_heads(a: Attrs) -> int:
    return a["kv_heads"] or a["heads"]


def _head_size(x: Shape, heads: int, what: str) -> int:
    if x.dims[-1] % heads:
        raise OpError("invalid-argument", f"{heads} heads must divide the {what}'s features {x.dims[-1]} ({x})")
    return x.dims[-1] // heads


def _sdpa_shape(a: Attrs, ins: Shapes) -> Shape:
    _sequences(ins)
    query, key, value = ins
    heads, kv_heads = a["heads"], _kv_heads(a)
    if heads % kv_heads:
        raise OpError("invalid-argument", f"kv_heads={kv_heads} must divide heads={heads} (grouped-query attention)")
    d = _head_size(query, heads, "query")
    if _head_size(key, kv_heads, "key") != d:
        raise OpError("shape-mismatch", f"query {query} in {heads} heads and key {key} in {kv_heads} heads "
                      "differ in head size")
    if key.dims[0] != value.dims[0]:
        raise OpError("shape-mismatch", f"key {key} and value {value} differ in length")
    # PyTorch lets the value's head size differ from the query's: it is the output's
    return Shape((query.dims[0], heads * _head_size(value, kv_heads, "value")))


def _sdpa_macs(a: Attrs, ins: Shapes, out: Shape) -> int:
    query, key, _ = ins
    scores = a["heads"] * query.dims[0] * key.dims[0]  # all of them, causal or not: the math path masks after
    return scores * (query.dims[-1] // a["heads"]) + scores * (out.dims[-1] // a["heads"])


def _sdpa_flops(a: Attrs, ins: Shapes, out: Shape) -> int:
    return 4 * a["heads"] * ins[0].dims[0] * ins[1].dims[0]


def _sdpa_cache(a: Attrs, ins: Shapes) -> int:
    """A causal decoder keeps each position's key and value: k's and v's features."""
    return ins[1].dims[-1] + ins[2].dims[-1] if a["causal"] else 0


def _sdpa_torch(a: Attrs, args: list[str]) -> str:
    """Heads split off the features (B, L, h, d), moved before the positions, attended,
    moved back and merged: (B, L, h*d). F written out, as the harness evaluates it with torch alone."""
    heads, kv_heads = a["heads"], _kv_heads(a)
    q, k, v = (f"{x}.unflatten(-1, ({h}, -1)).transpose(1, 2)" for x, h in zip(args, (heads, kv_heads, kv_heads)))
    options = (", is_causal=True" if a["causal"] else "") + (", enable_gqa=True" if kv_heads < heads else "")
    return f"torch.nn.functional.scaled_dot_product_attention({q}, {k}, {v}{options}).transpose(1, 2).flatten(2)"


_SCORES_RULE = "4 per score, heads x L x S (scaling, softmax)"


# --- what autograd keeps ---------------------------------------------------------------


def _matmul_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """Each operand, for the other's gradient, as torch.matmul folds it: a batched operand
    times a `param` matrix folds to (-1, k); otherwise both are expanded to the broadcast
    leading axes and fold them (a copy where the expanded strides allow no view)."""
    x, y = ins
    if y.rank == 2 and not y.batched and x.batched:
        return (Saved(0, folded=1),) if g.inputs[1] else ()
    lead = out.dims[:-2]
    return tuple(Saved(i, folded=2, expanded=lead)
                 for i, partner_needs in enumerate((g.inputs[1], g.inputs[0])) if partner_needs)


def _attention_core(heads: int, length: int, source: int, d: int, dv: int, dropout: float) -> tuple[Saved, ...]:
    """What F.scaled_dot_product_attention keeps beyond q, k and v. PyTorch's CPU flash
    kernel (head sizes equal, no dropout) keeps its output and a log-sum-exp per query and
    head (float32 for half types); the math fallback keeps the scaled q and k, the
    softmax, with dropout its mask and the dropped weights, and a copy of v in heads."""
    if d == dv and not dropout:
        return (Saved(OUTPUT), Saved(elements=heads * length, dtype=ACCUMULATE))
    scores = heads * length * source
    return (Saved(elements=heads * length * d), Saved(elements=heads * source * d),
            *(Saved(elements=scores),) * (3 if dropout else 1), Saved(elements=heads * source * dv))


def _sdpa_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """q, k and v as the heads view them (the inputs' memory) and the flash kernel's own;
    the math path keeps its own copies instead (`_attention_core`)."""
    if not g.any:
        return ()
    query, key, value = ins
    heads, kv_heads = a["heads"], _kv_heads(a)
    d, dv = query.dims[-1] // heads, value.dims[-1] // kv_heads
    core = _attention_core(heads, query.dims[0], key.dims[0], d, dv, 0)
    return core if d != dv else (Saved(0), Saved(1), Saved(2), *core)


def _mha_saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
    """F.multi_head_attention_forward, batch_first: for the weights' gradients, each input
    moved positions first and folded (a copy unless it is stored so), once per tensor where
    the projection is packed (kdim = vdim = E: self-attention projects q, k, v in one
    product, key-is-value cross-attention k and v in one), once per projection otherwise;
    the projections; the attention core on them; the out projection's input (the
    attention's output, or with dropout a copy of it, for its weight's gradient)."""
    if not g.any:
        return ()
    query, key, value = _qkv(ins)
    (length, source), e, heads = _lengths(ins), query.dims[-1], a["heads"]
    tensor = (0, 0, 0) if len(ins) == 1 else g.first or (0, 1, 2)  # the tensor q, k and v are
    packed = _kv_dims(a, ins) == (e, e)
    read = [r for r in range(3) if not packed or tensor.index(tensor[r]) == r]
    moved = tuple(Saved(tensor[r], folded=1, moved=True) for r in read) if g.weights else ()
    if packed and tensor[0] == tensor[1] == tensor[2]:
        projections: tuple[Saved, ...] = (Saved(elements=3 * length * e),)
    elif packed and tensor[1] == tensor[2]:
        projections = (Saved(elements=length * e), Saved(elements=2 * source * e))
    else:
        projections = (Saved(elements=length * e), Saved(elements=source * e), Saved(elements=source * e))
    core = _attention_core(heads, length, source, e // heads, e // heads, a["dropout"])
    if a["dropout"]:  # the math path's copy of v is the projection's view; its output a new tensor
        core = core[:-1] + ((Saved(elements=length * e),) if g.weights else ())
    return moved + projections + core

OPS = table(
    op("matmul", "Matrix product of two inputs (torch.matmul), leading axes broadcast; global: it mixes "
       "every position of the contracted axis.", _matmul_shape, inputs=(2, 2),
       count_params=NO_WEIGHTS, count_macs=_matmul_macs, other_flops=NO_OTHER_FLOPS, receptive_field=whole_reach,
       macs_rule="output elements x contracted length", flops_rule="0 (the sums are in the MACs)",
       saves=_matmul_saves, torch_expression=lambda a, args: f"torch.matmul({args[0]}, {args[1]})"),
    op("mha", "Multi-head attention (nn.MultiheadAttention, batch_first) on L x E sequences: one input "
       "(self-attention) or three (query, key, value); output has the query's shape; global.",
       _mha_shape, inputs=(1, 3),
       attrs={"heads": Attr(POSITIVE, aliases=("num_heads",)), "bias": Attr(BOOLEAN, True),
              "kdim": Attr(optional(POSITIVE), None), "vdim": Attr(optional(POSITIVE), None),
              "dropout": Attr(PROBABILITY, 0)},
       count_params=_mha_params, count_macs=_mha_macs, other_flops=_mha_flops, receptive_field=whole_reach,
       macs_rule="L·E·E (q) + S·kdim·E (k) + S·vdim·E (v) + L·E·E (out) + 2·L·S·E (Q·Kᵀ, A·V)",
       flops_rule=f"{_SCORES_RULE}; (2L + 2S)·E bias adds, if bias", torch_module=_mha_torch,
       saves=_mha_saves, output_strides=positions_first),
    op("sdpa", "Scaled dot-product attention (F.scaled_dot_product_attention) of q (L x heads·d), k and v "
       "(S x kv_heads·d), split into heads and merged back; grouped-query when kv_heads < heads; global "
       "(causal: each position reads the whole prefix).", _sdpa_shape, inputs=(3, 3),
       attrs={"heads": Attr(POSITIVE, aliases=("num_heads",)),
              "kv_heads": Attr(optional(POSITIVE), None, aliases=("num_kv_heads",)),
              "causal": Attr(BOOLEAN, False, aliases=("is_causal",))},
       count_params=NO_WEIGHTS, count_macs=_sdpa_macs, other_flops=_sdpa_flops,
       receptive_field=lambda a, ins, out: (prefix_reach if a["causal"] else whole_reach)(a, ins, out),
       cached_per_position=_sdpa_cache,
       macs_rule="L·S·heads·(d + dv) (Q·Kᵀ, A·V; 2·L·S·heads·d when v's head size dv is d), causal too "
                 "(the masked scores are computed)",
       flops_rule=_SCORES_RULE, torch_expression=_sdpa_torch, saves=_sdpa_saves),
)
