"""The spec format contract (shared/spec-format.md): wiring, names, blocks, expressions,
and every kind of invalid input reported at its (id, line, col)."""

from __future__ import annotations

import pytest

from helpers import errors, text_spec, yaml_spec


def names(report) -> list[str]:  # type: ignore[no-untyped-def]
    return [layer.name for layer in report.graph.layers]


def shape(report, name: str) -> str:  # type: ignore[no-untyped-def]
    return str(report.shapes[name])


RESNET_BLOCK_YAML = """\
input: 3x32x32
blocks:
  basic:
    args: {out: null, s: 1}
    layers:
      - conv out=$out k=3 s=$s p=1 bias=false name=conv1
      - bn
      - relu
      - conv out=$out k=3 p=1 bias=false name=conv2
      - bn
      - {add: {}, from: [in, -1]}
      - relu
layers:
  - conv out=16 k=3 p=1 bias=false name=stem
  - basic out=16 repeat=2 name=layer1
  - {conv: {out: 32, k: 3, s: 2, p: 1}, name: down}
  - relu
"""

RESNET_BLOCK_TEXT = """\
input 3x32x32
block basic out s=1
  conv out=$out k=3 s=$s p=1 bias=false name=conv1
  bn
  relu
  conv out=$out k=3 p=1 bias=false name=conv2
  bn
  add from=in,-1
  relu
conv out=16 k=3 p=1 bias=false name=stem
basic out=16 repeat=2 name=layer1
conv out=32 k=3 s=2 p=1 name=down
relu
"""


def test_yaml_and_text_give_the_same_graph() -> None:
    from_yaml, from_text = yaml_spec(RESNET_BLOCK_YAML), text_spec(RESNET_BLOCK_TEXT)
    assert from_yaml.ok and from_text.ok
    def strip(r):  # type: ignore[no-untyped-def]
        return [(layer.name, layer.op, dict(layer.attrs), layer.inputs, layer.block_path) for layer in r.graph.layers]

    assert strip(from_yaml) == strip(from_text)


def test_qualified_names_follow_pytorch_module_paths() -> None:
    report = yaml_spec(RESNET_BLOCK_YAML)
    assert names(report)[:8] == [
        "stem", "layer1.0.conv1", "layer1.0.bn_1", "layer1.0.relu_1", "layer1.0.conv2", "layer1.0.bn_2",
        "layer1.0.add_1", "layer1.0.relu_2",
    ]
    assert "layer1.1.conv1" in names(report)
    assert names(report)[-2:] == ["down", "relu_1"]
    assert report.graph.layers[1].block_path == ("layer1", "layer1.0")


def test_block_input_and_previous_layer_wire_the_skip() -> None:
    report = yaml_spec(RESNET_BLOCK_YAML)
    add = next(layer for layer in report.graph.layers if layer.name == "layer1.1.add_1")
    assert add.inputs == ("layer1.0.relu_2", "layer1.1.bn_2")


def test_repeated_plain_layer_and_dollar_i() -> None:
    report = text_spec("input 1x8x8\nconv out=2**($i+1) k=1 repeat=3 name=c\n")
    assert names(report) == ["c.0", "c.1", "c.2"]
    assert [shape(report, n) for n in names(report)] == ["2x8x8", "4x8x8", "8x8x8"]


def test_repeated_block_with_dollar_i_at_the_call_site() -> None:
    report = text_spec("input 4x64\nblock gated d\n  conv out=4 k=3 d=$d p=$d\n  relu\ngated d=2**$i repeat=3 name=l\n")
    assert [dict(layer.attrs)["d"] for layer in report.graph.layers if layer.op == "conv"] == [1, 2, 4]
    assert names(report)[0] == "l.0.conv_1"


def test_dollar_in_is_the_block_input_channels() -> None:
    report = text_spec("input 6x4x4\nblock widen\n  conv out=$in*2 k=1\nwiden\nwiden\n")
    assert shape(report, names(report)[-1]) == "24x4x4"


def test_expressions() -> None:
    report = text_spec("input 3x9x9\nblock b k w\n  conv out=$w*4-(1+1)**2 k=$k p=$k//2 s=7%5\nb k=5 w=3\n")
    layer = report.graph.layers[0]
    assert (dict(layer.attrs)["out"], dict(layer.attrs)["p"], dict(layer.attrs)["s"]) == (8, 2, 2)


def test_if_drops_a_layer_which_passes_its_first_input_through() -> None:
    spec = """\
input: 8x8x8
blocks:
  block:
    args: {down: false}
    layers:
      - conv out=8 k=3 p=1 name=conv
      - {conv: {out: 8, k: 1}, from: in, if: $down, name: shortcut}
      - {add: {}, from: [conv, shortcut]}
layers:
  - block name=a
  - block down=true name=b
"""
    report = yaml_spec(spec)
    assert names(report) == ["a.conv", "a.add_1", "b.conv", "b.shortcut", "b.add_1"]
    assert report.graph.layers[1].inputs == ("a.conv", "input")


def test_multi_input_block_and_named_inputs() -> None:
    spec = """\
input: {img: 3x16x16, skip: 5x32x32}
blocks:
  up:
    inputs: [x, skip]
    layers:
      - upsample scale=2
      - {concat: {}, from: [skip, -1]}
layers:
  - conv out=4 k=1 from=img
  - {up: {}, from: [-1, skip], name: u}
"""
    report = yaml_spec(spec)
    assert report.ok
    assert shape(report, "u.concat_1") == "9x32x32"


def test_numeric_names_and_from_by_name_or_offset() -> None:
    report = text_spec("input 3x8x8\nconv out=4 k=1 name=0\nrelu name=1\nadd from=0,-1 name=2\n")
    assert report.graph.layers[-1].inputs == ("0", "1")


def test_from_input_by_name() -> None:
    report = text_spec("input 3x8x8\nconv out=3 k=1\nadd from=input,-1\n")
    assert report.graph.layers[-1].inputs == ("input", "conv_1")


def test_check_section_in_both_syntaxes() -> None:
    y = yaml_spec(
        "input: 3x8x8\nlayers: [relu]\ncheck: {max_params: 12M, max_macs: 2G, min_rf: 7, output: [3, 8, 8]}\n"
    )
    t = text_spec("input 3x8x8\nrelu\ncheck max_params=12M max_macs=2G min_rf=7 output=3x8x8\n")
    values = lambda r: {k: v for k, (v, _) in r.graph.checks.items()}  # noqa: E731
    expected = {"max_params": 12_000_000, "max_macs": 2 * 10**9, "min_rf": 7, "output": ((3, 8, 8),)}  # one output
    assert values(y) == values(t) == expected


def test_comments_and_name_default_to_file_stem() -> None:
    report = text_spec("# a comment\ninput 3x8x8  # trailing\nrelu # after a layer\n")
    assert report.ok and report.graph.name == "spec"


def test_unused_branch_is_a_warning() -> None:
    report = text_spec("input 3x8x8\nconv out=3 k=1 name=a\nconv out=3 k=1 from=input name=b\n")
    assert report.ok
    assert [(d.id, d.span.line) for d in report.diagnostics] == [("unused-layer", 2)]


def test_input_override() -> None:
    from netcalc.core.api import analyze_source

    report = analyze_source("input 3x8x8\nconv out=2 k=3\n", "s.net", "s", ["3x16x16"])
    assert shape(report, "conv_1") == "2x14x14"


# (spec, file suffix, expected errors as (id, line, col))
INVALID = [
    ("input: 3x8x8\nlayers:\n  - conv out=4 k=3\n  - [unclosed\n", "yaml", [("yaml-syntax", 5, 1)]),
    ("input 3x8x8\ncnov out=4 k=3\n", "net", [("unknown-type", 2, 1)]),
    ("input 3x8x8\nconv out=4 k=3 stride=1 s=2\n", "net", [("duplicate-argument", 2, 25)]),
    ("input 3x8x8\nconv out=4 k=3 bogus=1\n", "net", [("unknown-argument", 2, 16)]),
    ("input 3x8x8\nconv k=3\n", "net", [("missing-argument", 2, 1)]),
    ("input 3x8x8\nconv out=four k=3\n", "net", [("invalid-argument", 2, 6)]),
    ("input 3x8x8\nconv out=4 k=3 from=nowhere\n", "net", [("unknown-reference", 2, 1)]),
    ("input 3x8x8\nconv out=4 k=3 name=a\nrelu name=a\n", "net", [("duplicate-name", 3, 1)]),
    ("input 3x8x8\nadd from=b,input name=a\nrelu name=b\n", "net", [("forward-reference", 2, 1)]),
    ("input 3x8x8\nblock a\n  b\nblock b\n  a\na\n", "net", [("block-cycle", 5, 3)]),
    ("input 3x8x8\nconv out=4 k=9\n", "net", [("kernel-exceeds-input", 2, 1)]),
    ("input 3x8x8\nconv out=4 k=3 s=0\n", "net", [("invalid-argument", 2, 16)]),
    ("input 3x8x8\nconv out=4 k=3 g=2\n", "net", [("groups-mismatch", 2, 1)]),
    ("input 3x8x8\nconv out=4 k=3 name=a\nadd from=a,input\n", "net", [("shape-mismatch", 3, 1)]),
    ("input 3x8x8\nblock b out\n  conv out=$out k=1\nb\n", "net", [("missing-argument", 4, 1)]),
    ("input 3x8x8\nblock b out\n  conv out=$out k=1\nb out=4 width=2\n", "net", [("unknown-argument", 4, 9)]),
    ("input 3x8x8\nblock b w\n  conv out=$w/2 k=1\nb w=4\n", "net", [("invalid-expression", 3, 8)]),
    ("input 3x8x8\nblock b w\n  conv out=$w.__class__ k=1\nb w=4\n", "net", [("invalid-expression", 3, 8)]),
    ("input 3x8x8\nblock b w\n  conv out=2**2**99 k=1\nb w=4\n", "net", [("invalid-expression", 3, 8)]),
    ("input: !!python/object:os.system 3x8x8\nlayers: [relu]\n", "yaml", [("unsafe-tag", 1, 8)]),
    ("input 3x8x8\nrelu repeat=1000000000000\n", "net", [("too-large", 2, 1)]),
    ("input 3x8x8\nblock b\n  relu repeat=1000\nb repeat=1000000000\n", "net", [("too-large", 4, 1)]),
    ("layers: [relu]\n", "yaml", [("missing-input", 1, 1)]),
    ("input: 3x8x8\nlayerz: [relu]\n", "yaml", [("unknown-key", 2, 1)]),
    ("input 3x0x8\nrelu\n", "net", [("invalid-input", 1, 7)]),
    ("input 3x8x8\ncheck max_params=lots\nrelu\n", "net", [("invalid-value", 2, 7)]),
    ("input 3x8x8\nblock conv\n  relu\nrelu\n", "net", [("duplicate-block", 2, 1)]),
]


@pytest.mark.parametrize("spec, kind, expected", INVALID, ids=[e[0][0] + f"@{e[0][1]}" for _, _, e in INVALID])
def test_invalid_spec_is_reported_at_its_position(spec: str, kind: str, expected: list) -> None:
    report = yaml_spec(spec) if kind == "yaml" else text_spec(spec)
    assert errors(report) == expected


def test_absurd_nesting_is_an_error_not_a_crash() -> None:
    deep_blocks = (
        "input 3x8x8\n" + "".join(f"block b{i}\n  b{i + 1}\n" for i in range(400)) + "block b400\n  relu\nb0\n"
    )
    assert [e[0] for e in errors(text_spec(deep_blocks))] == ["too-deep"]
    deep_list = "input: 3x8x8\nlayers:\n  - conv out=1 k=1 p=" + "[" * 5000 + "]" * 5000 + "\n"
    assert errors(yaml_spec(deep_list)) == [("invalid-value", 3, 20)]
    deep_yaml = "input: 3x8x8\nlayers:\n  - {conv: {out: 1, k: 1, p: " + "[" * 5000 + "]" * 5000 + "}}\n"
    assert [e[0] for e in errors(yaml_spec(deep_yaml))] == ["too-deep"]


def test_every_error_in_a_file_is_reported() -> None:
    report = text_spec(
        "input 3x8x8\nconv out=4 kernal=3\ncnov out=2\nconv out=3 k=3 from=missing\nrelu name=x\nrelu name=x\n"
    )
    assert [e[0] for e in errors(report)] == ["unknown-argument", "unknown-type", "unknown-reference", "duplicate-name"]


def test_a_layer_after_a_broken_one_is_not_reported_again() -> None:
    report = text_spec("input 3x8x8\nconv out=4 k=30\nconv out=4 k=3\nrelu\n")
    assert errors(report) == [("kernel-exceeds-input", 2, 1)]
