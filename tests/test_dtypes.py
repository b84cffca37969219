"""Inputs with an element type (v2): `128:int64` token ids, `128:bool` masks, in both
syntaxes and on the command line; layers that compute on floats refuse integers, as
PyTorch raises; integer tensors count their own bytes."""

from __future__ import annotations

import pytest

from netcalc.core.api import analyze

from helpers import errors, text_spec, yaml_spec


@pytest.mark.parametrize("text, yaml_text", [
    ("input ids=128:int64 mask=128:bool\nidentity from=ids\n",
     "input: {ids: 128:int64, mask: 128:bool}\nlayers:\n  - {identity: {}, from: ids}\n"),
    ("input 128:int64\nidentity\n", "input: 128:int64\nlayers: [identity]\n"),
    ("input 16x16:int32\nflatten\n", "input: 16x16:int32\nlayers: [flatten]\n"),
])
def test_both_syntaxes_read_an_input_dtype(text: str, yaml_text: str) -> None:
    for report in (text_spec(text), yaml_spec(yaml_text)):
        assert errors(report) == []
        first = report.graph.inputs[0].shape
        out = report.shapes[report.graph.layers[-1].name]
        assert (out.dtype, first.dtype) == (first.dtype, first.dtype) != "float32"


def test_the_input_option_takes_a_dtype() -> None:
    report = analyze("seed_rf", ["7x9:int64"])
    assert str(report.graph.inputs[0].shape) == "7x9:int64"
    assert errors(report) == [("wrong-dtype", 6, 1)]  # seed_rf's first conv


@pytest.mark.parametrize("text, expected", [
    ("input 128:int8\nidentity\n", ("invalid-input", 1, 7)),  # int8 is a --dtype, not an input type
    ("input 128:\nidentity\n", ("invalid-input", 1, 7)),
    ("input ids=128:long\nidentity from=ids\n", ("invalid-input", 1, 7)),
    ("input 128:int64\nrelu\n", ("wrong-dtype", 2, 1)),
    ("input 128:bool\nlinear out=4\n", ("wrong-dtype", 2, 1)),
    ("input 3x8x8:int32\nconv out=4 k=3\n", ("wrong-dtype", 2, 1)),
    ("input 3x8x8:int64\nmaxpool k=2\n", ("wrong-dtype", 2, 1)),
])
def test_bad_dtypes_are_positioned_errors(text: str, expected: tuple[str, int, int]) -> None:
    assert errors(text_spec(text)) == [expected]


def test_the_wrong_dtype_message_says_what_to_do() -> None:
    [diag] = text_spec("input 128:int64\nrelu\n").diagnostics
    assert diag.message == ("layer 'relu_1' (relu) on 128:int64: it computes on floats, not integers: "
                            "token ids go through an embedding first")


@pytest.mark.parametrize("text, dtype", [
    ("input a=4x4:int64 b=4x4:int64\nadd from=a,b\n", "int64"),  # integers stay integers
    ("input a=4x4:int64 b=4x4\nadd from=a,b\n", "float32"),  # int + float promotes, as torch
    ("input a=4x4:int32 b=4x4:float16\nconcat from=a,b\n", "float16"),
])
def test_merges_promote_as_pytorch(text: str, dtype: str) -> None:
    report = text_spec(text)
    assert report.shapes[report.graph.layers[-1].name].dtype == dtype


def test_integer_tensors_count_their_own_bytes_and_floats_follow_the_dtype_option() -> None:
    report = text_spec("input ids=128:int64 mask=128:bool x=128\nidentity from=ids\nidentity from=mask\n"
                       "identity from=x\n")
    records = report.as_records(batch=2, dtype="float16")
    assert [layer["activation_bytes"] for layer in records["layers"]] == [128 * 8 * 2, 128 * 1 * 2, 128 * 2 * 2]
    assert records["totals"]["input_bytes"] == (128 * 8 + 128 + 128 * 2) * 2
    assert records["input_dtypes"] == {"ids": "int64", "mask": "bool"}
    assert [layer.get("dtype") for layer in records["layers"]] == ["int64", "bool", None]


def test_embeddings_read_int64_or_int32_ids_not_bool() -> None:
    assert errors(text_spec("input 4x16:bool\nembedding num=2 dim=3\n")) == [("wrong-dtype", 2, 1)]
    assert errors(text_spec("input 16:int32\nembedding num=2 dim=3\n")) == []


def test_concat_of_integers_promotes_to_the_widest() -> None:
    report = text_spec("input b=6:int32 c=6:bool\nconcat dim=1 from=c,b\n")
    assert str(report.shapes["concat_1"]) == "12:int32"


def test_an_input_option_without_a_type_keeps_the_spec_s() -> None:
    report = analyze("lstm_classifier", ["400"])
    assert errors(report) == [] and str(report.graph.inputs[0].shape) == "400:int64"


def test_the_footer_says_ids_count_in_their_own_type() -> None:
    from netcalc.cli.render.formats import totals_footer

    records = text_spec("input 128:int64\nembedding num=10 dim=4\n").as_records()
    label, value = next(note for note in totals_footer(records) if note[0].startswith("Input size"))
    assert (label, value) == ("Input size (batch 1, float32; ids and masks in their own types)", "1.02 KB")
