"""Receptive fields where positions move between axes (v2): token ids hold positions on
every axis, an embedding adds a feature axis, permute/transpose/reshape move them, and a
layer is `global` only when it mixes an axis that holds positions, not a token's features.
Hand-checked: a k3 window adds 2, a k3 d2 window adds 4; attention and recurrence read all."""

from __future__ import annotations

import pytest

from netcalc.core.api import findings

from helpers import text_spec

SEQUENCE = """\
input 128:int64
embedding num=100 dim=32
transpose dims=1,2 name=channels
conv out=32 k=3 p=1 name=c1
conv out=32 k=3 p=1 d=2 name=c2
transpose dims=1,2 name=tokens
linear out=32 name=fc
ln name=norm
softmax dim=-1 name=probs
lstm hidden=16 name=rnn
"""


def fields(spec: str) -> dict[str, tuple[str, bool]]:
    report = text_spec(spec)
    assert report.ok, [str(d) for d in report.diagnostics]
    return {name: ("x".join(map(str, f.size)), f.is_global) for name, f in report.fields.items() if f is not None}


@pytest.mark.parametrize("layer, expected", [
    ("embedding_1", ("1", False)),
    ("c1", ("3", False)),  # a Conv1d over the sequence, once the features are its channels
    ("c2", ("7", False)),  # 3 + 2*2
    ("tokens", ("7", False)),
    ("fc", ("7", False)),  # a linear layer on a token's features reads one position
    ("norm", ("7", False)),  # so does a layer norm over them
    ("probs", ("7", False)),  # and a softmax over them
    ("rnn", ("128", True)),  # recurrence reads the whole prefix: global, the whole sequence
])
def test_a_token_sequence_keeps_its_positions_through_layout_ops(layer: str, expected: tuple[str, bool]) -> None:
    assert fields(SEQUENCE)[layer] == expected


@pytest.mark.parametrize("spec, layer, expected", [
    # ConvNeXt's block: channels last for the norm and the linears, positions untouched
    ("input 8x32x32\nconv out=8 k=7 p=3 g=8\npermute dims=0,2,3,1\nln\nlinear out=32\nlinear out=8\n"
     "permute dims=0,3,1,2 name=back\n", "back", ("7x7", False)),
    # v1 as before: a linear layer on a map's width, a layer norm over it, reach everything
    ("input 8x32x32\nconv out=8 k=3\nlinear out=4 name=fc\n", "fc", ("32x32", True)),
    ("input 8x32x32\nconv out=8 k=3\nln name=norm\n", "norm", ("3x3", True)),
    ("input 8x32x32\ngap\nflatten\nlinear out=4 name=fc\n", "fc", ("32x32", True)),
    # a grid of ids: both axes hold positions, the embedding's features go first for the conv
    ("input 16x16:int32\nembedding num=10 dim=4\npermute dims=0,3,1,2\nconv out=4 k=3 name=c\n", "c",
     ("3x3", False)),
    # a window over a flattened map mixes rows: no local path
    ("input 4x8x8\nreshape shape=4x64\nconv out=4 k=3 name=c\n", "c", ("8x8", True)),
    # ViT's patches: 16 x 16 windows, then attention over them all
    ("input 3x64x64\nconv out=32 k=16 s=16 name=patches\nreshape shape=32x16\npermute dims=0,2,1 name=tokens\n"
     "mha heads=4 name=attention\n", "tokens", ("16x16", False)),
    ("input 3x64x64\nconv out=32 k=16 s=16 name=patches\nreshape shape=32x16\npermute dims=0,2,1 name=tokens\n"
     "mha heads=4 name=attention\n", "attention", ("64x64", True)),
])
def test_fields_follow_the_axes_that_hold_positions(spec: str, layer: str, expected: tuple[str, bool]) -> None:
    assert fields(spec)[layer] == expected


@pytest.mark.parametrize("spec, warned", [
    ("input 197x768\nlinear out=3072\n", True),  # a float input is channels first (v1): 768 is a length
    ("input 128:int64\nembedding num=10 dim=8\nlinear out=4\n", False),
    ("input 8x7x7\npermute dims=0,2,3,1\nlinear out=4\n", False),  # channels last
    ("input 512x7x7\ngap\nlinear out=10\n", True),  # the classic slip: no flatten
    ("input 8x4x4\nreshape shape=8x16\nlinear out=4\n", True),  # a flattened map's positions
])
def test_linear_on_spatial_warns_only_where_the_last_axis_holds_positions(spec: str, warned: bool) -> None:
    found = [d.id for d in findings(text_spec(spec), spec, {}, None)]
    assert ("linear-on-spatial" in found) == warned


@pytest.mark.parametrize("layer, reads", [
    ("input 8:int64\nembedding num=10 dim=4 name=e\nsdpa heads=2 causal=true from=e,e,e name=x\n", "prefix"),
    ("input 8:int64\nembedding num=10 dim=4 name=e\nsdpa heads=2 from=e,e,e name=x\n", "yes"),
    ("input 8:int64\nembedding num=10 dim=4\ngru hidden=4 name=x\n", "prefix"),
    ("input 8:int64\nembedding num=10 dim=4\ngru hidden=4 bidirectional=true name=x\n", "yes"),
])
def test_causal_layers_say_they_read_the_prefix(layer: str, reads: str) -> None:
    from netcalc.cli.render.formats import lookup

    record = next(r for r in text_spec(layer).as_records()["layers"] if r["name"] == "x")
    assert record["rf"]["global"] and record["rf"]["size"] == [8]
    assert lookup(record, "rf.global") == (reads if reads == "prefix" else True)


@pytest.mark.parametrize("spec, layer, expected", [
    # back to front along the sequence: a k3 d2 window reads 5 units, then a k3 one 7 positions
    (SEQUENCE, "c2", {"input": (7,), "embedding_1": (7,), "channels": (7,), "c1": (5,), "c2": (1,)}),
    # attention reads every position, wherever the features are
    ("input 12:int64\nembedding num=10 dim=5 name=e\nmha heads=1 name=a\n", "a",
     {"input": (12,), "e": (12,), "a": (1,)}),
])
def test_regions_from_back_follow_the_sequence(spec: str, layer: str, expected: dict[str, tuple[int, ...]]) -> None:
    from netcalc.core.analysis.receptive_field import regions_from_back

    report = text_spec(spec)
    assert regions_from_back(report.graph, report.shapes, layer, 1) == expected
