"""`netcalc conv`, the one-layer calculator, on the seed notes' formulas."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.core.calculator import Layer1D, describe, output_size, problem, solve

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


def test_solve() -> None:
    assert [c.p for c in solve(Layer1D(224, 7, 2, 0), 112, "padding")] == [3]
    assert [c.s for c in solve(Layer1D(224, 3, 1, 1), 112, "stride")] == [2]
    assert [c.k for c in solve(Layer1D(224, 3, 2, 1), 112, "kernel")] == [3, 4]
    assert [c.p for c in solve(Layer1D(3, 3, 2, 0, transposed=True), 5, "padding")] == [1]


def test_impossible_layers() -> None:
    assert "larger than the padded input" in str(problem(Layer1D(2, 5)))
    assert "output padding" in str(problem(Layer1D(3, 3, 2, 1, transposed=True, op=2)))


def test_cli() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["conv", "--in", "224", "-k", "7", "-s", "2", "-p", "3", "-f", "json"])
    assert result.exit_code == 0
    layer = json.loads(result.stdout)["layers"][0]
    assert layer["formula"] == "floor((224 + 2*3 - 7) / 2) + 1 = 112"
    solved = runner.invoke(app, ["conv", "--in", "224", "-k", "7", "-s", "2", "--out", "112", "--solve", "padding", "-f", "csv"])
    assert solved.exit_code == 0 and "k=7 s=2 p=3 d=1" in solved.stdout
    assert runner.invoke(app, ["conv", "--in", "2", "-k", "5"]).exit_code == 2
    assert runner.invoke(app, ["conv", "--in", "224", "--solve", "padding"]).exit_code == 2
