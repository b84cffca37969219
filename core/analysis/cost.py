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
from ..ops.registry import Weights


@dataclass(frozen=True, slots=True)
class Cost:
    params: int = 0
    buffers: int = 0
    counters: int = 0
    macs: int = 0
    flops: int = 0
    activations: int = 0  # elements of a float output: their bytes follow --dtype
    fixed_bytes: int = 0  # bytes of an integer or bool output (token ids, masks): their own size
    frozen_params: int = 0  # of `params`, those with requires_grad=False (trainable=false)

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
            self.frozen_params + other.frozen_params,
        )


def layer_cost(layer: Layer, ins: tuple[Shape, ...], out: Shape, shared_op: str | None = None) -> Cost:
    """`shared_op`: the type of the layer whose weights this one shares (`share=`), if any."""
    opdef = LOOKUP[layer.op]
    a = layer.attrs or {}
    weights = opdef.count_params(a, ins) if shared_op is None else own_weights(layer, shared_op)
    macs = opdef.count_macs(a, ins, out)
    flops = 2 * macs + opdef.other_flops(a, ins, out)
    frozen = 0 if layer.trainable else weights.params
    elements, fixed = (out.numel, 0) if out.is_float else (0, out.numel * TENSOR_BYTES[out.dtype])
    return Cost(weights.params, weights.buffers, weights.counters, macs, flops, elements, fixed, frozen)


def own_weights(layer: Layer, shared_op: str) -> Weights:
    """What a sharing layer adds to `model.parameters()`: nothing when it calls the same
    module again; a head tied to another type's weight (the build allows a linear layer on an
    embedding's) keeps its own bias."""
    a = layer.attrs or {}
    return Weights(a["out"]) if layer.op != shared_op and a.get("bias") else Weights()
