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


# Token and recurrent networks: parameters as the reference implementation counts them
# (HuggingFace's GPT2LMHeadModel, tied lm_head counted once, and BertModel with its pooler),
# MACs by hand as each spec's header derives them, attention products Q·Kᵀ and A·V included.
SEQUENCE_NETS = {
    # GPT-2 small at 1024 tokens: per block the four linears 1024*768*(2304+768+3072+3072)
    # and attention 2*1024*1024*768, 12 blocks, plus the tied head 1024*768*50257
    "gpt2": (124_439_808, 145_824_153_600,
             12 * (1024 * 768 * (2304 + 768 + 3072 + 3072) + 2 * 1024 * 1024 * 768) + 1024 * 768 * 50257),
    # BERT-base at 128 tokens: per layer q, k, v, attention.output, intermediate and output
    # 128*768*(4*768+3072+3072) and attention 2*128*128*768, 12 layers, plus the pooler 768*768
    "bert_base": (109_482_240, 11_174_215_680,
                  12 * (128 * 768 * (4 * 768 + 3072 + 3072) + 2 * 128 * 128 * 768) + 768 * 768),
    # 2-layer bidirectional LSTM, hidden 256, on 200 embeddings of 128: per step and direction
    # 4 gates x (input + hidden) x hidden, the second layer reading 512; fc 512*2
    "lstm_classifier": (4_928_514, 471_860_224,
                        200 * 2 * (4 * (128 + 256) * 256 + 4 * (512 + 256) * 256) + 512 * 2),
}
SEQUENCE_PARAMS = {
    "gpt2": 50257 * 768 + 1024 * 768 + 12 * (4 * 768 + 768 * 2304 + 2304 + 768 * 768 + 768 + 768 * 3072 + 3072
                                            + 3072 * 768 + 768) + 2 * 768,
    "bert_base": (30522 + 512 + 2) * 768 + 2 * 768 + 12 * (4 * (768 * 768 + 768) + 4 * 768 + 768 * 3072 + 3072
                                                        + 3072 * 768 + 768) + 768 * 768 + 768,
    "lstm_classifier": 20000 * 128 + 2 * (4 * 256 * (128 + 256) + 8 * 256) + 2 * (4 * 256 * (512 + 256) + 8 * 256)
    + 512 * 2 + 2,
}


@pytest.mark.parametrize("name", sorted(SEQUENCE_NETS))
def test_sequence_network_figures(name: str) -> None:
    params, macs, by_hand = SEQUENCE_NETS[name]
    assert params == SEQUENCE_PARAMS[name] and macs == by_hand
    report = analyze(name)
    totals = report.totals()
    assert (totals["params"], totals["macs"]) == (params, macs)
    assert totals["trainable_params"] == params and totals["buffers"] == 0


def test_gpt2_head_is_tied_to_the_token_embedding() -> None:
    report = analyze("gpt2")
    head = next(layer for layer in report.graph.layers if layer.name == "lm_head")
    assert head.shares == "transformer.wte" and report.costs["lm_head"].params == 0
    assert report.costs["transformer.wte"].params == 50257 * 768
    assert str(report.shapes["transformer.h.11.attn.c_attn"]) == "1024x2304"


def test_bert_base_at_its_full_context() -> None:
    """Parameters do not depend on the sequence; MACs at 512 tokens as the spec's header says."""
    report = analyze("bert_base", [f"{name}=512:int64" for name in ("input_ids", "token_type_ids", "position_ids")])
    totals = report.totals()
    assert totals["params"] == 109_482_240
    assert totals["macs"] == 12 * (512 * 768 * 9216 + 2 * 512 * 512 * 768) + 768 * 768 == 48_318_971_904


@pytest.mark.parametrize("name", sorted(builtin_specs()))
def test_builtin_spec_is_valid_and_meets_its_own_checks(name: str) -> None:
    report = analyze(name)
    assert report.ok and not report.diagnostics
    expected = report.graph.checks.get("output")
    if expected is not None:
        assert tuple(report.shapes[name].dims for name in report.graph.outputs) == expected[0]


def test_zoo_holds_the_promised_specs() -> None:
    assert {"resnet18", "resnet34", "resnet50", "vgg16", "alexnet", "mobilenet_v2", "unet", "seed_deconv",
            "seed_rf", "mobilenet_v3_large", "efficientnet_b0", "shufflenet_v2_x1_0", "convnext_tiny",
            "vit_b_16", "gpt2", "bert_base", "lstm_classifier"} <= set(builtin_specs())


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
