"""A spec as a self-contained PyTorch module (`netcalc export --to torch`): every layer a
torch.nn module at the spec's qualified name (`layer1.0.conv1`), block instances as
containers, and a forward that reads like the spec, merges written out. The code imports
only torch; this module writes it without importing torch."""

from __future__ import annotations

import keyword
import re
from typing import Any

from .ir import Layer, Shape
from .ops._window import same_padding, side_padding
from .report import Report

HEADER = '''"""{name}: exported by netcalc from {file}.

Input {inputs}. Module paths are the spec's layer names; forward follows the spec.
"""

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    """A block instance of the spec: its layers are its submodules."""


class Pad(nn.Module):
    """Explicit padding, (before, after) per spatial axis, as the spec writes it."""

    def __init__(self, sides, mode="constant", value=0.0):
        super().__init__()
        self.pad = tuple(v for before, after in reversed(sides) for v in (before, after))
        self.mode, self.value = mode, value

    def forward(self, x):
        if self.mode == "constant":
            return F.pad(x, self.pad, value=self.value)
        return F.pad(x, self.pad, mode=self.mode)


def place(root, path, module):
    """Put `module` at the dotted `path` under `root`, making Block containers on the way."""
    *parents, leaf = path.split(".")
    for name in parents:
        if name not in root._modules:
            root.add_module(name, Block())
        root = root._modules[name]
    root.add_module(leaf, module)
'''

ACTIVATIONS = {
    "relu": "nn.ReLU()", "relu6": "nn.ReLU6()", "silu": "nn.SiLU()", "sigmoid": "nn.Sigmoid()",
    "hardsigmoid": "nn.Hardsigmoid()", "hardswish": "nn.Hardswish()", "tanh": "nn.Tanh()", "identity": "nn.Identity()",
}


def _nd(name: str, rank: int) -> str:
    return f"nn.{name}{rank}d"


def _conv(a: dict[str, Any], x: Shape, out: int, groups: int) -> str:
    rank = x.rank - 1
    cls = _nd("Conv", rank)
    k, s, d = (_per_axis(a[key], rank) for key in ("k", "s", "d"))
    body = f"{x.channels}, {out}, {k}, stride={s}, dilation={d}, groups={groups}, bias={a['bias']}"
    p = a["p"]
    if p == "same" and all(v == 1 for v in s):
        return f"{cls}({body}, padding='same')"
    if p == "same" or (isinstance(p, tuple) and p and isinstance(p[0], tuple)):
        sides = side_padding(p, x.spatial, k, s, d)
        return f"nn.Sequential(Pad({sides}), {cls}({body}, padding=0))"
    return f"{cls}({body}, padding={p})"


def _per_axis(value: Any, rank: int) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,) * rank


def _pool(a: dict[str, Any], x: Shape, op: str) -> str:
    rank = x.rank - 1
    cls = _nd("MaxPool" if op == "maxpool" else "AvgPool", rank)
    extra = f", dilation={a['d']}" if op == "maxpool" else ""
    s = a["s"] if a["s"] is not None else a["k"]
    if a["p"] == "same":
        k, st, d = _per_axis(a["k"], rank), _per_axis(s, rank), _per_axis(a.get("d", 1), rank)
        sides = tuple(same_padding(*axis) for axis in zip(x.spatial, k, st, d))
        fill = "float('-inf')" if op == "maxpool" else "0.0"
        return f"nn.Sequential(Pad({sides}, value={fill}), {cls}({a['k']}, stride={s}, padding=0{extra}))"
    return f"{cls}({a['k']}, stride={s}, padding={a['p']}{extra}, ceil_mode={a['ceil']})"


def module_code(layer: Layer, ins: tuple[Shape, ...]) -> str | None:
    """The constructor of the layer's module, or None for merges (written in forward)."""
    a, x = dict(layer.attrs or {}), ins[0]
    rank = x.rank - 1
    op = layer.op
    if op in ("add", "mul", "concat"):
        return None
    if op == "conv":
        return _conv(a, x, a["out"], a["g"])
    if op == "dwconv":
        return _conv(a, x, a["out"] or x.channels, x.channels)
    if op == "convT":
        return (f"{_nd('ConvTranspose', rank)}({x.channels}, {a['out']}, {a['k']}, stride={a['s']}, padding={a['p']}, "
                f"output_padding={a['op']}, groups={a['g']}, bias={a['bias']}, dilation={a['d']})")
    if op in ("maxpool", "avgpool"):
        return _pool(a, x, op)
    if op in ("adaptiveavgpool", "adaptivemaxpool", "gap"):
        kind = "AdaptiveMaxPool" if op == "adaptivemaxpool" else "AdaptiveAvgPool"
        return f"{_nd(kind, rank)}({1 if op == 'gap' else a['out']})"
    if op == "upsample":
        linear = a["mode"] in ("linear", "bilinear", "bicubic", "trilinear")
        scale = tuple(float(v) for v in a["scale"]) if isinstance(a["scale"], tuple) else (
            float(a["scale"]) if a["scale"] is not None else None)
        corners = a["align_corners"] if linear else None
        return f"nn.Upsample(size={a['size']}, scale_factor={scale}, mode={a['mode']!r}, align_corners={corners})"
    if op == "bn":
        return f"{_nd('BatchNorm', max(x.rank - 1, 1))}({x.channels}, affine={a['affine']}, track_running_stats={a['track']})"
    if op == "ln":
        return f"nn.LayerNorm({list(x.dims[-a['dims']:])}, elementwise_affine={a['affine']})"
    if op == "gn":
        return f"nn.GroupNorm({a['groups']}, {x.channels}, affine={a['affine']})"
    if op == "instancenorm":
        return f"{_nd('InstanceNorm', rank)}({x.channels}, affine={a['affine']}, track_running_stats={a['track']})"
    if op == "lrn":
        return f"nn.LocalResponseNorm({a['size']}, alpha={a['alpha']}, beta={a['beta']}, k={a['k']})"
    if op in ACTIVATIONS:
        return ACTIVATIONS[op]
    simple = {
        "leakyrelu": f"nn.LeakyReLU({a.get('slope')})", "elu": f"nn.ELU({a.get('alpha')})",
        "gelu": f"nn.GELU(approximate={a.get('approximate')!r})", "softmax": f"nn.Softmax(dim={a.get('dim')})",
        "prelu": f"nn.PReLU({x.channels if a.get('per_channel') else 1})", "dropout": f"nn.Dropout({a.get('p')})",
        "flatten": f"nn.Flatten({a.get('start')}, {a.get('end')})", "channelshuffle": f"nn.ChannelShuffle({a.get('g')})",
        "pixelshuffle": f"nn.PixelShuffle({a.get('r')})",
    }
    if op in simple:
        return simple[op]
    if op == "linear":
        return f"nn.Linear({x.dims[-1]}, {a['out']}, bias={a['bias']})"
    if op == "pad":
        p = a["p"]
        sides = p if isinstance(p, tuple) and p and isinstance(p[0], tuple) else tuple((v, v) for v in _per_axis(p, rank))
        return f"Pad({sides}, mode={'constant' if a['mode'] == 'zeros' else a['mode']!r})"
    raise ValueError(f"no PyTorch module for '{op}'")  # every op above: a test covers them all


def _variables(names: list[str]) -> dict[str, str]:
    """Python variable names for layer and input names, unique."""
    used: set[str] = set()
    found = {}
    for name in names:
        base = re.sub(r"\W", "_", name)
        base = f"x_{base}" if base[0].isdigit() or keyword.iskeyword(base) else base
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}_{n}"
        used.add(candidate)
        found[name] = candidate
    return found


def _class_name(name: str) -> str:
    words = re.split(r"[^A-Za-z0-9]+", name)
    text = "".join(w[:1].upper() + w[1:] for w in words if w) or "Network"
    return f"Net{text}" if text[0].isdigit() else text


def to_torch(report: Report) -> str:
    graph, shapes = report.graph, report.shapes
    var = _variables([i.name for i in graph.inputs] + [l.name for l in graph.layers])
    inputs = ", ".join(f"{i.name} {i.shape}" for i in graph.inputs)
    init, forward = [], []
    for layer in graph.layers:
        ins = tuple(shapes[n] for n in layer.inputs)
        code = module_code(layer, ins)  # type: ignore[arg-type]
        args = [var[n] for n in layer.inputs]
        if code is None:
            a = layer.attrs or {}
            expression = {"add": " + ".join(args), "mul": " * ".join(args),
                          "concat": f"torch.cat([{', '.join(args)}], dim={a.get('dim', 1)})"}[layer.op]
        else:
            init.append(f"        place(self, {layer.name!r}, {code})")
            expression = f"self.get_submodule({layer.name!r})({', '.join(args)})"
        forward.append(f"        {var[layer.name]} = {expression}  # {layer.op} -> {shapes[layer.name]}")
    name = _class_name(graph.name)
    example = ", ".join(f"torch.rand(1, {', '.join(map(str, i.shape.dims))})" for i in graph.inputs)
    lines = [HEADER.format(name=graph.name, file=graph.file.replace("\\\\", "/"), inputs=inputs), "",
             f"class {name}(nn.Module):", "    def __init__(self):", "        super().__init__()", *init, "",
             f"    def forward(self, {', '.join(var[i.name] for i in graph.inputs)}):", *forward,
             f"        return {var[graph.output]}", "", "",
             'if __name__ == "__main__":',
             f"    model = {name}().eval()", "    with torch.no_grad():",
             f"        print(tuple(model({example}).shape))", ""]
    return "\n".join(lines)
