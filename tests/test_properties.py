"""Property-based checks against PyTorch: random chains and small DAGs of convolutions,
transposed convolutions, pools (ceil mode), upsampling, groups, dilation, asymmetric
kernels and strides, `same` padding and add/concat branches, in 1-D, 2-D and 3-D, as a
plain chain or inside a block (exported as a class). Valid specs agree with torch layer by
layer (shape, parameters, buffers) and in MACs; where netcalc refuses a layer, torch
raises too."""

from __future__ import annotations

import pytest

from helpers import TORCH_COMPARED, text_spec

torch = pytest.importorskip("torch")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_export import compare, load_model, to_torch  # noqa: E402

from torch_model import module_for, sample  # noqa: E402

pytestmark = pytest.mark.torch
SETTINGS = settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def axes(draw, rank: int, low: int, high: int) -> str:  # type: ignore[no-untyped-def]
    values = [draw(st.integers(low, high)) for _ in range(rank)]
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


@st.composite
def layer_line(draw, rank: int) -> str:  # type: ignore[no-untyped-def]
    op = draw(st.sampled_from(["conv", "conv", "dwconv", "convT", "maxpool", "avgpool", "upsample", "relu"]))
    k, s = axes(draw, rank, 1, 4), axes(draw, rank, 1, 3)
    if op == "conv":
        p = draw(st.sampled_from(["0", "1", "2", "same", "valid"]))
        out, g = draw(st.sampled_from([2, 4])), draw(st.sampled_from([1, 2]))
        return f"conv out={out} k={k} s={s} p={p} d={axes(draw, rank, 1, 2)} g={g}"
    if op == "dwconv":
        return f"dwconv k={k} s={s} p={draw(st.integers(0, 2))}"
    if op == "convT":
        return (f"convT out={draw(st.sampled_from([2, 4]))} k={k} s={s} p={draw(st.integers(0, 2))} "
                f"op={draw(st.integers(0, 2))} d={draw(st.integers(1, 2))} g={draw(st.sampled_from([1, 2]))}")
    if op in ("maxpool", "avgpool"):
        d = f" d={draw(st.integers(1, 2))}" if op == "maxpool" else ""
        return f"{op} k={k} s={s} p={draw(st.integers(0, 2))}{d} ceil={draw(st.booleans())}".lower()
    if op == "upsample":
        mode = draw(st.sampled_from(["nearest", {1: "linear", 2: "bilinear", 3: "trilinear"}[rank]]))
        return f"upsample scale={draw(st.sampled_from(['2', '1.5', '0.5', '3']))} mode={mode}"
    return op


@st.composite
def spec(draw) -> str:  # type: ignore[no-untyped-def]
    rank = draw(st.integers(1, 3))
    size = [draw(st.integers(3, 12 if rank < 3 else 7)) for _ in range(rank)]
    lines = [f"input {draw(st.sampled_from([2, 4]))}x{'x'.join(map(str, size))}"]
    chain = [draw(layer_line(rank)) for _ in range(draw(st.integers(1, 4)))]
    if draw(st.booleans()):  # the chain as a block, which the exporter writes as a class
        lines += ["block unit", *(f"  {line}" for line in chain), "unit name=u"]
    else:
        lines += chain
    if draw(st.booleans()):  # a branch from the input, merged with the chain
        merge = draw(st.sampled_from(["add", "concat"]))
        lines += [f"{draw(layer_line(rank))} from=input name=branch", f"{merge} from=-2,branch"]
    return "\n".join(lines) + "\n"


def torch_refuses(report) -> bool:  # type: ignore[no-untyped-def]
    """Does torch raise on the first layer netcalc refused, given the same inputs (or return
    an empty tensor, which netcalc's contract refuses)?"""
    failed = next(layer for layer in report.graph.layers if report.shapes.get(layer.name) is None)
    ins = tuple(report.shapes[n] for n in failed.inputs)
    try:
        out = module_for(failed, ins)(*(sample(s) for s in ins))  # the exporter's constructor
    except Exception:
        return True
    return 0 in out.shape


@SETTINGS
@given(spec())
def test_random_specs_agree_with_torch(text: str) -> None:
    report = text_spec(text)
    if report.ok:
        compare(report)
        from torch.utils.flop_counter import FlopCounterMode

        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            load_model(to_torch(report))(*(sample(i.shape) for i in report.graph.inputs))
        assert counter.get_total_flops() == 2 * report.total().macs
        TORCH_COMPARED["macs"] += 1
        return
    ids = sorted(d.id for d in report.diagnostics if d.severity.value == "error")
    assert torch_refuses(report), (text, ids)
    TORCH_COMPARED["refused"] += 1
