"""Receptive fields: hand-checked rules, the seed notes' example both ways, and fields
measured with torch gradients."""

from __future__ import annotations

from fractions import Fraction

import pytest

from netcalc.core.analysis.receptive_field import regions_from_back
from netcalc.core.api import analyze

from helpers import text_spec


def field(report, name: str):  # type: ignore[no-untyped-def]
    f = report.fields[name]
    return f.size[0], f.jump[0], f.start[0], f.padding[0]


def test_seed_000_two_convs_front_to_back() -> None:
    """Seed note 000: r = 1*2 + (3-2) = 3, then 3*2 + (3-2) = 7; S = 2*2 = 4;
    P = floor(r/2 - 0.5) = 3: the pair equals one k7 s4 p3 convolution."""
    report = analyze("seed_rf")
    assert field(report, "conv1") == (3, 2, 0, 1)
    assert field(report, "conv2") == (7, 4, 0, 3)


def test_seed_000_two_convs_back_to_front() -> None:
    """Seed note 000: RF(n-1) = (RF(n) - 1)*S + kernel: 1 unit of conv2 covers 3 units of
    conv1's output and 7 input pixels."""
    report = analyze("seed_rf")
    assert regions_from_back(report.graph, report.shapes, "conv2", 1) == {
        "conv2": (1, 1),
        "conv1": (3, 3),
        "input": (7, 7),
    }


def test_seed_002_coordinate_mapping_formula() -> None:
    """Seed note 002: p_i = s_i * p_(i+1) + ((k_i - 1)/2 - padding_i): the start recurrence."""
    report = text_spec("input 1x32x32\nconv out=1 k=5 s=2 p=1 name=a\nconv out=1 k=3 s=3 p=0 name=b\n")
    # unit 0 of b sits at unit (3-1)/2 - 0 = 1 of a, which sits at pixel 2*1 + (5-1)/2 - 1 = 3
    assert field(report, "b")[2] == 3


# (input, layers, layer, size, jump, start), all hand-checked with r += e*j, start += c*j, j *= s
RULES = [
    ("1x9x9", "conv out=1 k=3 d=2 p=2", "conv_1", 5, 1, 0),                        # k_eff = 5
    ("1x8x8", "conv out=1 k=3 s=2 p=same", "conv_1", 3, 2, 1),                     # pads 0+1 on 8: start 1 - 0
    ("1x7x7", "conv out=1 k=3 s=2 p=same", "conv_1", 3, 2, 0),                     # pads 1+1: start 1 - 1
    ("1x6x6", "conv out=1 k=4 s=2 p=same", "conv_1", 4, 2, Fraction(1, 2)),        # pads 1+1: 3/2 - 1
    ("1x8x8", "conv out=1 k=3 p=[[2,0],[2,0]]", "conv_1", 3, 1, -1),               # 1 - 2
    ("1x8x8", "maxpool k=2", "maxpool_1", 2, 2, Fraction(1, 2)),
    ("1x8x8", "convT out=1 k=3 s=2 p=1", "convT_1", 2, Fraction(1, 2), 0),         # 1 or 2 inputs per output
    ("1x8x8", "convT out=1 k=2 s=2", "convT_1", 1, Fraction(1, 2), Fraction(-1, 4)),  # units 0, 1 read input 0
    ("1x8x8", "upsample scale=2", "upsample_1", 1, Fraction(1, 2), Fraction(-1, 4)),
    ("1x8x8", "upsample scale=2 mode=bilinear", "upsample_1", 2, Fraction(1, 2), Fraction(-1, 4)),  # src o/2 - 1/4
    ("1x9x9", "upsample scale=3 mode=bilinear", "upsample_1", 2, Fraction(1, 3), Fraction(-1, 3)),
    ("1x13x13", "adaptiveavgpool out=6", "adaptiveavgpool_1", 3, Fraction(13, 6), Fraction(7, 12)),  # bins 0-2, 2-4, ..
    ("1x8x8", "pad p=2\nconv out=1 k=3", "conv_1", 3, 1, -1),
]


@pytest.mark.parametrize(
    "shape, layers, name, size, jump, start", RULES, ids=[r[1].split()[0] + "-" + str(i) for i, r in enumerate(RULES)]
)
def test_window_rule(shape: str, layers: str, name: str, size: int, jump: Fraction, start: Fraction) -> None:
    report = text_spec(f"input {shape}\n{layers}\n")
    assert field(report, name)[:3] == (size, jump, start)


def test_global_pooling_and_linear_see_the_whole_input() -> None:
    report = analyze("resnet18")
    assert report.fields["layer4.1.relu_2"].size == (435, 435) and not report.fields["layer4.1.relu_2"].is_global
    for name in ("avgpool", "flatten_1", "fc"):
        f = report.fields[name]
        assert f.is_global and not f.local and f.size == (224, 224)


def test_gated_merge_keeps_the_local_path_and_is_flagged_global() -> None:
    spec = """\
input: 8x16x16
layers:
  - conv out=8 k=3 p=1 name=x
  - gap
  - conv out=2 k=1
  - relu
  - conv out=8 k=1
  - sigmoid
  - {mul: {}, from: [x, -1], name: gate}
  - gn groups=2 name=norm
"""
    from helpers import yaml_spec

    report = yaml_spec(spec)
    assert report.ok
    gate, norm = report.fields["gate"], report.fields["norm"]
    assert gate.size == (3, 3) and gate.is_global and gate.local
    assert norm.size == (3, 3) and norm.is_global


def test_misaligned_merge_is_a_warning_naming_the_branches_and_offset() -> None:
    report = text_spec("input 4x8x8\nmaxpool k=2 name=a\nconv out=4 k=3 s=2 p=1 from=input name=b\nadd from=a,b\n")
    assert report.ok
    assert [(d.id, d.span.line) for d in report.diagnostics] == [("misaligned-merge", 4)]
    assert "'a' and 'b'" in report.diagnostics[0].message and "-1/2" in report.diagnostics[0].message


def test_aligned_unet_merges_do_not_warn() -> None:
    assert not analyze("unet").diagnostics


def test_seed_002_coordinate_mapping_both_ways() -> None:
    """Seed note 002, p_i = s_i * p_(i+1) + ((k_i - 1)/2 - padding_i): unit 1 of conv2 sits
    at unit 2*1 + 0 = 2 of conv1, at pixel 2*2 + 0 = 4; its window spans pixels 1..7."""
    from netcalc.core.report import mapping

    report = analyze("seed_rf")
    unit = mapping(report, "conv2", (1, 1), None)["layers"][0]
    assert (unit["start"], unit["end"], unit["centre"], unit["clipped"]) == (1, 7, 4, [1, 4])
    pixel = mapping(report, "conv2", None, (4, 0))["layers"]
    assert [(p["units"], p["nearest"]) for p in pixel] == [([1, 1], 1), ([0, 0], 0)]


def test_map_through_a_transposed_convolution() -> None:
    """Units 0 and 1 of a k2 s2 transposed convolution both read input unit 0."""
    from netcalc.core.report import mapping

    report = text_spec("input 1x8x8\nconv out=1 k=3 p=1\nconvT out=1 k=2 s=2 name=up\n")
    rows = [mapping(report, "up", (o, o), None)["layers"][0] for o in range(3)]
    assert [(r["start"], r["end"]) for r in rows] == [(-1, 1), (-1, 1), (0, 2)]


def test_map_cli_errors() -> None:
    from typer.testing import CliRunner

    from netcalc.cli.app import app

    runner = CliRunner()
    assert runner.invoke(app, ["map", "seed_rf", "--layer", "conv2", "--at", "5,1"]).exit_code == 2
    assert runner.invoke(app, ["map", "seed_rf", "--layer", "conv2"]).exit_code == 2
    assert runner.invoke(app, ["map", "seed_rf", "--layer", "conv2", "--at", "a,b"]).exit_code == 2
    ok = runner.invoke(app, ["map", "seed_rf", "--layer", "conv2", "--pixel", "4,0", "-f", "csv"])
    assert ok.exit_code == 0 and ok.stdout.splitlines()[1] == "axis 0,4,1..1,1"


# (spec, --layer, the layer read, the note): block uses are layers (their last layer), and
# without --layer a classifier is read back from its last map
WINDOW_TARGETS = [
    ("resnet18", None, "avgpool", "the output fc (1000) has no spatial axes: from avgpool, the last that has"),
    ("resnet18", "layer4", "layer4.1.relu_2", "layer4 is a block: its output is its last layer, layer4.1.relu_2"),
    ("resnet18", "layer4.0", "layer4.0.relu_2", "layer4.0 is a block: its output is its last layer, layer4.0.relu_2"),
    ("resnet18", "layer1.0.conv1", "layer1.0.conv1", None),
    ("seed_rf", None, "conv2", None),
    ("unet", None, "outc", None),
]


@pytest.mark.parametrize("spec, name, layer, note", WINDOW_TARGETS)
def test_window_target(spec: str, name: str | None, layer: str, note: str | None) -> None:
    assert analyze(spec).window_target(name) == (layer, note)


@pytest.mark.parametrize("name, problem", [
    ("fc", "layer 'fc' has no spatial axes (1000)"),
    ("layer9", "no layer 'layer9' in resnet18; did you mean 'layer4'?"),
    ("input", "no layer 'input' in resnet18"),
])
def test_window_target_problems(name: str, problem: str) -> None:
    import re

    with pytest.raises(ValueError, match=f"^{re.escape(problem)}$"):
        analyze("resnet18").window_target(name)


@pytest.mark.parametrize("spec", ["resnet18", "resnet50", "vgg16", "alexnet", "mobilenet_v2", "unet", "seed_rf",
                                  "seed_deconv", "tf-slim/vgg_16", "tf-slim/resnet_v1_50"])
def test_rf_from_back_works_on_every_builtin(spec: str) -> None:
    from typer.testing import CliRunner

    from netcalc.cli.app import app

    result = CliRunner().invoke(app, ["rf", spec, "--from-back", "--format", "json"])
    assert result.exit_code == 0, result.output


# map follows the positions a token sequence holds, wherever layout ops put them; a causal
# layer's unit i reads positions 0..i (hand-checked: a k3 s2 conv's unit 2 reads 4..6)
TOKENS = "input 16:int64\nembedding num=100 dim=32 name=wte\n"


@pytest.mark.parametrize("spec, layer, at, box", [
    (TOKENS + "transpose dims=1,2\nconv out=8 k=3 s=2 name=x\n", "x", 2, (4, 6)),
    (TOKENS + "transpose dims=1,2\nconv out=8 k=3 s=2\ntranspose dims=1,2\nlinear out=4 name=x\n", "x", 3, (6, 8)),
    (TOKENS + "sdpa heads=4 causal=true from=wte,wte,wte name=x\n", "x", 3, (0, 3)),
    (TOKENS + "lstm hidden=8 name=x\n", "x", 5, (0, 5)),
    (TOKENS + "lstm hidden=8 bidirectional=true name=x\n", "x", 5, (0, 15)),
    (TOKENS + "mha heads=4 name=x\n", "x", 0, (0, 15)),
])
def test_map_follows_a_token_sequence(spec: str, layer: str, at: int, box: tuple[int, int]) -> None:
    from netcalc.core.report import mapping

    row = mapping(text_spec(spec), layer, (at,), None)["layers"][0]
    assert (row["start"], row["end"]) == box


def test_map_finds_the_units_of_a_causal_layer_that_see_a_position() -> None:
    from netcalc.core.report import mapping

    report = text_spec(TOKENS + "sdpa heads=4 causal=true from=wte,wte,wte name=x\n")
    assert mapping(report, "x", None, (3,))["layers"][0]["units"] == [3, 15]
