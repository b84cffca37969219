"""The network as deployed: BatchNorm folded into the convolution before it (`--fold-bn`).

In inference a BatchNorm that normalises a convolution's output by its running statistics
is an affine map per channel, which the convolution absorbs: its weight scaled, its bias
(made if it had none) shifted. PyTorch's `fuse_conv_bn_eval`, torch.export's ONNX files and
TensorRT all do it. The folded network has the convolution's parameters plus a bias per
output channel, and neither the BatchNorm's parameters and buffers nor its FLOPs.

A BatchNorm folds where it reads a conv, dwconv, convT or linear layer (a BatchNorm1d
after a Linear: `fuse_linear_bn_eval`, a Gemm in torch.export's files) that nothing else
reads (and that is no output, and no module called twice), and where it keeps running
statistics (without them it normalises by the batch's, even in inference).
"""

from __future__ import annotations

from dataclasses import replace

from .analysis.cost import Cost, layer_cost
from .analysis.receptive_field import receptive_fields
from .ir import Graph, Layer
from .report import Report

FOLDS_INTO = frozenset({"conv", "dwconv", "convT", "linear"})


def fold_batchnorm(report: Report) -> Report:
    """The report of the network with every foldable BatchNorm folded (the module docstring);
    the same report where there is none."""
    graph = report.graph
    folded = _foldable(graph)
    if not folded:
        return report
    into = {bn: conv for conv, bn in folded.items()}
    layers = tuple(_rewired(layer, into, folded) for layer in graph.layers if layer.name not in into)
    outputs = tuple(into.get(name, name) for name in graph.outputs)
    new = replace(graph, layers=layers, output=into.get(graph.output, graph.output), outputs=outputs)
    shapes = {name: shape for name, shape in report.shapes.items() if name not in into}
    costs = {layer.name: _cost(layer, report) if layer.name in folded else report.costs[layer.name] for layer in layers}
    fields, axes, _ = receptive_fields(new, shapes)
    return replace(report, graph=new, shapes=shapes, costs=costs, fields=fields, axes=axes)


def _cost(conv: Layer, report: Report) -> Cost:
    """A folding conv's cost, with its bias."""
    return layer_cost(conv, tuple(report.shape(name) for name in conv.inputs), report.shape(conv.name))


def _foldable(graph: Graph) -> dict[str, str]:
    """conv -> the BatchNorm folded into it."""
    readers: dict[str, list[Layer]] = {}
    for layer in graph.layers:
        for name in dict.fromkeys(layer.inputs):
            readers.setdefault(name, []).append(layer)
    ops = {layer.name: layer for layer in graph.layers}
    shared = {layer.shares for layer in graph.layers if layer.shares}
    folded = {}
    for name, conv in ops.items():
        after = readers.get(name, [])
        if conv.op not in FOLDS_INTO or len(after) != 1 or name in graph.outputs or name in shared or conv.shares:
            continue
        bn = after[0]
        if bn.op == "bn" and (bn.attrs or {}).get("track") and bn.inputs == (name,):
            folded[name] = bn.name
    return folded


def _rewired(layer: Layer, into: dict[str, str], folded: dict[str, str]) -> Layer:
    """A folding conv with its bias; a layer that read a folded BatchNorm reads its conv."""
    if layer.name in folded:
        layer = replace(layer, attrs={**(layer.attrs or {}), "bias": True})
    if any(name in into for name in layer.inputs):
        layer = replace(layer, inputs=tuple(into.get(name, name) for name in layer.inputs))
    return layer
