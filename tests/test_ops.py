"""Every op's rules against hand-checked cases (tests/cases/ops/<op>.yaml)."""

from __future__ import annotations

import pytest

from netcalc.core.ops import OPS
from netcalc.core.ops.registry import ELEMENTWISE, NO_MACS, NO_OTHER_FLOPS, NO_WEIGHTS, OpDef

from helpers import case_spec, errors, op_cases, text_spec

CASES = op_cases()


@pytest.mark.parametrize("op, case_id, case", CASES, ids=[f"{op}:{cid}" for op, cid, _ in CASES])
def test_op_case(op: str, case_id: str, case: dict) -> None:
    report = text_spec(case_spec(case))
    if "error" in case:  # the layer is line 2; the column, the layer's or the argument's
        assert errors(report) == [(case["error"], 2, case["col"])]
        return
    assert errors(report) == []
    layer = report.graph.layers[-1]
    assert layer.op == op
    cost = report.costs[layer.name]
    if "shape" in case:
        assert str(report.shapes[layer.name]) == str(case["shape"])
    for key in ("params", "buffers", "macs", "flops"):
        if key in case:
            assert getattr(cost, key) == case[key], key
    if "rf" in case:  # the field of one output unit in the input, and its step: per axis
        field = report.fields[layer.name]
        assert (axes(field.size), axes(field.jump)) == (str(case["rf"]), str(case["jump"]))


def axes(values: tuple) -> str:
    return "x".join(map(str, values))


def test_every_op_has_cases_and_every_case_file_names_an_op() -> None:
    covered = {op for op, _, _ in CASES}
    assert covered == set(OPS)


RULES = ("infer_shape", "count_params", "count_macs", "other_flops", "receptive_field")


@pytest.mark.parametrize("missing", RULES)
def test_an_op_that_forgets_a_rule_cannot_be_made(missing: str) -> None:
    """No rule has a default: a new op that leaves one out fails at import, not silently."""
    stated = {"count_params": NO_WEIGHTS, "count_macs": NO_MACS, "other_flops": NO_OTHER_FLOPS,
              "receptive_field": ELEMENTWISE, "infer_shape": lambda a, ins: ins[0]}
    del stated[missing]
    with pytest.raises(TypeError, match=missing):
        OpDef(name="new", doc="A new op.", attrs={}, **stated)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_states_its_rules(name: str) -> None:
    opdef = OPS[name]
    assert opdef.doc and opdef.flops_rule
    for rule in RULES:
        assert callable(getattr(opdef, rule))
    # the conventions table says "0" exactly where the rule is the named zero
    assert (opdef.count_macs is NO_MACS) == (opdef.macs_rule == "0")
    # its PyTorch form, for `netcalc export`: a module, or an expression in forward (add, a
    # permute), never both
    assert [callable(opdef.torch_module), callable(opdef.torch_expression)].count(True) == 1


@pytest.mark.parametrize("text, attrs", [
    ("k3 s2 p1", {"k": 3, "s": 2, "p": 1, "d": 1}),
    ("k3 p0", {"k": 3, "s": None, "p": 0}),  # a pool's stride defaults to its kernel
    ("k5x3 s1 psame d2", {"k": (5, 3), "s": 1, "p": "same", "d": 2}),
    ("k4 s2 p1 op1", {"k": 4, "s": 2, "p": 1, "d": 1, "op": 1}),
    ("k3 s1 p((1,2),(0,1))", {"k": 3, "s": 1, "p": ((1, 2), (0, 1))}),
])
def test_windowed_ops_show_their_window_as_written(text: str, attrs: dict) -> None:
    windowed = [opdef for opdef in OPS.values() if opdef.window_text({"k": 3})]
    assert {o.name for o in windowed} == {"conv", "dwconv", "convT", "maxpool", "avgpool"}
    assert all(o.window_text(attrs) == text for o in windowed)
    assert OPS["relu"].window_text({}) == ""
