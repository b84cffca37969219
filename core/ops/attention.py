"""Attention: `matmul` (torch.matmul), `mha` (nn.MultiheadAttention, batch_first) and
`sdpa` (F.scaled_dot_product_attention, grouped-query and causal)."""

from __future__ import annotations

from .registry import table

OPS = table()
