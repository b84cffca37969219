"""Layout and lookup ops of token networks: `embedding`, `param`, `permute`, `transpose`,
`reshape`, `slice`, `select`."""

from __future__ import annotations

from .registry import table

OPS = table()
