"""The one-layer calculator: output size, formula, field and unused input rows of a single
convolution or transposed convolution on one axis, and the settings that give a wanted
output size. Uses the same window rules as the op table."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .ops._window import effective_kernel
from .ops.conv import conv_window, transposed_window
from .parse.expr import LIMIT
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
    why = settings_problem(layer)
    if why is None and output_size(layer) < 1 and layer.transposed:
        size = output_size(layer)
        return f"the output size would be {size}: the padding 2*{layer.p} removes more than the layer adds"
    if why is None and output_size(layer) < 1:
        padded = layer.size + 2 * layer.p
        return f"the window {effective_kernel(layer.k, layer.d)} is larger than the padded input {padded}"
    return why


def settings_problem(layer: Layer1D, unknown: str | None = None) -> str | None:
    """Why the settings cannot be a layer whatever its output, or None; the `unknown`
    setting (being solved for) is not checked."""
    given = {"input size": layer.size, "kernel": layer.k, "stride": layer.s, "padding": layer.p,
             "dilation": layer.d, "output padding": layer.op}
    for name, value in given.items():
        if abs(value) >= LIMIT:
            return f"{name} {value} is too large (limit 2**63)"
    if min(layer.size, layer.k, layer.s, layer.d) < 1 or min(layer.p, layer.op) < 0:
        return "sizes, kernel, stride and dilation must be positive; padding non-negative"
    if layer.transposed and unknown != "stride" and layer.op >= max(layer.s, layer.d):
        return f"output padding {layer.op} must be smaller than the stride or the dilation"
    if not layer.transposed and layer.op:
        return "output padding applies to transposed convolutions only"
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


@dataclass(frozen=True, slots=True)
class Solutions:
    """The values first..last of one setting (`p`, `s` or `k`) that give the output
    wanted, the others fixed; `last` None: every value from `first` on."""

    key: str
    first: int
    last: int | None

    def __str__(self) -> str:
        if self.last is None:
            return f"{self.first}.."
        return str(self.first) if self.first == self.last else f"{self.first}..{self.last}"


KEYS = {"padding": "p", "stride": "s", "kernel": "k"}


def solve(layer: Layer1D, wanted: int, unknown: str) -> Solutions | None:
    """The settings of `unknown` (padding, stride or kernel) that give `wanted` outputs,
    the others as in `layer` (valid: see settings_problem), or None. In closed form: the
    output is monotonic in each setting, so the values form one range, found by exact
    integer division, never by trying values."""
    if wanted < 1:
        return None
    key = KEYS[unknown]
    low, high = (_transposed if layer.transposed else _conv)[key](layer, wanted)
    if high is not None and low > high:
        return None
    return Solutions(key, low, high)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _exactly(numerator: int, denominator: int, least: int) -> tuple[int, int]:
    """The one integer numerator/denominator if it is whole and at least `least`, else an
    empty range."""
    value, rest = divmod(numerator, denominator)
    return (value, value) if rest == 0 and value >= least else (1, 0)


# out = floor((n + 2p - k_eff)/s) + 1, k_eff = d*(k-1) + 1. With m = out - 1 wanted, that is
# m*s <= n + 2p - k_eff <= m*s + s - 1: a range of 2p, of k_eff, and of s (floor(A/s) = m
# exactly when A/(m+1) < s <= A/m; every s past A when m = 0).
def _conv_padding(layer: Layer1D, wanted: int) -> tuple[int, int | None]:
    k_eff, m = effective_kernel(layer.k, layer.d), wanted - 1
    return max(0, _ceil_div(m * layer.s + k_eff - layer.size, 2)), (m * layer.s + layer.s - 1 + k_eff - layer.size) // 2


def _conv_stride(layer: Layer1D, wanted: int) -> tuple[int, int | None]:
    reach, m = layer.size + 2 * layer.p - effective_kernel(layer.k, layer.d), wanted - 1
    if reach < 0:
        return 1, 0
    return (reach + 1, None) if m == 0 else (reach // (m + 1) + 1, reach // m)


def _conv_kernel(layer: Layer1D, wanted: int) -> tuple[int, int | None]:
    padded, m, d = layer.size + 2 * layer.p, wanted - 1, layer.d
    low, high = padded - m * layer.s - layer.s + 1, padded - m * layer.s  # of k_eff
    return max(1, _ceil_div(low - 1, d) + 1), (high - 1) // d + 1


# out = (n - 1)*s - 2p + k_eff + op: one value of each setting at most, or, for one input
# unit (n = 1), every stride the output padding allows.
def _transposed_padding(layer: Layer1D, wanted: int) -> tuple[int, int | None]:
    k_eff = effective_kernel(layer.k, layer.d)
    return _exactly((layer.size - 1) * layer.s + k_eff + layer.op - wanted, 2, 0)


def _transposed_stride(layer: Layer1D, wanted: int) -> tuple[int, int | None]:
    spread = wanted + 2 * layer.p - effective_kernel(layer.k, layer.d) - layer.op  # (n - 1)*s
    least = 1 if layer.d > layer.op else layer.op + 1  # output padding below the stride or the dilation
    if layer.size == 1:
        return (least, None) if spread == 0 else (1, 0)
    return _exactly(spread, layer.size - 1, least)


def _transposed_kernel(layer: Layer1D, wanted: int) -> tuple[int, int | None]:
    spread = wanted - (layer.size - 1) * layer.s + 2 * layer.p - layer.op - 1  # d*(k - 1)
    low, high = _exactly(spread, layer.d, 0)  # of k - 1
    return low + 1, high + 1


_conv = {"p": _conv_padding, "s": _conv_stride, "k": _conv_kernel}
_transposed = {"p": _transposed_padding, "s": _transposed_stride, "k": _transposed_kernel}


def solve_problem(layer: Layer1D, wanted: int, unknown: str) -> str | None:
    """Why the question cannot be asked (a setting or the output out of bounds), or None."""
    if abs(wanted) >= LIMIT:
        return f"output {wanted} is too large (limit 2**63)"
    if wanted < 1:
        return f"the output wanted must be positive, got {wanted}"
    return settings_problem(layer, unknown)


def no_solution(layer: Layer1D, wanted: int, unknown: str) -> str:
    others = " ".join(f"{key}={getattr(layer, key)}" for key in ("k", "s", "p", "d") if key != KEYS[unknown])
    layer_kind = f"transposed, {others} op={layer.op}" if layer.transposed else others
    return f"no {unknown} gives output {wanted} for input {layer.size}, {layer_kind}"


def describe_solutions(layer: Layer1D, wanted: int, found: Solutions) -> dict[str, object]:
    """What `netcalc conv --solve` prints: the settings with the range (`s=8..`), and the
    formula, with the numbers for one value, with the letter for a range."""
    settings = " ".join(f"{key}={found if key == found.key else getattr(layer, key)}" for key in ("k", "s", "p", "d"))
    if found.first == found.last:
        text = formula(_with(layer, found.key, found.first))
    else:
        values = f">= {found.first}" if found.last is None else f"= {found}"
        text = f"{symbolic_formula(layer, found.key)} = {wanted} for {found.key} {values}"
    return {"name": settings, "input": layer.size, "output": wanted, "formula": text,
            "setting": found.key, "first": found.first, "last": found.last}


def _with(layer: Layer1D, key: str, value: int) -> Layer1D:
    """The layer with setting `key` (p, s or k) set to `value`."""
    settings = {"k": layer.k, "s": layer.s, "p": layer.p, key: value}
    return replace(layer, k=settings["k"], s=settings["s"], p=settings["p"])


def symbolic_formula(layer: Layer1D, key: str) -> str:
    """The formula with `key` (p, s or k) left as a letter."""
    values = {"n": layer.size, "k": layer.k, "s": layer.s, "p": layer.p, "d": layer.d}
    n, k, s, p, d = (name if name == key else str(value) for name, value in values.items())
    kernel = f"({d}*({k}-1) + 1)" if layer.d > 1 else k
    if layer.transposed:
        return f"({n} - 1)*{s} - 2*{p} + {kernel} + {layer.op}"
    return f"floor(({n} + 2*{p} - {kernel}) / {s}) + 1"
