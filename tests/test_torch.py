"""netcalc against PyTorch 2.13.0: every op case and every built-in spec, layer by layer.

Skipped where torch is not installed; .ci/run installs it, so CI always runs these.
"""

from __future__ import annotations

import pytest

from helpers import case_spec, op_cases, text_spec
from netcalc.core.api import analyze, builtin_specs

torch = pytest.importorskip("torch")
from torch_model import run  # noqa: E402

pytestmark = pytest.mark.torch

VALID_CASES = [(op, cid, case) for op, cid, case in op_cases() if "error" not in case]
INVALID_CASES = [(op, cid, case) for op, cid, case in op_cases() if "error" in case]


def assert_matches_torch(report) -> int:  # type: ignore[no-untyped-def]
    measured = run(report.graph, dict(report.shapes))
    for layer in report.graph.layers:
        shape, params, buffers = measured[layer.name]
        cost = report.costs[layer.name]
        assert (report.shapes[layer.name].dims, cost.params, cost.buffers) == (shape, params, buffers), layer.name
    return len(measured)


@pytest.mark.parametrize("op, case_id, case", VALID_CASES, ids=[f"{op}:{cid}" for op, cid, _ in VALID_CASES])
def test_op_case_matches_torch(op: str, case_id: str, case: dict) -> None:
    report = text_spec(case_spec(case))
    assert report.ok
    assert assert_matches_torch(report) == 1


@pytest.mark.parametrize("name", sorted(builtin_specs()))
def test_builtin_spec_matches_torch_layer_by_layer(name: str) -> None:
    report = analyze(name)
    assert report.ok
    assert assert_matches_torch(report) == len(report.graph.layers)
