"""`--fold-bn`: the network as deployed, each BatchNorm after a convolution folded into it.
Hand-checked cases, PyTorch's fuse_conv_bn_eval on every folded pair of every built-in,
and torch.export's ONNX files, which fold it themselves."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from test_cli import netcalc

from netcalc.core.api import analyze, builtin_specs
from netcalc.core.fold import _foldable, fold_batchnorm

from helpers import TORCH_COMPARED, text_spec

# (spec, the layers left, params, buffers, FLOPs); input 3x4x4, the conv 8 x 3x3x3 (216 weights;
# 8x4x4 = 128 outputs of 27 MACs)
CASES = [
    # conv without bias + bn: the conv gains a bias (8), the bn's 16 params and 17 buffers go;
    # FLOPs: 8x4x4 = 128 bias adds instead of the bn's 2 x 128
    ("conv out=8 k=3 p=1 bias=false name=c\nbn name=b\nrelu name=r\n", ["c", "r"], 224, 0,
     2 * 27 * 128 + 128 + 128),
    # a conv with a bias keeps its count
    ("conv out=8 k=3 p=1 name=c\nbn name=b\n", ["c"], 224, 0, 2 * 27 * 128 + 128),
    # a bn after a relu reads no conv: nothing folds (216 + 16 params, 17 buffers)
    ("conv out=8 k=3 p=1 bias=false name=c\nrelu name=r\nbn name=b\n", ["c", "r", "b"], 232, 17,
     2 * 27 * 128 + 128 + 2 * 128),
    # a conv read by the bn and by another layer: its raw output is needed, nothing folds
    ("conv out=8 k=3 p=1 bias=false name=c\nbn name=b\nadd from=c,b name=a\n", ["c", "b", "a"], 232, 17,
     2 * 27 * 128 + 2 * 128 + 128),
    # a linear then BatchNorm1d (flattened 48 features, 5 out): 48*5 + 5 = 245 params, the bn's 10
    # and 11 buffers folded away; FLOPs 2*240 + 5 bias, the bn's 2*5 gone
    ("flatten name=f\nlinear out=5 name=fc\nbn name=b\n", ["f", "fc"], 245, 0, 2 * 240 + 5),
    # batch statistics (track=false) normalise even in inference: nothing folds
    ("conv out=8 k=3 p=1 bias=false name=c\nbn track=false name=b\n", ["c", "b"], 232, 0, 2 * 27 * 128 + 2 * 128),
]


@pytest.mark.parametrize("layers, kept, params, buffers, flops", CASES)
def test_fold_by_hand(layers: str, kept: list[str], params: int, buffers: int, flops: int) -> None:
    folded = fold_batchnorm(text_spec("input 3x4x4\n" + layers))
    assert [layer.name for layer in folded.graph.layers] == kept
    totals = folded.totals()
    assert (totals["params"], totals["buffers"], totals["flops"]) == (params, buffers, flops)


def test_readers_and_outputs_of_a_folded_bn_read_its_conv() -> None:
    folded = fold_batchnorm(text_spec("input 3x4x4\nconv out=8 k=3 p=1 name=c\nbn name=b\n"))
    assert folded.graph.output == "c" and folded.graph.outputs == ("c",)
    resnet = fold_batchnorm(analyze("resnet18"))
    assert resnet.graph.layers[1].name == "relu" and resnet.graph.layers[1].inputs == ("conv1",)
    assert resnet.fields["fc"] == analyze("resnet18").fields["fc"]  # folding moves no field


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "unet", "tf-slim/resnet_v1_50"])
def test_a_spec_without_its_bn_folds_to_the_same_totals_as_written_so(name: str) -> None:
    report = analyze(name)
    folded = fold_batchnorm(report)
    assert folded.totals()["macs"] == report.totals()["macs"]
    assert fold_batchnorm(folded) is folded  # nothing left to fold


def test_cli_fold_bn() -> None:
    result = netcalc("params", "resnet18", "--fold-bn", "-f", "csv")
    assert result.exit_code == 0 and ",bn," not in result.stdout
    # 11,689,512 - 9,600 (4,800 channels' weight and bias) + 4,800 conv biases
    assert "Total params" not in result.stdout  # csv: rows only
    summary = netcalc("summary", "resnet18", "--fold-bn", "-f", "plain").stdout
    assert "11,684,712" in summary
    assert netcalc("diff", "resnet18", "resnet18", "--fold-bn").exit_code == 0


LINEAR_BN = "input 12\nlinear out=5 name=fc\nbn name=b\n"  # a Linear and a BatchNorm1d


@pytest.mark.torch
@pytest.mark.parametrize("name", [*sorted(builtin_specs()), "linear-bn"])
def test_each_folded_conv_has_the_parameters_of_pytorchs_fusion(name: str) -> None:
    torch = pytest.importorskip("torch")
    from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

    from torch_model import module_for

    report = text_spec(LINEAR_BN) if name == "linear-bn" else analyze(name)
    folded = fold_batchnorm(report)
    assert name != "linear-bn" or _foldable(report.graph) == {"fc": "b"}
    layers = {layer.name: layer for layer in report.graph.layers}
    for conv, bn in _foldable(report.graph).items():
        modules = [module_for(layers[n], tuple(report.shape(i) for i in layers[n].inputs)).eval() for n in (conv, bn)]
        modules = [m[-1] if isinstance(m, torch.nn.Sequential) else m for m in modules]  # after its F.pad
        op = layers[conv].op
        fused = (fuse_linear_bn_eval(*modules) if op == "linear"
                 else fuse_conv_bn_eval(*modules, transpose=op == "convT"))
        assert folded.costs[conv].params == sum(p.numel() for p in fused.parameters())
        TORCH_COMPARED["layers"] += 1


@pytest.mark.torch
@pytest.mark.parametrize("name", ["resnet18", "unet"])
def test_torch_exports_onnx_files_fold_as_netcalc_does(tmp_path: Path, name: str) -> None:
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxscript")  # torch.onnx.export(dynamo=True)
    from test_export import load_model

    from netcalc.core.export import to_torch

    spec = analyze(name)
    model = load_model(to_torch(spec)).eval()
    torch.manual_seed(0)
    for module in model.modules():  # trained statistics: a fold of the defaults is a zero bias, which is elided
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
            module.bias.data.uniform_(-1, 1)
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(1, *spec.graph.inputs[0].shape.dims),), str(path), dynamo=True,
                          external_data=False, verbose=False)
    read, folded = analyze(str(path)).totals(), fold_batchnorm(spec).totals()
    assert {k: read[k] for k in ("params", "buffers", "macs", "flops")} == {
        k: folded[k] for k in ("params", "buffers", "macs", "flops")}


def test_python_api_fold_bn() -> None:
    import netcalc

    assert netcalc.analyze("resnet18", fold_bn=True).totals.params == 11_684_712
    assert netcalc.analyze("resnet18").totals.params == 11_689_512


def test_fold_bn_is_no_training_setting() -> None:
    result = netcalc("summary", "resnet18", "--fold-bn", "--train")
    assert result.exit_code == 2 and "--fold-bn is the network as deployed" in result.output


def test_python_api_refuses_training_a_folded_network() -> None:
    import netcalc

    with pytest.raises(ValueError, match="fold_bn=True is the network as deployed"):
        netcalc.analyze("resnet18", train="adam", fold_bn=True)
    text = "input 3x4x4\nconv out=8 k=3 p=1 bias=false\nbn\n"  # 216 weights, 8 folded biases
    assert netcalc.analyze_text(text, fold_bn=True).totals.params == 224
