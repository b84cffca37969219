"""`netcalc conv`, the one-layer calculator, on the seed notes' formulas."""

from __future__ import annotations

import json
from dataclasses import replace
from fractions import Fraction
from itertools import product
from typing import Any

import pytest
from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.core.calculator import KEYS, Layer1D, Solutions, describe, output_size, problem, settings_problem, solve

# (layer, output, field, jump, unused rows): hand-checked
CASES = [
    (Layer1D(5, 3, 2, 1), 3, 3, 2, 0),                      # seed 000: (5 - 3 + 2*1)/2 + 1 = 3
    (Layer1D(3, 3, 2, 1), 2, 3, 2, 0),                      # seed 000: (3 - 3 + 2)/2 + 1 = 2, windows at 0 and 2
    (Layer1D(7, 3, 1, 1, d=3), 3, 7, 1, 0),                 # seed 000: dilated kernel 3*(3-1) + 1 = 7
    (Layer1D(3, 3, 2, 1, transposed=True), 5, 2, Fraction(1, 2), 0),  # seed 000: ConvTranspose2d(8,16,3,2,1,0)
    (Layer1D(4, 4, 2, 1, transposed=True), 8, 2, Fraction(1, 2), 0),  # seed 003: (4-1)*2 + 4 - 2 = 8
    (Layer1D(240, 5), 236, 5, 1, 0),                        # seed 001: 240 - 5 + 1 per 5x5 layer
    (Layer1D(8, 3, 2, 1), 4, 3, 2, 1),                      # seed 001: floor((8 - 3 + 2 + 2)/2) = 4
    (Layer1D(224, 7, 2, 3), 112, 7, 2, 1),
]


@pytest.mark.parametrize("layer, out, rf, jump, unused", CASES)
def test_one_layer(layer: Layer1D, out: int, rf: int, jump: Fraction, unused: int) -> None:
    assert problem(layer) is None
    facts = describe(layer)
    assert (facts["output"], facts["rf"], Fraction(facts["jump"]), facts["unused"]) == (out, rf, jump, unused)
    assert str(facts["formula"]).endswith(f"= {out}")


def test_ten_5x5_convs_take_240_to_200() -> None:
    """Seed note 001: ten 5x5 convolutions reduce 240x240 to 200x200."""
    size = 240
    for _ in range(10):
        size = output_size(Layer1D(size, 5))
    assert size == 200


# (layer, output wanted, unknown, the range found): hand-checked
SOLVED = [
    (Layer1D(224, 7, 2, 0), 112, "padding", (3, 3)),          # floor((224 + 2p - 7)/2) = 111: 2p in 5..6
    (Layer1D(224, 3, 1, 1), 112, "stride", (2, 2)),           # floor(223/s) = 111
    (Layer1D(224, 3, 2, 1), 112, "kernel", (3, 4)),           # floor((226 - k)/2) = 111: k in 3..4
    (Layer1D(3, 3, 2, 0, transposed=True), 5, "padding", (1, 1)),  # 2*2 - 2p + 3 = 5
    (Layer1D(10_000_000, 3), 1, "stride", (9_999_998, None)),  # every stride past 9,999,997 reads one window
    (Layer1D(10, 3), 3, "stride", (3, 3)),                    # floor(7/s) = 2
    (Layer1D(100, 1), 10, "stride", (10, 11)),                # floor(99/s) = 9: s in 10..11
    (Layer1D(8, 3, 1, 0, d=2), 8, "padding", (2, 2)),         # 8 + 2p - 5 + 1 = 8
    (Layer1D(8, 1, 1, 0, d=2), 4, "kernel", (3, 3)),          # k_eff = 5 = 2*(3-1) + 1
    (Layer1D(1, 3, 1, 0, transposed=True), 3, "stride", (1, None)),  # one input unit: the stride never counts
    (Layer1D(1, 3, 1, 0, transposed=True, op=1), 4, "stride", (2, None)),  # op 1 needs a stride of 2 or more
    (Layer1D(5, 3, 1, 1, transposed=True), 13, "stride", (3, 3)),  # 4s - 2 + 3 = 13
    (Layer1D(5, 3, 2, 1, transposed=True), 12, "kernel", (6, 6)),  # 4*2 - 2 + k = 12
    (Layer1D(3, 3), 100_000_000_001, "padding", (50_000_000_000, 50_000_000_000)),  # 2p + 1
]


@pytest.mark.parametrize("layer, wanted, unknown, expected", SOLVED)
def test_solve(layer: Layer1D, wanted: int, unknown: str, expected: tuple[int, int | None]) -> None:
    found = solve(layer, wanted, unknown)
    assert found is not None and (found.first, found.last) == expected


# (layer, output wanted, unknown): no value works
UNSOLVABLE = [
    (Layer1D(3, 3), 100_000_000_000, "padding"),              # 2p + 1 is odd
    (Layer1D(10, 3), 6, "stride"),                             # floor(7/s) = 5: s in 8/6..7/5, no integer
    (Layer1D(5, 3, 2, 1, d=2, transposed=True), 12, "kernel"),  # 7 + 2(k - 1) is odd
    (Layer1D(5, 3, 2, 0, transposed=True), 2, "padding"),      # 11 - 2p = 2 has no integer p
    (Layer1D(10, 3), 0, "stride"),                             # no layer outputs nothing
]


@pytest.mark.parametrize("layer, wanted, unknown", UNSOLVABLE)
def test_no_solution(layer: Layer1D, wanted: int, unknown: str) -> None:
    assert solve(layer, wanted, unknown) is None


def _enumerated(layer: Layer1D, wanted: int, unknown: str, top: int) -> list[int]:
    """The values below `top` that give `wanted`, tried one by one (what solve must not do)."""
    key = KEYS[unknown]
    tried = [replace(layer, **{key: v}) for v in range(0 if key == "p" else 1, top)]
    return [getattr(c, key) for c in tried if problem(c) is None and output_size(c) == wanted]


def test_solve_agrees_with_trying_every_value() -> None:
    """Every small layer, output and unknown: the range is exactly the values that work
    (an open range: every value up to where the enumeration stops)."""
    top, checked = 24, 0
    for transposed in (False, True):
        for n, k, s, p, d in product(range(1, 6), range(1, 4), range(1, 4), range(3), range(1, 3)):
            for op in range(max(s, d)) if transposed else (0,):
                layer = Layer1D(n, k, s, p, d, transposed, op)
                for unknown, wanted in product(KEYS, range(1, 11)):
                    if settings_problem(layer, unknown):
                        continue
                    found = solve(layer, wanted, unknown)
                    last = top - 1 if found is None or found.last is None else found.last
                    values = list(range(found.first, last + 1)) if found else []
                    assert values == _enumerated(layer, wanted, unknown, top)
                    checked += 1
    assert checked > 5_000


def test_solve_on_huge_sizes_is_arithmetic() -> None:
    """Sizes that an enumeration would take years over: answered by division."""
    big = 2**62
    assert solve(Layer1D(big, 3), 1, "stride") == Solutions("s", big - 2, None)
    assert solve(Layer1D(big, 3), 2, "stride") == Solutions("s", (big - 3) // 2 + 1, big - 3)
    assert solve(Layer1D(3, 3), big + 1, "padding") == Solutions("p", big // 2, big // 2)
    assert solve(Layer1D(big, 1, 1, 0), big // 2, "kernel") == Solutions("k", big // 2 + 1, big // 2 + 1)
    assert solve(Layer1D(3, 1, 1, 0, transposed=True), big + 1, "stride") == Solutions("s", big // 2, big // 2)
    assert solve(Layer1D(3, 1, 1, 0, transposed=True), big, "stride") is None  # 2s + 1 is odd


def test_impossible_layers() -> None:
    assert "larger than the padded input" in str(problem(Layer1D(2, 5)))
    assert "output padding" in str(problem(Layer1D(3, 3, 2, 1, transposed=True, op=2)))


def test_cli() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["conv", "--in", "224", "-k", "7", "-s", "2", "-p", "3", "-f", "json"])
    assert result.exit_code == 0
    layer = json.loads(result.stdout)["layers"][0]
    assert layer["formula"] == "floor((224 + 2*3 - 7) / 2) + 1 = 112"
    solved = runner.invoke(
        app, ["conv", "--in", "224", "-k", "7", "-s", "2", "--out", "112", "--solve", "padding", "-f", "csv"]
    )
    assert solved.exit_code == 0 and "k=7 s=2 p=3 d=1" in solved.stdout
    assert runner.invoke(app, ["conv", "--in", "2", "-k", "5"]).exit_code == 2
    assert runner.invoke(app, ["conv", "--in", "224", "--solve", "padding"]).exit_code == 2


def _conv(*args: str) -> Any:
    return CliRunner().invoke(app, ["conv", *args])


def test_cli_solve_prints_ranges() -> None:
    open_range = _conv("--in", "10000000", "-k", "3", "--out", "1", "--solve", "stride", "-f", "json")
    assert open_range.exit_code == 0
    assert json.loads(open_range.stdout)["layers"] == [{
        "name": "k=3 s=9999998.. p=0 d=1", "input": 10_000_000, "output": 1,
        "formula": "floor((10000000 + 2*0 - 3) / s) + 1 = 1 for s >= 9999998", "setting": "s", "first": 9_999_998,
        "last": None}]
    closed = _conv("--in", "100", "-k", "1", "--out", "10", "--solve", "stride", "-f", "csv")
    assert closed.stdout.splitlines()[1] == \
        "k=1 s=10..11 p=0 d=1,100,10,floor((100 + 2*0 - 1) / s) + 1 = 10 for s = 10..11"


def test_cli_solve_without_solution_exits_1() -> None:
    """Like grep finding nothing: a check that failed, said on stderr, nothing on stdout."""
    result = _conv("--in", "3", "-k", "3", "--out", "100000000000", "--solve", "padding")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "error: no padding gives output 100000000000 for input 3, k=3 s=1 d=1\n"
    transposed = _conv("--in", "5", "-k", "3", "-s", "2", "--transposed", "--out", "2", "--solve", "padding")
    assert transposed.exit_code == 1
    assert transposed.stderr == "error: no padding gives output 2 for input 5, transposed, k=3 s=2 d=1 op=0\n"


@pytest.mark.parametrize("args, message", [
    (["--in", "1" + "0" * 30, "-k", "3"], "input size 1000000000000000000000000000000 is too large (limit 2**63)"),
    (["--in", "8", "-k", "3", "-s", str(2**63)], f"stride {2**63} is too large (limit 2**63)"),
    (["--in", "3", "-k", "3", "--out", "1" + "0" * 30, "--solve", "padding"],
     "output 1000000000000000000000000000000 is too large (limit 2**63)"),
    (["--in", "1" + "0" * 30, "-k", "3", "--out", "1", "--solve", "stride"],
     "input size 1000000000000000000000000000000 is too large (limit 2**63)"),
    (["--in", "3", "-k", "3", "--out", "0", "--solve", "padding"], "the output wanted must be positive, got 0"),
    (["--in", "-3", "-k", "3"], "sizes, kernel, stride and dilation must be positive; padding non-negative"),
    (["--in", "3", "-k", "3", "-p", "-1", "--out", "3", "--solve", "stride"],
     "sizes, kernel, stride and dilation must be positive; padding non-negative"),
    (["--in", "3", "-k", "3", "--output-padding", "1", "--out", "3", "--solve", "padding"],
     "output padding applies to transposed convolutions only"),
    # (224 - 1)*2 - 2*100000 + 3 = -199551: the padding, not a window, is the problem
    (["--in", "224", "-k", "3", "-s", "2", "-p", "100000", "--transposed"],
     "the output size would be -199551: the padding 2*100000 removes more than the layer adds"),
])
def test_cli_bad_values_exit_2(args: list[str], message: str) -> None:
    result = _conv(*args)
    assert (result.exit_code, result.stderr) == (2, f"error: {message}\n")


def test_huge_layer_is_described_not_enumerated() -> None:
    """A transposed convolution of stride 10^8: its window is found in closed form."""
    facts = describe(Layer1D(8, 3, 100_000_000, transposed=True))
    assert (facts["output"], facts["rf"], facts["jump"]) == (700_000_003, 1, "1/100000000")


def test_output_sizes_agree_with_torch() -> None:
    """The formulas the solver inverts are PyTorch's, also for strides far past the input."""
    torch = pytest.importorskip("torch")
    x = torch.empty(1, 1, 8, device="meta")
    for stride in (3, 1000, 100_000_000):
        layer = Layer1D(8, 3, stride, 1, transposed=True, op=1)
        module = torch.nn.ConvTranspose1d(1, 1, 3, stride=stride, padding=1, output_padding=1, device="meta")
        assert module(x).shape[-1] == output_size(layer)
        found = solve(replace(layer, s=1), output_size(layer), "stride")
        assert found == Solutions("s", stride, stride)
    solved = solve(Layer1D(10_000_000, 3), 1, "stride")
    assert solved is not None
    for stride in (solved.first - 1, solved.first, solved.first * 1000):
        out = torch.nn.Conv1d(1, 1, 3, stride=stride, device="meta")(torch.empty(1, 1, 10_000_000, device="meta"))
        assert (out.shape[-1] == 1) == (stride >= solved.first)
