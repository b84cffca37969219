"""Property-based checks against PyTorch: random chains and small DAGs of convolutions,
transposed convolutions, pools (ceil mode), upsampling, groups, dilation, asymmetric
kernels and strides, `same` padding and add/concat branches, in 1-D, 2-D and 3-D, as a
plain chain or inside a block (exported as a class). Valid specs agree with torch layer by
layer (shape, parameters, buffers) and in MACs; where netcalc refuses a layer, torch
raises too. And random token networks: attention (mha, grouped-query and causal sdpa),
recurrence (lstm with projections, gru, rnn; stacked, bidirectional), norms, a Conv1d
over the sequence and residuals, which agree the same way."""

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
SEQUENCE_SETTINGS = settings(SETTINGS, max_examples=60)  # each example is a few transformer layers


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


@st.composite
def sequence_layer(draw, width: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Layers taking and giving L x width: attention, recurrence, norms, a Conv1d over the
    sequence, a residual."""
    kind = draw(st.sampled_from(["mha", "sdpa", "rnn", "norm", "conv", "residual"]))
    heads = draw(st.sampled_from([h for h in (1, 2, 4) if width % h == 0]))
    if kind == "mha":
        return [f"mha heads={heads} bias={str(draw(st.booleans())).lower()}"]
    if kind == "sdpa":
        kv = draw(st.sampled_from([k for k in (1, 2, 4) if heads % k == 0]))
        d = width // heads
        causal = str(draw(st.booleans())).lower()
        return [f"linear out={width + 2 * kv * d} name=qkv", f"slice dim=-1 end={width} from=qkv name=q",
                f"slice dim=-1 start={width} end={width + kv * d} from=qkv name=k",
                f"slice dim=-1 start={width + kv * d} from=qkv name=v",
                f"sdpa heads={heads} kv_heads={kv} causal={causal} from=q,k,v"]
    if kind == "rnn":
        op = draw(st.sampled_from(["lstm", "gru", "rnn"]))
        hidden = draw(st.integers(2, 6))
        proj = f" proj={draw(st.integers(0, hidden - 1))}" if op == "lstm" else ""
        return [f"{op} hidden={hidden} layers={draw(st.integers(1, 2))} "
                f"bidirectional={str(draw(st.booleans())).lower()}{proj}", f"linear out={width}"]
    if kind == "norm":
        return [draw(st.sampled_from(["ln", "rmsnorm", "gelu approximate=tanh", "logsoftmax"]))]
    if kind == "conv":
        return ["transpose dims=1,2", f"conv out={width} k={draw(st.integers(1, 3))} p=same", "transpose dims=1,2"]
    return [f"linear out={width} name=skip_in", "gelu", f"linear out={width}", "add from=skip_in,-1"]


@st.composite
def sequence_spec(draw) -> str:  # type: ignore[no-untyped-def]
    """Token ids, an embedding, then 1 to 3 groups of layers, each a block of its own (so
    that their local names stay apart; the exporter writes each as a class)."""
    width = draw(st.sampled_from([4, 8]))
    groups = [draw(sequence_layer(width)) for _ in range(draw(st.integers(1, 3)))]
    lines = [f"input {draw(st.integers(2, 9))}:int64"]
    for i, group in enumerate(groups):
        lines += [f"block b{i}", *(f"  {line}" for line in group)]
    lines.append(f"embedding num={draw(st.integers(2, 20))} dim={width}")
    lines += [f"b{i} name=u{i}" for i in range(len(groups))]
    return "\n".join(lines) + "\n"


@SEQUENCE_SETTINGS
@given(sequence_spec())
def test_random_transformer_and_recurrent_specs_agree_with_torch(text: str) -> None:
    from torch_model import counting_flops

    report = text_spec(text)
    assert report.ok, (text, [str(d) for d in report.diagnostics])
    compare(report)
    with counting_flops() as counter:
        load_model(to_torch(report))(*(sample(i.shape) for i in report.graph.inputs))
    assert counter.get_total_flops() == 2 * report.total().macs, text
    TORCH_COMPARED["macs"] += 1
