"""Cost: parameters, buffers, MACs, FLOPs and activation elements of each layer.

Conventions, stated once here:

- params are `sum(p.numel() for p in model.parameters())`, buffers likewise for
  `model.buffers()`; `counters` are the int64 buffers (BatchNorm's num_batches_tracked).
- MACs are the multiply-accumulates of conv, convT and linear only (torchvision's "GFLOPS").
- FLOPs = 2 x MACs + the op's `other_flops` (bias adds, elementwise and window work).
- activations are the elements of the layer's output, for one sample.
Batch size and dtype are applied when the figures are reported, never here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..dtypes import TENSOR_BYTES
from ..ir import Layer, Shape
from ..ops import LOOKUP


@dataclass(frozen=True, slots=True)
class Cost:
    params: int = 0
    buffers: int = 0
    counters: int = 0
    macs: int = 0
    flops: int = 0
    activations: int = 0  # elements of a float output: their bytes follow --dtype
    fixed_bytes: int = 0  # bytes of an integer or bool output (token ids, masks): their own size

    def activation_bytes(self, size: int) -> int:
        return self.activations * size + self.fixed_bytes

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.params + other.params,
            self.buffers + other.buffers,
            self.counters + other.counters,
            self.macs + other.macs,
            self.flops + other.flops,
            self.activations + other.activations,
            self.fixed_bytes + other.fixed_bytes,
        )


def layer_cost(layer: Layer, ins: tuple[Shape, ...], out: Shape) -> Cost:
    opdef = LOOKUP[layer.op]
    a = layer.attrs or {}
    weights = opdef.count_params(a, ins)
    macs = opdef.count_macs(a, ins, out)
    flops = 2 * macs + opdef.other_flops(a, ins, out)
    if out.is_float:
        return Cost(weights.params, weights.buffers, weights.counters, macs, flops, out.numel)
    return Cost(weights.params, weights.buffers, weights.counters, macs, flops, 0, out.numel * TENSOR_BYTES[out.dtype])
