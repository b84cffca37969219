"""netcalc against PyTorch 2.13.0: every op case and every built-in spec, layer by layer;
and every invalid op case that PyTorch can be given: torch refuses it too.

Skipped where torch is not installed; .ci/run installs it, so CI always runs these.
"""

from __future__ import annotations

import pytest

from netcalc.core.api import analyze, builtin_specs

from helpers import TORCH_COMPARED, case_spec, op_cases, text_spec

torch = pytest.importorskip("torch")
from torch_model import module_for, run, sample  # noqa: E402

pytestmark = pytest.mark.torch

VALID_CASES = [(op, cid, case) for op, cid, case in op_cases() if "error" not in case]
# Invalid cases whose layer PyTorch can be given: the schema accepted its arguments (a
# misspelt or missing one never reaches a constructor), minus the contract's own refusals.
CONTRACT_ONLY = {
    "flatten:would-merge-batch": "the contract refuses to flatten the batch; torch.flatten(x, 0) does it",
    "ln:too-many-axes": "the contract refuses to normalise over the batch; the constructor cannot say it",
    "rmsnorm:too-many-axes": "the contract refuses to normalise over the batch; the constructor cannot say it",
    "upsample:align-corners-with-nearest": "the exporter writes align_corners only for interpolating modes",
    "conv:kernel-rank-mismatch": "a 3-value kernel for a 2-D map has no Conv2d to write",
    "param:non-positive": "torch.zeros(1, 0, 4) is an empty tensor; the contract refuses sizes below 1",
    "permute:batch-moved": "the contract keeps the batch axis first; Tensor.permute(1, 0, 2, 3) does not care",
    "transpose:batch-axis": "the contract keeps the batch axis first; Tensor.transpose(0, 1) does not care",
    "transpose:three-axes": "the exporter writes Tensor.transpose of two axes only",
    "select:only-the-batch-left": "the contract refuses a tensor of the batch axis alone; torch gives shape (1,)",
    "slice:empty": "the contract refuses sizes below 1; torch gives an empty axis",
    "matmul:ranks-differ": "torch.matmul aligns leading axes from the right: batch 1 meets an axis of b",
    "mha:two-inputs": "the contract takes one input or three; the exported Attention reads two as query, key = value",
    "sdpa:key-value-lengths": "the CPU flash kernel does not check (pytorch/pytorch#193728); the math path refuses",
    "lstm:too-many-layers": "the contract's bound of 1,000,000 layers; nn.LSTM would build every one",
    "offset:would-widen-the-input": "an offset keeps its input's shape; x + torch.zeros(2, 6, 6) would widen it",
    "sdpa:a-map": "the exported expression would read an extra leading axis as more batch; the contract takes L x F",
}


def given_to_torch(case: dict) -> bool:
    layers = text_spec(case_spec(case)).graph.layers
    return bool(layers) and layers[-1].attrs is not None


REFUSED = [(f"{op}:{cid}", case) for op, cid, case in op_cases()
           if "error" in case and f"{op}:{cid}" not in CONTRACT_ONLY and given_to_torch(case)]


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


@pytest.mark.parametrize("case_id, case", REFUSED, ids=[cid for cid, _ in REFUSED])
def test_torch_refuses_what_netcalc_refuses(case_id: str, case: dict) -> None:
    report = text_spec(case_spec(case))
    assert not report.ok
    layer = report.graph.layers[-1]
    ins = tuple(report.shapes[name] for name in layer.inputs)
    # PyTorch's errors, not ours (nn.Embedding checks padding_idx with an assert)
    with pytest.raises((RuntimeError, ValueError, IndexError, NotImplementedError, AssertionError)):
        module_for(layer, ins)(*(sample(shape) for shape in ins))  # type: ignore[arg-type]
    TORCH_COMPARED["refused"] += 1


def test_shared_modules_and_tied_heads_match_torch_layer_by_layer() -> None:
    from test_wiring import LM

    assert assert_matches_torch(text_spec(LM)) == 9
