"""Built-in specs reproduce published figures and the seed notes' worked examples."""

from __future__ import annotations

import pytest

from netcalc.core.api import analyze, builtin_specs

# torchvision's published figures at 3x224x224: parameters (exact) and GFLOPS, which are MACs
PUBLISHED = {
    "resnet18": (11_689_512, "1.814"),
    "resnet34": (21_797_672, "3.664"),
    "resnet50": (25_557_032, "4.089"),
    "vgg16": (138_357_544, "15.47"),
    "alexnet": (61_100_840, "0.714"),
    "mobilenet_v2": (3_504_872, "0.301"),
    "convnext_tiny": (28_589_128, "4.456"),
    "efficientnet_b0": (5_288_548, "0.386"),
    "mobilenet_v3_large": (5_483_032, "0.217"),
    "shufflenet_v2_x1_0": (2_278_604, "0.145"),
    "vit_b_16": (86_567_656, "17.56"),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_torchvision_published_figures(name: str) -> None:
    params, gmacs = PUBLISHED[name]
    totals = analyze(name).totals()
    assert totals["params"] == params
    digits = len(gmacs.replace(".", "").lstrip("0"))  # as many significant digits as published
    assert f"{totals['macs'] / 1e9:.{digits}g}" == f"{float(gmacs):.{digits}g}"


@pytest.mark.parametrize("name", sorted(builtin_specs()))
def test_builtin_spec_is_valid_and_meets_its_own_checks(name: str) -> None:
    report = analyze(name)
    assert report.ok and not report.diagnostics
    expected = report.graph.checks.get("output")
    if expected is not None:
        assert report.shapes[report.graph.output].dims == expected[0]


def test_zoo_holds_the_promised_specs() -> None:
    assert {"resnet18", "resnet34", "resnet50", "vgg16", "alexnet", "mobilenet_v2", "unet", "seed_deconv",
            "seed_rf", "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0", "convnext_tiny",
            "vit_b_16"} <= set(builtin_specs())


def test_seed_000_snippet_network() -> None:
    """Seed note 000's PyTorch snippet: 2x7x7 -> 4x7x7 -> 8x3x3 -> 16x5x5."""
    report = analyze("seed_deconv")
    assert [str(report.shapes[layer.name]) for layer in report.graph.layers] == ["4x7x7", "8x3x3", "16x5x5"]


def test_seed_000_two_convs_sizes() -> None:
    """Seed note 000: (5 - 3 + 2*1)/2 + 1 = 3, then (3 - 3 + 2*1)/2 + 1 = 2."""
    report = analyze("seed_rf")
    assert [str(report.shapes[layer.name]) for layer in report.graph.layers] == ["1x3x3", "1x2x2"]


def test_seed_004_params_and_macs_formulas() -> None:
    """Seed note 004: params (Cin*K*K + 1)*Cout, MACs Cin*K*K*Hout*Wout*Cout, FLOPs twice that
    (plus the bias adds, which netcalc counts)."""
    report = analyze("seed_deconv")
    conv1 = report.costs["conv1"]
    cin, k, cout, hout, wout = 2, 3, 4, 7, 7
    assert conv1.params == (cin * k * k + 1) * cout
    assert conv1.macs == cin * k * k * hout * wout * cout
    assert conv1.flops == 2 * conv1.macs + cout * hout * wout


def test_seed_002_convolutionalized_fc_has_the_same_parameters() -> None:
    """Seed note 002: AlexNet's fc6 on 256x6x6 equals a 6x6 convolution with as many parameters."""
    from helpers import text_spec

    fc = text_spec("input 256x6x6\nflatten\nfc out=4096\n")
    conv = text_spec("input 256x6x6\nconv out=4096 k=6\n")
    assert fc.total().params == conv.total().params == 256 * 36 * 4096 + 4096
    assert fc.total().macs == conv.total().macs
    assert str(conv.shapes["conv_1"]) == "4096x1x1"


# Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural Networks"
# (Distill, 2019), table of TF-slim networks: (size, effective stride, effective padding)
DISTILL = {
    ("tf-slim/alexnet_v2", "pool5"): {224: (195, 32, 64)},
    ("tf-slim/vgg_16", "pool5"): {224: (212, 32, 90)},
    ("tf-slim/mobilenet_v1", "Conv2d_13.relu6_2"): {224: (315, 32, 126), 321: (315, 32, 157)},
    ("tf-slim/resnet_v1_50", "block4.unit_3.relu_2"): {224: (483, 32, 239), 321: (483, 32, 241)},
}


@pytest.mark.parametrize("spec, layer, size", [(s, item, n) for (s, item), sizes in DISTILL.items() for n in sizes])
def test_distill_receptive_field_table(spec: str, layer: str, size: int) -> None:
    report = analyze(spec, [f"3x{size}x{size}"])
    field = report.fields[layer]
    expected = DISTILL[spec, layer][size]
    assert (field.size, field.jump, field.padding) == tuple((v, v) for v in expected)
