"""v2 wiring: shared modules and tied heads (`share=`), frozen parameters (`trainable=`),
`from` reaching into a block use, layer types as block arguments (`$act`), `$last`, and
names with `-`; in both syntaxes, through `convert`, positioned when wrong."""

from __future__ import annotations

import pytest

from netcalc.core.api import analyze_source, findings, parse
from netcalc.core.convert import to_text, to_yaml

from helpers import errors, text_spec, yaml_spec

# a small language model: the head is tied to the embedding, a block is called twice with
# one module, the norm is frozen
LM = """\
input 16:int64
block mlp act=relu hidden
  linear out=$hidden name=fc1
  $act
  linear out=$last name=fc2
embedding num=100 dim=32 name=wte
linear out=32 name=proj
relu
linear out=32 share=proj name=proj-again
mlp hidden=64 act=gelu name=mlp-0
ln trainable=false name=ln_f
linear out=100 bias=false share=wte name=lm_head
"""


def test_shared_modules_count_their_parameters_once_and_their_work_at_every_call() -> None:
    report = text_spec(LM)
    assert errors(report) == []
    costs = report.costs
    assert (costs["proj"].params, costs["proj-again"].params) == (32 * 32 + 32, 0)
    assert costs["proj-again"].macs == costs["proj"].macs == 16 * 32 * 32
    assert (costs["lm_head"].params, costs["lm_head"].macs) == (0, 16 * 32 * 100)  # tied: no bias of its own
    totals = report.totals()
    assert totals["params"] == 100 * 32 + 1056 + (32 * 64 + 64) + (64 * 32 + 32) + 64
    assert (totals["trainable_params"], totals["non_trainable_params"]) == (totals["params"] - 64, 64)
    rows = {row["name"]: row for row in report.as_records()["layers"]}
    assert (rows["proj-again"]["shares"], rows["lm_head"]["shares"]) == ("proj", "wte")
    assert rows["ln_f"]["trainable_params"] == 0


def test_block_arguments_name_layer_types_and_last_is_the_feature_axis() -> None:
    report = text_spec(LM)
    layers = {layer.name: layer for layer in report.graph.layers}
    assert layers["mlp-0.act_1"].op == "gelu"
    assert str(report.shapes["mlp-0.fc2"]) == "16x32"  # out=$last: the features of 16 x 32


def test_a_tied_head_keeps_its_own_bias() -> None:
    report = text_spec("input 8:int64\nembedding num=50 dim=16 name=wte\nlinear out=50 share=wte\n")
    assert report.costs["linear_1"].params == 50


def test_trainable_false_on_a_block_use_freezes_every_layer_in_it() -> None:
    report = text_spec("input 3x8x8\nblock stem\n  conv out=4 k=3\n  bn\nstem trainable=false name=s\n"
                       "conv out=2 k=1\n")
    assert [layer.trainable for layer in report.graph.layers] == [False, False, True]
    assert report.totals()["non_trainable_params"] == 4 * 3 * 9 + 4 + 8


def test_top_level_from_reaches_a_layer_inside_a_block_use() -> None:
    spec = ("input 3x16x16\nblock stage\n  conv out=4 k=3 p=1 name=conv\n  relu name=act\n"
            "stage repeat=2 name=layer\nconv out=4 k=1 from=layer.0.act name=aux\nadd from=layer,aux\n")
    report = text_spec(spec)
    assert errors(report) == []
    assert report.graph.layers[-2].inputs == ("layer.0.act",)


@pytest.mark.parametrize("spec, expected", [
    # inside a block, names stay local: a qualified name from outside is unknown there
    ("input 3x8x8\nblock b\n  relu from=x.0\nrelu name=x\nb\n", ("unknown-reference", 3, 3)),
    ("input 8\nlinear out=8 share=nothing\n", ("invalid-share", 2, 14)),
    ("input 8\nlinear out=8 name=a\nlinear out=4 share=a\n", ("invalid-share", 3, 14)),
    ("input 8\nlinear out=8 name=a\nrelu share=a\n", ("invalid-share", 3, 6)),
    ("input 8:int64\nembedding num=10 dim=4 name=e\nlinear out=9 share=e\n", ("invalid-share", 3, 14)),
    ("input 8\nrelu trainable=5\n", ("invalid-argument", 2, 1)),
    ("input 8\nblock b act=3\n  $act\nb\n", ("unknown-type", 3, 3)),
    ("input 8\nblock b\n  $act\nb\n", ("unknown-type", 3, 3)),
    ("input 8\nrelu name=-x\n", ("invalid-name", 2, 6)),
])
def test_wiring_mistakes_are_positioned(spec: str, expected: tuple[str, int, int]) -> None:
    assert errors(text_spec(spec)) == [expected]


def test_yaml_says_the_same_as_text() -> None:
    yaml_text = to_yaml(parse(LM, "lm.net", "lm")[0])
    assert "share: wte" in yaml_text or "share=wte" in yaml_text
    from_yaml, from_text = yaml_spec(yaml_text), text_spec(LM)
    assert errors(from_yaml) == []

    def placeless(report):  # type: ignore[no-untyped-def]
        return [{k: v for k, v in row.items() if k not in ("line", "col")} for row in report.as_records()["layers"]]

    assert placeless(from_yaml) == placeless(from_text)
    assert from_yaml.totals() == from_text.totals()


def test_convert_keeps_share_and_trainable() -> None:
    text = to_text(parse(LM, "lm.net", "lm")[0])
    assert "share=wte" in text and "trainable=false" in text and "$act" in text
    assert analyze_source(text, "again.net").totals() == text_spec(LM).totals()


TWO_HEADS = """\
input: 3x32x32
output: [head, aux]
layers:
  - conv out=8 k=3 p=1 name=stem
  - conv out=4 k=1 name=aux
  - {gap: {}, from: stem}
  - flatten
  - linear out=10 name=head
check:
  output: [[10], [4, 32, 32]]
"""


def test_several_outputs_are_named_in_order_and_checked_in_order() -> None:
    report = yaml_spec(TWO_HEADS)
    assert errors(report) == [] and report.graph.outputs == ("head", "aux")
    records = report.as_records()
    assert (records["output"], records["outputs"]) == ([10], {"head": [10], "aux": [4, 32, 32]})
    assert [d.id for d in findings(report, TWO_HEADS, {}, None)] == []
    wrong = yaml_spec(TWO_HEADS.replace("[[10], [4, 32, 32]]", "[[10], [4, 16, 16]]"))
    assert [d.message for d in findings(wrong, TWO_HEADS, {}, None)] == [
        "the output 'aux' is 4x32x32, the check expects 4x16x16"]
    one = yaml_spec(TWO_HEADS.replace("[[10], [4, 32, 32]]", "[10]"))
    assert [d.id for d in findings(one, TWO_HEADS, {}, None)] == ["unexpected-output"]


def test_outputs_reach_into_block_uses_and_the_default_output_may_go_unused() -> None:
    spec = ("input 3x8x8\noutput layer.0.act,fc\nblock stage\n  conv out=4 k=3 p=1 name=conv\n  relu name=act\n"
            "stage repeat=2 name=layer\ngap\nflatten\nlinear out=2 name=fc\nrelu name=tail\n")
    report = text_spec(spec)
    assert report.graph.outputs == ("layer.0.act", "fc")
    assert [(d.id, d.span.line) for d in report.diagnostics] == [("unused-layer", 10)]  # tail feeds no output


@pytest.mark.parametrize("spec, expected", [
    ("input 8\noutput nothing\nrelu\n", ("unknown-reference", 2, 1)),
    ("input 8\noutput a b\nrelu name=a\n", ("syntax", 2, 1)),
    ("input: 8\noutput: [a, -1]\nlayers: [relu]\n", ("invalid-reference", 2, 9)),
])
def test_output_mistakes_are_positioned(spec: str, expected: tuple[str, int, int]) -> None:
    report = yaml_spec(spec) if spec.startswith("input:") else text_spec(spec)
    assert errors(report) == [expected]


def test_convert_keeps_the_outputs_and_their_check() -> None:
    text = to_text(parse(TWO_HEADS, "two.yaml", "two")[0])
    assert "output head,aux" in text and "check output=[[10],[4,32,32]]" in text
    again = analyze_source(text, "two.net")
    assert again.graph.outputs == ("head", "aux")
    assert again.graph.checks["output"][0] == yaml_spec(TWO_HEADS).graph.checks["output"][0]


@pytest.mark.parametrize("spec, per_token, at_length", [
    # GPT-2 small: 12 causal layers keep a key and a value of 768 each: 12*2*768 elements per token
    ("gpt2", 12 * 2 * 768 * 4, 12 * 2 * 768 * 4 * 1024),
    # grouped-query: 2 key/value heads of 16 instead of 8
    ("input q=10x128 k=10x32 v=10x32\nsdpa heads=8 kv_heads=2 causal=true from=q,k,v\n",
     (32 + 32) * 4, (32 + 32) * 10 * 4),
])
def test_causal_attention_adds_the_kv_cache_to_the_totals(spec: str, per_token: int, at_length: int) -> None:
    from netcalc.core.api import analyze

    report = analyze(spec) if "\n" not in spec else text_spec(spec)
    totals = report.totals()
    assert (totals["kv_cache_bytes_per_token"], totals["kv_cache_bytes"]) == (per_token, at_length)
    assert report.totals(batch=2, dtype="float16")["kv_cache_bytes"] == at_length  # half the bytes, twice the batch


def test_no_kv_cache_without_causal_attention() -> None:
    report = text_spec("input q=10x128 k=10x32 v=10x32\nsdpa heads=8 kv_heads=2 from=q,k,v\n")
    assert "kv_cache_bytes" not in report.totals()


@pytest.mark.parametrize("spec, expected", [
    # share= names a layer: a block use cannot share (its layers can)
    ("input 8\nblock mlp\n  linear out=8 name=a\nmlp name=m\nmlp share=m name=m2\n", ("invalid-share", 5, 5)),
    # a layer dropped by `if` cannot be shared, and the name never reaches outside the block
    ("input 8:int64\nblock b flag=false\n  linear out=8 if=$flag name=a\n  linear out=8 share=a\n"
     "embedding num=8 dim=8 name=wte\nb\n", ("invalid-share", 4, 16)),
    # one module, two input sizes: PyTorch raises at the second call
    ("input 40\nlinear out=16 name=fc\nlinear out=16 share=fc\n", ("invalid-share", 3, 15)),
])
def test_shares_pytorch_could_not_make_are_refused(spec: str, expected: tuple[str, int, int]) -> None:
    assert errors(text_spec(spec)) == [expected]


def test_a_tied_head_keeps_its_own_bias_trainable_under_a_frozen_embedding() -> None:
    report = text_spec("input 10:int64\nembedding num=50 dim=16 trainable=false name=wte\nlinear out=50 share=wte\n")
    totals = report.totals()
    assert (totals["trainable_params"], totals["non_trainable_params"]) == (50, 800)


def test_an_output_may_name_a_repeated_layer_or_block() -> None:
    report = text_spec("input 3x8x8\noutput s,x\nblock b\n  conv out=3 k=3 p=1\nb repeat=2 name=s\n"
                       "conv out=2 k=1 repeat=2 name=x\n")
    assert report.graph.outputs == ("s.1.conv_1", "x.1")


def test_an_input_named_with_a_dash_converts_both_ways() -> None:
    yaml_text = 'input: {ids: 8:int32, "x-y": 4x6:float16}\nlayers:\n  - {identity: {}, from: "x-y", name: z}\n'
    text = to_text(parse(yaml_text, "xy.yaml", "xy")[0])
    assert "x-y=4x6:float16" in text
    assert str(analyze_source(text, "xy.net").shapes["z"]) == "4x6:float16"


@pytest.mark.parametrize("spec, message", [
    ("input 8\nblock b\n  linear out=8 name=a\nb name=m\nlinear out=8 share=m\n", "'m' is a block use, not a layer"),
    ("input 8\nlinear out=8 share=input\n", "'input' is a network input, not a layer"),
    ("input 8\nblock b flag=false\n  linear out=8 if=$flag name=a\n  linear out=8 share=a\nb\n",
     "'a' is dropped by `if`"),
    ("input 8\nlinear out=8 share=later\nlinear out=8 name=later\n", "'later' is not an earlier layer here"),
])
def test_share_says_why_its_name_is_no_layer(spec: str, message: str) -> None:
    [diagnostic] = text_spec(spec).diagnostics
    assert diagnostic.id == "invalid-share" and message in diagnostic.message


# a `param` has no batch axis: PyTorch broadcasts it from the right against batched tensors of
# more axes; two batched tensors of unequal rank would meet a batch axis with a data axis
@pytest.mark.parametrize("spec, layer, shape", [
    ("input 14x14x8\nparam shape=[8] name=gamma\nmul from=input,gamma name=scale", "scale", "14x14x8"),
    ("input 16x32\nparam shape=[1,32] name=bias\nadd from=input,bias name=out", "out", "16x32"),
    ("input 4x6x8\nparam shape=[8,3] name=w\nmatmul from=input,w name=out", "out", "4x6x3"),
    ("input 6x8\nparam shape=[3,1,1] name=p\nparam shape=[4] name=q\nadd from=p,q name=out", "out", "3x1x4"),
])
def test_a_param_of_fewer_axes_broadcasts_from_the_right(spec: str, layer: str, shape: str) -> None:
    report = text_spec(spec)
    assert errors(report) == []
    assert str(report.shapes[layer]) == shape


@pytest.mark.parametrize("spec, expected", [
    ("input x=14x14x8 y=8\nmul from=x,y", ("shape-mismatch", 2, 1)),
    ("input x=4x6x8 y=8x3\nmatmul from=x,y", ("shape-mismatch", 2, 1)),
    ("input 14x14x8\nparam shape=[7] name=gamma\nmul from=input,gamma", ("shape-mismatch", 3, 1)),
    # the batched input has fewer axes: its batch axis would meet the param's 2
    ("input 4x6x8\nparam shape=[2,1,8,3] name=w\nmatmul from=input,w", ("shape-mismatch", 3, 1)),
])
def test_batched_tensors_of_unequal_rank_do_not_broadcast(spec: str, expected: tuple[str, int, int]) -> None:
    assert expected in errors(text_spec(spec))
