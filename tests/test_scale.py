"""A 100,000-layer spec is a normal input: chains and branchy DAGs in both syntaxes."""

from __future__ import annotations

import pytest

from helpers import text_spec, yaml_spec


def chain(n: int) -> str:
    return "input 8x32x32\n" + "".join("conv out=8 k=3 p=1\n" if i % 2 == 0 else "relu\n" for i in range(n))


@pytest.mark.slow
def test_100k_layer_chain() -> None:
    report = text_spec(chain(100_000))
    assert report.ok and len(report.graph.layers) == 100_000
    assert str(report.shapes[report.graph.output]) == "8x32x32"
    assert report.total().params == 50_000 * (8 * 8 * 9 + 8)


@pytest.mark.slow
def test_100k_layers_from_blocks_and_repeats() -> None:
    spec = """\
input: 16x16x16
blocks:
  residual:
    args: {w: 16}
    layers:
      - conv out=$w k=3 p=1
      - bn
      - relu
      - {add: {}, from: [in, -1]}
layers:
  - residual repeat=25000 name=body
"""
    report = yaml_spec(spec)
    assert report.ok and len(report.graph.layers) == 100_000
    assert report.graph.layers[-1].name == "body.24999.add_1"
    assert report.graph.layers[-1].inputs == ("body.24998.add_1", "body.24999.relu_1")
