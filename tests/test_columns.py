"""`--columns` on the report commands and `--types torch`: goldens, torchinfo's Param % and
Trainable, the usage error, and the PyTorch class names the exporter's code gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import assert_golden, netcalc

from netcalc.cli.options import COLUMNS

ALL = "name,type,input,shape,kernel,params,params_percent,trainable,macs,flops,activation_bytes,rf,jump"
GOLDEN_CASES = {
    "summary_seed_rf_columns.md": ("summary", "seed_rf", "--columns", ALL, "--format", "markdown"),
    "shapes_seed_rf_columns.json": ("shapes", "seed_rf", "--columns", "kernel,name,rf,input", "-f", "json"),
    "flops_seed_rf_columns.plain": ("flops", "seed_rf", "--columns", "jump,macs,name", "-f", "plain"),
    "params_resnet18_columns_torch.csv": ("params", "resnet18", "--depth", "2", "--types", "torch", "--columns",
                                          "name,type,input,kernel,params,params_percent,trainable", "-f", "csv"),
    "summary_resnet18_columns_depth1.txt": ("summary", "resnet18", "--depth", "1", "--columns",
                                            "name,type,input,shape,kernel,params_percent,trainable,rf"),
}


@pytest.mark.parametrize("golden", sorted(GOLDEN_CASES))
def test_golden_output(golden: str, update_golden: bool) -> None:
    assert_golden(golden, GOLDEN_CASES[golden], update_golden)


@pytest.mark.parametrize("command", ["summary", "shapes", "params", "flops"])
@pytest.mark.parametrize("fmt", ["table", "plain", "markdown", "csv", "json"])
def test_every_column_in_every_format_of_every_command(command: str, fmt: str) -> None:
    result = netcalc(command, "resnet18", "--depth", "2", "--columns", ALL, "-f", fmt)
    assert result.exit_code == 0, result.output
    assert "layer4.1" in result.stdout


def test_params_percent_by_hand() -> None:
    # resnet18: 11,689,512 params; conv1 7*7*3*64 = 9,408, fc 512*1000 + 1000 = 513,000
    doc = json.loads(netcalc("params", "resnet18", "--columns", "name,params,params_percent", "-f", "json").stdout)
    layers = {layer["name"]: layer for layer in doc["layers"]}
    assert set(layers["fc"]) == {"name", "params", "params_percent"}
    assert layers["conv1"]["params_percent"] == pytest.approx(100 * 9408 / 11689512)  # 0.0805
    assert layers["fc"]["params_percent"] == pytest.approx(100 * 513000 / 11689512)  # 4.3885
    assert layers["relu"]["params_percent"] is None
    assert sum(layer["params_percent"] or 0 for layer in doc["layers"]) == pytest.approx(100)
    csv = netcalc("params", "resnet18", "--columns", "name,params_percent", "-f", "csv").stdout.splitlines()
    assert csv[0] == "name,params_percent"
    assert {"conv1,0.08%", "bn1,0.00%", "relu,--", "fc,4.39%"} <= set(csv)


def test_trainable_as_torchinfo_shows_it(tmp_path: Path) -> None:
    spec = tmp_path / "frozen.yaml"
    spec.write_text("input: 3x8x8\nblocks:\n  unit:\n    layers:\n      - conv out=4 k=3 name=conv\n"
                    "      - bn trainable=false name=bn\n"
                    "layers:\n  - unit name=a\n  - unit name=b trainable=false\n  - relu name=r\n")
    rows = netcalc("summary", str(spec), "--columns", "name,trainable", "-f", "csv").stdout.splitlines()
    assert rows == ["name,trainable", "a.conv,True", "a.bn,False", "b.conv,False", "b.bn,False", "r,--"]
    rows = netcalc("summary", str(spec), "--depth", "1", "--columns", "name,trainable", "-f", "csv").stdout.splitlines()
    assert rows == ["name,trainable", "a,Partial", "b,False", "r,--"]
    doc = json.loads(netcalc("summary", str(spec), "--depth", "1", "--columns", "trainable", "-f", "json").stdout)
    assert [layer["trainable"] for layer in doc["layers"]] == ["partial", False, None]


def test_input_and_kernel_columns() -> None:
    doc = json.loads(netcalc("summary", "resnet18", "--columns", "name,input,kernel", "-f", "json").stdout)
    layers = {layer["name"]: layer for layer in doc["layers"]}
    assert layers["conv1"] == {"name": "conv1", "input_shapes": [[3, 224, 224]], "kernel": "7x7 s2 p3"}
    assert layers["layer1.0.add_1"]["input_shapes"] == [[64, 56, 56], [64, 56, 56]]
    assert layers["maxpool"]["kernel"] == "3x3 s2 p1"
    conv1d = json.loads(netcalc("shapes", "tf-slim/mobilenet_v1", "--columns", "kernel", "-f", "json").stdout)
    assert conv1d["layers"][0]["kernel"] == "3x3 s2 psame"  # TensorFlow's SAME, as the spec writes it
    assert doc["totals"]["params"] == 11689512  # the rest of the document is whole


def test_unknown_column_is_a_usage_error() -> None:
    result = netcalc("summary", "seed_rf", "--columns", "name,kernal,param")
    assert result.exit_code == 2
    assert "unknown columns 'kernal', 'param'" in result.output
    assert "valid columns: " + ", ".join(COLUMNS) in result.output
    assert "Traceback" not in result.output
    assert netcalc("shapes", "seed_rf", "--columns", "").exit_code == 2


def test_default_columns_unchanged() -> None:
    assert netcalc("summary", "seed_rf", "-f", "csv").stdout.splitlines()[0] == \
        "name,type,shape,params,buffers,macs,flops,activation_bytes,rf.size,rf.jump"


def test_torch_types_on_resnet18() -> None:
    doc = json.loads(netcalc("summary", "resnet18", "--types", "torch", "-f", "json").stdout)
    types = {layer["name"]: layer["type"] for layer in doc["layers"]}
    assert {"Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Linear", "AdaptiveAvgPool2d"} <= set(types.values())
    assert (types["conv1"], types["bn1"], types["relu"], types["maxpool"], types["fc"]) == \
        ("Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "Linear")
    assert types["layer1.0.add_1"] == "add"  # no module: the op's name
    table = netcalc("shapes", "resnet18", "--types", "torch", "--depth", "1", "-f", "plain").stdout
    assert "Conv2d" in table and "stage" in table  # a folded block keeps its block's name


def test_torch_types_follow_the_exporters_code() -> None:
    from netcalc.core.api import analyze
    from netcalc.core.export import torch_types

    types = set(torch_types(analyze("vit_b_16")).values())
    assert {"MultiheadAttention", "LayerNorm", "GELU", "Parameter", "permute", "concat"} <= types  # Attention(...)
    assert "LSTM" in set(torch_types(analyze("lstm_classifier")).values())
    assert "ConvTranspose2d" in set(torch_types(analyze("unet")).values())
    result = netcalc("summary", "seed_rf", "--types", "pytorch")
    assert result.exit_code == 2
