"""Sliding-window arithmetic shared by convolutions and pools (as in ONNX's
convPoolShapeInference), exact integers throughout."""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import Any

from .registry import OpError, per_axis


def effective_kernel(k: int, d: int) -> int:
    return d * (k - 1) + 1


def same_padding(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's SAME: output ceil(n / s), extra pixel after (bottom/right).

    For stride 1 it equals PyTorch's padding='same' (total d*(k-1), extra on the right).
    """
    out = -(-n // s)
    total = max((out - 1) * s + effective_kernel(k, d) - n, 0)
    return total // 2, total - total // 2


def side_padding(
    p: Any, n: tuple[int, ...], k: tuple[int, ...], s: tuple[int, ...], d: tuple[int, ...]
) -> tuple[tuple[int, int], ...]:
    """The (before, after) padding actually applied on each spatial axis."""
    rank = len(n)
    if p == "same":
        return tuple(same_padding(*axis) for axis in zip(n, k, s, d))
    if isinstance(p, tuple) and p and isinstance(p[0], tuple):
        if len(p) != rank:
            raise OpError(
                "invalid-argument", f"p gives {len(p)} [before, after] pairs but the input has {rank} spatial axes"
            )
        return p
    return tuple((x, x) for x in per_axis(p, rank, "p"))


def window_output(n: int, k_eff: int, s: int, before: int, after: int) -> int:
    """floor((n + before + after - k_eff) / s) + 1, or an error when the window does not fit."""
    padded = n + before + after
    if padded < k_eff:
        raise OpError(
            "kernel-exceeds-input",
            f"the window ({k_eff}) is larger than the padded input ({n} + {before} + {after} = {padded})",
        )
    return (padded - k_eff) // s + 1


def pool_output(n: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """PyTorch's pooling_output_shape: with ceil_mode, a last window that would start in
    the right padding is dropped."""
    if 2 * p > k:
        raise OpError("invalid-argument", f"padding {p} is more than half the kernel size {k} (PyTorch's limit)")
    k_eff = effective_kernel(k, d)
    top = n + 2 * p - k_eff + ((s - 1) if ceil else 0)
    out = top // s + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    if out < 1:
        raise OpError("kernel-exceeds-input", f"the window ({k_eff}) is larger than the padded input ({n} + 2*{p})")
    return out


@dataclass(frozen=True, slots=True)
class Sliding:
    """A window's arguments bound to its input once: one kernel, stride and dilation per
    spatial axis, and the padding actually applied on each side (`same` resolved against
    the input's size), so that rules read `w.k[axis]` and never the raw attribute."""

    k: tuple[int, ...]
    s: tuple[int, ...]
    d: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]

    @property
    def k_eff(self) -> tuple[int, ...]:
        return tuple(effective_kernel(k, d) for k, d in zip(self.k, self.d))

    @property
    def taps(self) -> int:
        """Kernel elements: what one output unit reads per channel."""
        return prod(self.k)


def sliding(a: Any, x: Any) -> Sliding:
    """The window of a convolution or pool (`a` its attributes) on the input shape `x`; a
    pool's stride defaults to its kernel, and an op without dilation has 1."""
    rank = x.rank - 1
    k = per_axis(a["k"], rank, "k")
    s = per_axis(a["s"] if a.get("s") is not None else a["k"], rank, "s")
    d = per_axis(a.get("d", 1), rank, "d")
    return Sliding(k, s, d, side_padding(a["p"], x.spatial, k, s, d))


def written_window(a: Any) -> str:
    """`k3 s2 p1`: a convolution's or pool's window as the spec writes it, for tables;
    a dilation of 1, an output padding of 0 and a stride of 1 go without saying."""
    parts = []
    for key in ("k", "s", "p", "d", "op"):
        value = a.get(key)
        if value is None or (key, value) in (("d", 1), ("op", 0)):
            continue
        per_axis_form = isinstance(value, tuple) and not isinstance(value[0], tuple)
        text = "x".join(map(str, value)) if per_axis_form else str(value).replace(" ", "")
        parts.append(f"{key}{text}")
    return " ".join(parts)
