"""Bounded work: a three-line spec never hangs. Window widths and adaptive bins are closed
forms (checked here against the enumeration they replace), tensors past the size bounds and
values past 2^63 are positioned errors, and specs that used to run for minutes (a stride of
1/10^8, a 10^8 x 10^8 upsampling) are answered exactly. No assertion is timed: a
regression shows as a hang."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import pytest
from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.core.analysis import receptive_field
from netcalc.core.analysis.receptive_field import regions_from_back
from netcalc.core.ops.pool import adaptive_windows
from netcalc.core.ops.registry import MAX_AXIS, MAX_ELEMENTS, _ceil, _floor, exact, window

from helpers import errors, text_spec, yaml_spec

# --- closed forms against enumeration ------------------------------------------------


def _enumerated_width(stride: Fraction, low: Fraction, high: Fraction) -> int:
    """The widest window over one period of positions, position by position."""
    s, lo, hi = exact(stride), exact(low), exact(high)
    return max(_floor(exact(o * s + hi)) - _ceil(exact(o * s + lo)) for o in range(stride.denominator))


FRACTIONS = sorted({Fraction(a, b) for a in range(-7, 8) for b in (1, 2, 3, 5)})


def test_widest_window_is_the_enumeration() -> None:
    """Every stride a/q (q up to 7, a up to 2q), and offsets in halves, thirds and fifths."""
    checked = 0
    for q, a in product(range(1, 8), range(0, 15)):
        stride = Fraction(a, q)
        for low, width in product(FRACTIONS, (Fraction(0), Fraction(1, 3), Fraction(2), Fraction(7, 2))):
            assert window(stride, low, low + width).extent == _enumerated_width(stride, low, low + width)
            checked += 1
    assert checked > 10_000


def test_widest_sources_is_the_widest_span_over_positions() -> None:
    for stride, low, high in [
        (Fraction(1, 3), Fraction(-2, 3), Fraction(0)),
        (Fraction(7, 3), Fraction(-1), Fraction(5, 3)),
        (Fraction(2), -1, 1),
        (Fraction(1, 2), Fraction(-1, 4), Fraction(1, 4)),
    ]:
        w = window(stride, low, high)
        for count in range(1, 6):
            spans = [w.sources(o, o + count - 1) for o in range(3 * Fraction(stride).denominator)]
            start, end = w.widest_sources(0, count - 1)
            assert start == w.sources(0, 0)[0] and end - start == max(b - a for a, b in spans)


def test_adaptive_bins_total_is_the_sum() -> None:
    for n, out in product(range(1, 40), range(1, 40)):
        assert adaptive_windows(n, out) == sum(-(-(i + 1) * n // out) - (i * n // out) for i in range(out))
    assert adaptive_windows(8, 100_000_000) == 100_000_000 + 8 - 8


def test_huge_periods_are_not_enumerated() -> None:
    """Periods of 10^8 and 10^30 units: the enumeration would take minutes and forever."""
    assert window(Fraction(1, 10**8), Fraction(-2, 10**8), 0).extent == 0  # convT k3 s=10^8
    assert window(Fraction(8, 10**8), -Fraction(10**8 - 8, 10**8), 0).extent == 0  # nearest, 8 -> 10^8
    assert window(Fraction(3, 10**30 + 1), -1, Fraction(1, 2)).extent == 1
    assert window(Fraction(10**30 + 1, 3), 0, Fraction(10**30, 3)).extent == 10**30 // 3


# --- the three specs that ran for minutes --------------------------------------------


def test_upsampling_by_1e300_is_refused_at_the_layer() -> None:
    report = text_spec("input 3x8x8\nupsample scale=1e300\n")
    assert errors(report) == [("too-large", 2, 1)]
    message = report.diagnostics[0].message
    assert message.startswith("layer 'upsample_1' (upsample) on 3x8x8: scale 1e+300 makes spatial axis 1 8e+300 units")
    assert message.endswith("more than 2^31 = 2,147,483,648")


def test_upsampling_to_1e8_is_answered() -> None:
    report = text_spec("input 3x8x8\nupsample size=100000000\n")
    assert report.ok and str(report.shapes["upsample_1"]) == "3x100000000x100000000"
    f = report.fields["upsample_1"]
    assert (f.size, f.jump) == ((1, 1), (Fraction(1, 12_500_000),) * 2)
    assert regions_from_back(report.graph, report.shapes, "upsample_1", 1)["input"] == (1, 1)


def test_transposed_convolution_of_stride_1e8_is_answered() -> None:
    report = text_spec("input 3x8x8\nconvT out=3 k=3 s=100000000\n")
    assert report.ok and str(report.shapes["convT_1"]) == "3x700000003x700000003"
    f = report.fields["convT_1"]
    assert (f.size, f.jump) == ((1, 1), (Fraction(1, 10**8),) * 2)  # s > k: each output reads one input
    # o reads the inputs i with i*10^8 in [o - 2, o]: 3 units reach one input, 10^8 + 1 units two
    assert regions_from_back(report.graph, report.shapes, "convT_1", 3)["input"] == (1, 1)
    assert regions_from_back(report.graph, report.shapes, "convT_1", 10**8 + 1)["input"] == (2, 2)


@pytest.mark.parametrize("spec", ["input 3x8x8\nupsample scale=1e300\n", "input 3x8x8\nupsample size=100000000\n",
                                  "input 3x8x8\nconvT out=3 k=3 s=100000000\n",
                                  # a period of 2,147,483 units: past the refinement budget, not enumerated
                                  "input 3x4x4\nupsample scale=2147483\n"])
@pytest.mark.parametrize("command", [["summary"], ["rf"], ["rf", "--from-back"], ["shapes"]])
def test_commands_answer(tmp_path, spec: str, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "huge.net"
    path.write_text(spec)
    result = CliRunner().invoke(app, [*command, str(path), "--format", "csv"])
    refused = "1e300" in spec
    assert result.exit_code == (2 if refused else 0)
    assert ("[too-large]" in result.stderr) == refused and "Traceback" not in result.stderr


# --- the size bounds ----------------------------------------------------------------


@pytest.mark.parametrize("spec, expected", [
    ("input 3x8\nupsample size=2147483648\n", []),                              # 2^31: the largest axis
    ("input 3x8\nupsample size=2147483649\n", [("too-large", 2, 1)]),
    ("input 3x8x8\nupsample size=800000000\n", []),                             # 1.92e18 elements
    ("input 3x8x8\nupsample size=900000000\n", [("too-large", 2, 1)]),          # 2.43e18 >= 2^61
    ("input 3x8x8\nconvT out=3 k=3 s=1000000000\n", [("too-large", 2, 1)]),     # 7,000,000,003 units
    ("input 3x8x8\npad p=2147483648\n", [("too-large", 2, 1)]),
    ("input 1x3000000000\nrelu\n", [("too-large", 1, 7)]),
    ("input: 1x3000000000\nlayers: [relu]\n", [("too-large", 1, 8)]),
    ("input 3x8x8\nflatten\nlinear out=2305843009213693952\n", [("too-large", 3, 1)]),  # 2^61 features
    ("input 3x8x8\nflatten\nlinear out=2305843009213693951\n", []),
])
def test_tensor_size_bounds(spec: str, expected: list[tuple[str, int, int]]) -> None:
    report = yaml_spec(spec) if spec.startswith("input:") else text_spec(spec)
    assert errors(report) == expected


def test_too_large_names_the_layer_and_the_bound() -> None:
    (axis,) = text_spec("input 3x8\nupsample size=2147483649\n").diagnostics
    assert axis.message == ("layer 'upsample_1' (upsample) on 3x8: the output 3x2147483649 is too large: "
                            "spatial axis 1 has 2,147,483,649 units, more than 2^31 = 2,147,483,648")
    (elements,) = text_spec("input 3x8x8\nupsample size=900000000\n").diagnostics
    assert elements.message.endswith("it has 2,430,000,000,000,000,000 elements, PyTorch's float32 limit is below "
                                     "2^61 = 2,305,843,009,213,693,952")
    (source,) = text_spec("input 1x3000000000\nrelu\n").diagnostics
    assert source.message == ("input 'input' 1x3000000000 is too large: spatial axis 1 has 3,000,000,000 units, "
                              "more than 2^31 = 2,147,483,648")


def test_bounds_agree_with_torch() -> None:
    """Where PyTorch refuses a tensor, netcalc does: on the meta device, so nothing is allocated."""
    torch = pytest.importorskip("torch")
    x = torch.empty(1, 3, 8, 8, device="meta")
    for size in (800_000_000, 900_000_000):
        try:
            torch.nn.functional.interpolate(x, size=size)
            accepted = True
        except RuntimeError as exc:
            assert "overflow" in str(exc)
            accepted = False
        assert accepted == text_spec(f"input 3x8x8\nupsample size={size}\n").ok
    assert MAX_ELEMENTS * 4 == 2**63  # float32 bytes: PyTorch's storage size is an int64
    with pytest.raises(RuntimeError):
        torch.nn.functional.interpolate(x, scale_factor=1e300)
    out = torch.nn.ConvTranspose2d(3, 3, 3, stride=10**8, device="meta")(x)
    assert tuple(out.shape[1:]) == text_spec("input 3x8x8\nconvT out=3 k=3 s=100000000\n").shapes["convT_1"].dims
    assert MAX_AXIS == 2**31


# --- values past 2^63 ----------------------------------------------------------------


@pytest.mark.parametrize("spec, expected", [
    ("input 3x8x8\nconv out=4 k=3 s=9223372036854775807\n", []),                # 2^63 - 1: the largest value
    ("input 3x8x8\nconv out=4 k=3 s=9223372036854775808\n", [("invalid-value", 2, 16)]),
    ("input 3x8x8\nconv out=4 k=3 s=1000000000000000000000000000000\n", [("invalid-value", 2, 16)]),
    ("input 3x8x8\nconv out=4 k=3 s=" + "9" * 5000 + "\n", [("invalid-value", 2, 16)]),
    ("input 3x8x8\nconv out=4 k=3 p=[[1,1],[1,100000000000000000000]]\n", [("invalid-value", 2, 16)]),
    ("input 3x8x8\nconv out=4 k=3 s=3x100000000000000000000\n", [("invalid-value", 2, 16)]),
    ("input 3x100000000000000000000x8\nrelu\n", [("invalid-input", 1, 7)]),
    ("input 3x8x8\ndropout p=1e400\n", [("invalid-value", 2, 9)]),              # a float overflowing to inf
    # YAML scalars are read as written on a layer line: refused where the value stands
    ("input: 3x8x8\nlayers:\n  - {conv: {out: 4, k: 3, s: 9223372036854775808}}\n", [("invalid-value", 3, 30)]),
    ("input: 3x8x8\nlayers:\n  - {conv: {out: 4, k: [3, 100000000000000000000]}}\n", [("invalid-value", 3, 28)]),
    ("input: 3x8x8\nlayers:\n  - {upsample: {scale: 100000000000000000000}}\n", [("invalid-value", 3, 24)]),
    ("input: 3x8x8\nlayers:\n  - {upsample: {scale: .inf}}\n", [("invalid-value", 3, 24)]),
    ("input: 3x8x8\nlayers:\n  - {upsample: {scale: .nan}}\n", [("invalid-value", 3, 24)]),
    ("input: 3x8x8\nlayers:\n  - {upsample: {scale: 1.0e+300}}\n", [("too-large", 3, 6)]),
    ("input: 3x8x8\nlayers:\n  - {flatten: {start: -9223372036854775808}}\n", [("invalid-value", 3, 23)]),
])
def test_values_are_bounded_by_2_to_the_63(spec: str, expected: list[tuple[str, int, int]]) -> None:
    report = yaml_spec(spec) if spec.startswith("input:") else text_spec(spec)
    assert errors(report) == expected


def test_value_messages() -> None:
    (text,) = text_spec("input 3x8x8\nconv out=4 k=3 s=1000000000000000000000000000000\n").diagnostics
    assert text.message == "s: 1000000000000000000000000000000 is too large (limit 2**63)"
    (yaml,) = yaml_spec("input: 3x8x8\nlayers:\n  - {conv: {out: 4, k: 3, s: 9223372036854775808}}\n").diagnostics
    assert yaml.message == "layer 'conv', s: 9223372036854775808 is too large (limit 2**63)"


# --- back to front past the budget ---------------------------------------------------


def _regions(spec: str, layer: str, size: int = 1) -> dict[str, tuple[int, ...]]:
    report = text_spec(spec)
    return regions_from_back(report.graph, report.shapes, layer, size)


@pytest.mark.parametrize("spec, layer", [
    ("input 1x40\nconvT out=1 k=5 s=7 p=1 name=t\nconv out=1 k=3 name=c\n", "c"),  # stride-1 windows after it: exact
    ("input 1x40\nupsample scale=3 mode=linear name=u\n", "u"),
    ("input 1x40\nconv out=1 k=3 s=2 name=a\nconvT out=1 k=4 s=5 name=t\n", "t"),
])
def test_past_the_budget_back_to_front_is_exact_where_one_window_is_fractional(
    monkeypatch, spec: str, layer: str
) -> None:  # type: ignore[no-untyped-def]
    for size in (1, 2, 5):
        exact_regions = _regions(spec, layer, size)
        monkeypatch.setattr(receptive_field, "REFINE_BUDGET", 0)
        assert _regions(spec, layer, size) == exact_regions
        monkeypatch.undo()


def test_past_the_budget_back_to_front_is_an_upper_bound(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Nearest x2 then a k2 s2 convolution: each conv unit reads one input pixel, but the
    upsampling alone, where it reads the most, reads 2 for 2 units."""
    spec = "input 1x40\nupsample scale=2 name=u\nconv out=1 k=2 s=2 name=c\n"
    assert _regions(spec, "c")["input"] == (1,)
    monkeypatch.setattr(receptive_field, "REFINE_BUDGET", 0)
    assert _regions(spec, "c")["input"] == (2,)


def test_fields_past_the_budget_are_whole_numbers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A period of 10^6 units is past the budget: one unit is followed, each window where it
    reads the most, not the recurrence's 1 + 2/10^6."""
    report = text_spec("input 3x8x8\nconvT out=3 k=3 s=1000000\nconv out=3 k=3 s=3\n")
    assert report.fields["conv_1"].size == (1, 1)  # 3 units of stride 1/10^6 reach one input
    exact_spec = "input 1x40\nconvT out=1 k=3 s=5\nconv out=1 k=3 s=3\n"
    bounded_spec = "input 1x40\nupsample scale=4\nconv out=1 k=2 s=2\n"  # 2 units of 4 per input: 1, not 2
    exact_sizes = [text_spec(spec).fields["conv_1"].size for spec in (exact_spec, bounded_spec)]
    monkeypatch.setattr(receptive_field, "REFINE_BUDGET", 3)  # one unit through both layers, no more
    assert [text_spec(spec).fields["conv_1"].size for spec in (exact_spec, bounded_spec)] == [(1,), (2,)]
    assert exact_sizes == [(1,), (1,)]
