"""The one-layer calculator: output size, formula, field and unused input rows of a single
convolution or transposed convolution on one axis, and the settings that give a wanted
output size. Uses the same window rules as the op table."""

from __future__ import annotations

from dataclasses import dataclass

from .ops._window import effective_kernel
from .ops.conv import conv_window, transposed_window
from .report import number


@dataclass(frozen=True, slots=True)
class Layer1D:
    size: int  # input size n
    k: int
    s: int = 1
    p: int = 0
    d: int = 1
    transposed: bool = False
    op: int = 0  # output padding


def problem(layer: Layer1D) -> str | None:
    """Why the layer is impossible, or None."""
    if min(layer.size, layer.k, layer.s, layer.d) < 1 or min(layer.p, layer.op) < 0:
        return "sizes, kernel, stride and dilation must be positive; padding non-negative"
    if layer.transposed and layer.op >= max(layer.s, layer.d):
        return f"output padding {layer.op} must be smaller than the stride or the dilation"
    if not layer.transposed and layer.op:
        return "output padding applies to transposed convolutions only"
    if output_size(layer) < 1:
        return f"the window {effective_kernel(layer.k, layer.d)} is larger than the padded input {layer.size + 2 * layer.p}"
    return None


def output_size(layer: Layer1D) -> int:
    k_eff = effective_kernel(layer.k, layer.d)
    if layer.transposed:
        return (layer.size - 1) * layer.s - 2 * layer.p + k_eff + layer.op
    return (layer.size + 2 * layer.p - k_eff) // layer.s + 1


def formula(layer: Layer1D) -> str:
    n, k, s, p, d = layer.size, layer.k, layer.s, layer.p, layer.d
    kernel = f"({d}*({k}-1) + 1)" if d > 1 else f"{k}"
    if layer.transposed:
        return f"({n} - 1)*{s} - 2*{p} + {kernel} + {layer.op} = {output_size(layer)}"
    return f"floor(({n} + 2*{p} - {kernel}) / {s}) + 1 = {output_size(layer)}"


def describe(layer: Layer1D) -> dict[str, object]:
    """Everything `netcalc conv` prints about one layer."""
    k_eff = effective_kernel(layer.k, layer.d)
    if layer.transposed:
        window = transposed_window(layer.k, layer.s, layer.p, layer.d)
        unused = 0
    else:
        window = conv_window(k_eff, layer.s, layer.p)
        unused = (layer.size + 2 * layer.p - k_eff) % layer.s
    return {
        "input": layer.size,
        "output": output_size(layer),
        "formula": formula(layer),
        "effective_kernel": k_eff,
        "rf": window.extent + 1,
        "jump": number(window.stride),
        "unused": unused,  # padded rows after the last window: the stride never reads them
    }


def solve(layer: Layer1D, wanted: int, unknown: str) -> list[Layer1D]:
    """The settings of `unknown` (padding, stride or kernel) that give `wanted` outputs,
    the others as in `layer`. Searches every value that can give a positive output."""
    bound = {"padding": layer.size + effective_kernel(layer.k, layer.d), "stride": layer.size + 2 * layer.p,
             "kernel": layer.size + 2 * layer.p}[unknown]
    key = {"padding": "p", "stride": "s", "kernel": "k"}[unknown]
    first = 0 if unknown == "padding" else 1
    found = []
    for value in range(first, max(bound, wanted * layer.s + 2 * layer.p + 1) + 1):
        candidate = Layer1D(**{**_fields(layer), key: value})
        if problem(candidate) is None and output_size(candidate) == wanted:
            found.append(candidate)
    return found


def _fields(layer: Layer1D) -> dict[str, object]:
    return {f: getattr(layer, f) for f in ("size", "k", "s", "p", "d", "transposed", "op")}
