"""Run a netcalc graph in torch one layer at a time (tests only): each layer becomes the
torch.nn module the exporter writes for it; running it gives every layer's output shape,
and its module gives parameter and buffer counts."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from netcalc.core.export import HEADER, broadcast_params, module_code, pad_before
from netcalc.core.ir import Graph, Layer, Shape
from netcalc.core.ops import LOOKUP
from netcalc.core.report import Report

# the exporter's helpers (Pad, Block, ...), so that its constructors can be evaluated here
_EXPORTED: dict[str, Any] = {}
exec(HEADER.format(name="", file="", inputs=""), _EXPORTED)


class Merge(nn.Module):
    """add, mul and concat, which the exporter writes out in forward: the op's `torch_expression`
    expression, evaluated on the inputs."""

    def __init__(self, layer: Layer) -> None:
        super().__init__()
        self.rule, self.attrs = LOOKUP[layer.op].torch_expression, layer.attrs or {}

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        names = [f"x{i}" for i in range(len(xs))]
        return eval(self.rule(self.attrs, names), {"torch": torch, **dict(zip(names, xs))})  # type: ignore[misc]


class Tensor(nn.Module):
    """A `param` layer run as a module: it gives its parameter."""

    def __init__(self, value: nn.Parameter) -> None:
        super().__init__()
        self.value = value

    def forward(self) -> torch.Tensor:
        return self.value


def module_for(layer: Layer, ins: tuple[Shape, ...]) -> nn.Module:
    """The layer's torch module, as `netcalc export` writes it (its op's torch_module rule),
    after the padding its forward applies first (torch_pad): there an F.pad call, here the
    exporter's Pad module, which pads alike and lets torch_field refill a max pool's -inf."""
    code = module_code(layer, ins)
    if code is None:
        return Merge(layer)
    module = eval(code, _EXPORTED)
    if isinstance(module, nn.Parameter):  # a `param` layer: the tensor itself
        return Tensor(module)
    pad = pad_before(layer, ins)
    if pad is None:
        return module
    return nn.Sequential(_EXPORTED["Pad"](pad.sides, value=eval(pad.value, _EXPORTED)), module)


def sample(shape: Shape) -> torch.Tensor:
    """A batch of one tensor of `shape`: uniform floats, or zeros of an integer or bool type
    (index 0 is valid for every embedding)."""
    if shape.is_float:
        return torch.rand(1, *shape.dims, dtype=getattr(torch, shape.dtype))
    return torch.zeros(1, *shape.dims, dtype=getattr(torch, shape.dtype))


@contextmanager
def counting_flops() -> Iterator[Any]:
    """FlopCounterMode as the brief says to trust it: attention on the math backend,
    oneDNN's fused RNN off and nn.MultiheadAttention's fast path off (otherwise the counter
    misses attention products, LSTMs, and all of a self-attention's work: in eval mode
    without grad, its one fused _native_multi_head_attention kernel has no FLOP formula)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    fast_path = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), torch.backends.mkldnn.flags(enabled=False), counter:
            yield counter
    finally:
        torch.backends.mha.set_fastpath_enabled(fast_path)


def run(graph: Graph, shapes: dict[str, Shape | None]) -> dict[str, tuple[tuple[int, ...], int, int]]:
    """Per layer: (output shape without batch, parameters, buffers), measured in torch."""
    torch.manual_seed(0)
    values = {i.name: sample(i.shape) for i in graph.inputs}
    measured = {}
    modules: dict[str, nn.Module] = {}
    seen: set[int] = set()  # parameters of earlier layers: a shared module's are counted there
    with torch.no_grad():
        for layer in graph.layers:
            ins = tuple(shapes[name] for name in layer.inputs)
            module = modules[layer.name] = shared(layer, modules) or module_for(layer, ins).eval()  # type: ignore[arg-type]
            out = module(*(values[name] for name in layer.inputs))
            values[layer.name] = out
            own = [p for p in module.parameters() if id(p) not in seen]
            seen.update(id(p) for p in own)
            buffers = sum(b.numel() for b in module.buffers())
            measured[layer.name] = (tuple(out.shape[1:]), sum(p.numel() for p in own), buffers)
    return measured


def shared(layer: Layer, modules: dict[str, nn.Module]) -> nn.Module | None:
    """The module a sharing layer calls: the same one, or a linear tied to an embedding."""
    if not layer.shares:
        return None
    target = modules[layer.shares]
    if not isinstance(target, nn.Embedding):
        return target
    head = nn.Linear(target.embedding_dim, target.num_embeddings, bias=(layer.attrs or {})["bias"])
    head.weight = target.weight
    return head


class Autograd:
    """A graph run in training mode, layer by layer, with what autograd keeps for backward
    seen by saved_tensors_hooks: each storage counted once, parameters and buffers left out.
    Recurrent layers run PyTorch's per-step implementation (oneDNN's fused LSTM keeps an
    opaque workspace). A `param` is expanded over the batch where the exporter expands it
    (a class token concatenated to the patches)."""

    def __init__(self, report: Report, batch: int, inputs_need_grad: bool = False) -> None:
        self.report, self.batch = report, batch
        self.broadcast = broadcast_params(report)
        torch.manual_seed(0)
        self.values = {i.name: torch.cat([sample(i.shape)] * batch) for i in report.graph.inputs}
        for value in self.values.values():
            value.requires_grad_(inputs_need_grad and value.is_floating_point())
        self.modules: dict[str, nn.Module] = {}
        self.owned: set[int] = set()  # the storages of every parameter and buffer
        for layer in report.graph.layers:
            ins = tuple(report.shapes[name] for name in layer.inputs)
            module = self.modules[layer.name] = (shared(layer, self.modules)
                                                 or module_for(layer, ins).train())  # type: ignore[arg-type]
            for p in module.parameters():
                p.requires_grad_(layer.trainable)
            self.owned.update(t.untyped_storage().data_ptr() for t in [*module.parameters(), *module.buffers()])
        self.counted: set[int] = set()
        self.kept: list[torch.Tensor] = []

    @contextmanager
    def watching(self) -> Iterator[None]:
        """saved_tensors_hooks collecting into `kept`, oneDNN's fused kernels off."""
        def pack(t: torch.Tensor) -> torch.Tensor:
            self.kept.append(t)
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mkldnn.flags warns of Intel GPUs
            with torch.backends.mkldnn.flags(enabled=False):
                yield

    def call(self, layer: Layer, values: dict[str, torch.Tensor]) -> torch.Tensor:
        module = self.modules[layer.name]
        value = module(*(values[name] for name in layer.inputs))
        if isinstance(module, Tensor) and layer.name not in self.broadcast:
            value = value.expand(self.batch, *value.shape[1:])
        return value  # type: ignore[no-any-return]

    def new_bytes(self, counted: set[int]) -> int:
        """The bytes of the storages kept since `kept` was cleared, not in `counted` (which
        they join), not parameters."""
        total = 0
        for t in self.kept:
            storage = t.untyped_storage()
            if storage.data_ptr() not in self.owned and storage.data_ptr() not in counted:
                counted.add(storage.data_ptr())
                total += storage.nbytes()
        self.kept.clear()
        return total

    def step(self, layer: Layer) -> int:
        with self.watching():
            self.values[layer.name] = self.call(layer, self.values)
        return self.new_bytes(self.counted)


def saved_bytes(report: Report, batch: int, inputs_need_grad: bool = False) -> dict[str, int]:
    """Per layer, the bytes autograd keeps for backward (`Autograd`), at the first layer
    that keeps each storage."""
    run = Autograd(report, batch, inputs_need_grad)
    return {layer.name: run.step(layer) for layer in report.graph.layers}


def checkpointed_saved_bytes(report: Report, batch: int, uses: list[str],
                             inputs_need_grad: bool = False) -> tuple[dict[str, int], int]:
    """As `saved_bytes`, with each of the block `uses` run by torch.utils.checkpoint
    (reentrant: its inputs are saved with save_for_backward, which the hooks see, at the
    use's first layer), then a backward pass, during which the hooks see what each use
    keeps again when it is recomputed: the most of those, beside its inputs, is returned.
    Reentrant checkpointing records nothing for a use none of whose inputs needs a
    gradient (nor its weights' gradients: PyTorch's known pitfall); netcalc counts the
    non-reentrant kind, which keeps the inputs all the same: compare from inputs that need
    gradients."""
    from torch.utils.checkpoint import checkpoint

    run = Autograd(report, batch, inputs_need_grad)
    layers = report.graph.layers
    measured: dict[str, int] = {}
    recomputed: dict[str, int] = {}
    index = 0
    while index < len(layers):
        use = next((name for name in layers[index].block_path if name in uses), None)
        if use is None:
            measured[layers[index].name] = run.step(layers[index])
            index += 1
            continue
        end = index
        while end < len(layers) and use in layers[end].block_path:
            end += 1
        segment = layers[index:end]
        made = {layer.name for layer in segment}
        reads = list(dict.fromkeys(name for layer in segment for name in layer.inputs if name not in made))

        def replay(*xs: torch.Tensor, segment: tuple[Layer, ...] = segment, reads: list[str] = reads) -> tuple:
            values = dict(zip(reads, xs))
            for layer in segment:
                values[layer.name] = run.call(layer, values)
            if torch.is_grad_enabled():  # the recomputation, during backward
                inputs = {x.untyped_storage().data_ptr() for x in xs}
                recomputed[segment[0].name] = run.new_bytes(inputs)
            return tuple(values[layer.name] for layer in segment)

        with run.watching():
            outputs = checkpoint(replay, *(run.values[name] for name in reads), use_reentrant=True)
        run.values.update(zip((layer.name for layer in segment), outputs))
        measured.update({layer.name: 0 for layer in segment})
        measured[segment[0].name] = run.new_bytes(run.counted)
        index = end
    loss = sum(run.values[name].float().sum() for name in report.graph.outputs)
    with run.watching():
        loss.backward()  # type: ignore[union-attr]
    return measured, max(recomputed.values(), default=0)
