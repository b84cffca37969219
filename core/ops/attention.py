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

OPS = table(
    op("matmul", "Matrix product of two inputs (torch.matmul), leading axes broadcast; global: it mixes "
       "every position of the contracted axis.", _matmul_shape, inputs=(2, 2),
       count_params=NO_WEIGHTS, count_macs=_matmul_macs, other_flops=NO_OTHER_FLOPS, receptive_field=whole_reach,
       macs_rule="output elements x contracted length", flops_rule="0 (the sums are in the MACs)",
       torch_expression=lambda a, args: f"torch.matmul({args[0]}, {args[1]})"),
    op("mha", "Multi-head attention (nn.MultiheadAttention, batch_first) on L x E sequences: one input "
       "(self-attention) or three (query, key, value); output has the query's shape; global.",
       _mha_shape, inputs=(1, 3),
       attrs={"heads": Attr(POSITIVE, aliases=("num_heads",)), "bias": Attr(BOOLEAN, True),
              "kdim": Attr(optional(POSITIVE), None), "vdim": Attr(optional(POSITIVE), None),
              "dropout": Attr(PROBABILITY, 0)},
       count_params=_mha_params, count_macs=_mha_macs, other_flops=_mha_flops, receptive_field=whole_reach,
       macs_rule="L·E·E (q) + S·kdim·E (k) + S·vdim·E (v) + L·E·E (out) + 2·L·S·E (Q·Kᵀ, A·V)",
       flops_rule=f"{_SCORES_RULE}; (2L + 2S)·E bias adds, if bias", torch_module=_mha_torch),
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
       flops_rule=_SCORES_RULE, torch_expression=_sdpa_torch),
)
