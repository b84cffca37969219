"""`netcalc export --to torch`: the exported module imports, runs, and agrees with netcalc
layer by layer (output shape, parameters, buffers); its module names are the spec's."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.core.api import analyze, builtin_specs
from netcalc.core.export import module_code, to_torch
from netcalc.core.ops import LOOKUP

from helpers import TORCH_COMPARED, case_spec, op_cases, text_spec, yaml_spec

torch = pytest.importorskip("torch")
from torch_model import counting_flops, sample  # noqa: E402

pytestmark = pytest.mark.torch

VALID_CASES = [(op, cid, case) for op, cid, case in op_cases() if "error" not in case]


def load_model(code: str):  # type: ignore[no-untyped-def]
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), namespace)  # the module netcalc wrote, as a user imports it
    classes = [v for k, v in namespace.items() if isinstance(v, type) and issubclass(v, torch.nn.Module)
               and k not in ("Block", "Pad")]
    return classes[-1]().eval()


def compare(report) -> int:  # type: ignore[no-untyped-def]
    model = load_model(to_torch(report))
    # not get_submodule, which finds nn.Module's `eval` before a layer so named; every name of a shared module
    modules = dict(model.named_modules(remove_duplicate=False))
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in report.graph.layers:
        if layer.name in modules:
            module = modules[layer.name]
            module.register_forward_hook(lambda m, i, o, name=layer.name: shapes.__setitem__(name, tuple(o.shape[1:])))
    with torch.no_grad():
        out = model(*(sample(i.shape) for i in report.graph.inputs))
    outs = out if isinstance(out, tuple) else (out,)
    assert [tuple(o.shape[1:]) for o in outs] == [report.shapes[name].dims for name in report.graph.outputs]
    compared = 0
    seen: set[int] = set()  # parameters of earlier layers: a shared module's are counted there
    for layer in report.graph.layers:
        if not layer.inputs:  # a `param` layer is a parameter of its block, under its own name
            tensor = model.get_parameter(layer.name)
            assert (tuple(tensor.shape[1:]), tensor.numel()) == (report.shapes[layer.name].dims,
                                                                  report.costs[layer.name].params)
            seen.add(id(tensor))
            compared += 1
            continue
        if layer.name not in shapes:
            assert LOOKUP[layer.op].torch_module is None  # merges, layout ops: written out in forward
            continue
        module = modules[layer.name]
        cost = report.costs[layer.name]
        # a shared module's hook sees every call: its shapes are checked layer by layer in test_torch.py
        assert layer.shares or shapes[layer.name] == report.shapes[layer.name].dims, layer.name
        own = [p for p in module.parameters() if id(p) not in seen]
        assert sum(p.numel() for p in own) == cost.params, layer.name
        assert sum(b.numel() for b in module.buffers()) == cost.buffers, layer.name
        seen.update(id(p) for p in own)
        compared += 1
    totals = report.totals()
    assert sum(p.numel() for p in model.parameters()) == totals["params"]
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == totals["trainable_params"]
    TORCH_COMPARED["cases"] += 1
    TORCH_COMPARED["layers"] += compared
    return compared


@pytest.mark.parametrize("name", sorted(builtin_specs()))
def test_builtin_spec_exports_and_agrees(name: str) -> None:
    report = analyze(name)
    assert compare(report) > 0


@pytest.mark.parametrize("op, case_id, case", VALID_CASES, ids=[f"{op}:{cid}" for op, cid, _ in VALID_CASES])
def test_every_op_exports(op: str, case_id: str, case: dict) -> None:
    report = text_spec(case_spec(case))
    compared = compare(report)
    assert compared == (0 if LOOKUP[op].torch_module is None else 1)


def test_module_names_are_the_spec_layer_names() -> None:
    report = analyze("resnet18")
    model = load_model(to_torch(report))
    names = dict(model.named_modules())
    assert "layer1.0.conv1" in names and "layer2.0.downsample.0" in names and "fc" in names
    assert "(layer2): Stage(" in str(model) and "(downsample): Downsample(" in str(model)
    assert all(
        layer.name in names for layer in report.graph.layers if module_code(layer, (report.shapes[layer.inputs[0]],))
    )


def test_blocks_become_classes_that_identical_instances_share() -> None:
    code = to_torch(analyze("resnet50"))
    classes = re.findall(r"^class (\w+)\((\w+)\)", code, re.MULTILINE)
    assert [name for name, base in classes if base == "Block"] == [
        "Downsample", "Bottleneck", "Bottleneck2", "Stage3", "Stage4", "Stage6"]
    model = load_model(code)
    assert type(model.layer1).__name__ == "Stage3" and type(model.layer4).__name__ == "Stage3"
    assert type(model.get_submodule("layer1.0")).__name__ == "Bottleneck"  # with its downsample
    assert type(model.get_submodule("layer3.5")).__name__ == "Bottleneck2"  # the `if` dropped it
    assert "        layer1 = self.layer1(maxpool)  # stage3 -> 256x56x56" in code


EDGE_SPEC = """
input: 3x8x8
blocks:
  enc:
    args: {last: true}
    layers:
      - conv out=4 k=3 p=1 name=conv
      - relu name=0
      - {conv: {out: 4, k: 1}, name: eval, if: $last}
  pair:
    inputs: [a, b]
    layers:
      - {add: {}, from: [a, b]}
      - conv out=4 k=1 name=train
  rev:                               # reads its second input first
    inputs: [x, skip]
    layers:
      - {conv: {out: 4, k: 1}, from: skip}
      - {add: {}, from: [-1, x]}
  fork:                              # its output is `a`: the `if` drops `c`, which reads `a`
    layers:
      - conv out=6 k=1 name=a
      - conv out=2 k=1 name=b
      - {conv: {out: 4, k: 1}, from: a, if: false, name: c}
layers:
  - enc name=e
  - conv out=4 k=1 name=type
  - {pair: {}, from: [type, e], name: p}
  - conv out=4 k=3 p=1 repeat=2 name=c
  - {rev: {}, from: [c, p], name: rv}
  - {rev: {}, from: [rv, rv], name: rv2}
  - enc last=false repeat=2 name=r
  - enc last=false name=block
  - fork name=f
"""


def test_names_nn_module_uses_numbers_repeats_if_and_two_input_blocks_export() -> None:
    report = yaml_spec(EDGE_SPEC)
    code = to_torch(report)
    assert compare(report) == 17  # every layer but the adds
    for line in (
        "class Enc(Block):",
        "class Enc2(Block):",
        "class ConvRepeat(Block):",
        "class EncRepeat(Block):",
        "self.block = Enc2(",
        "    def forward(self, a, b):",
        "    def forward(self, x, skip):",
        "        conv_1 = self.conv_1(skip)  # conv\n",
        "rv = self.rv(c, p)  # rev",
        "rv2 = self.rv2(rv)  # rev",
        "eval = self._modules['eval'](x_0)  # conv",
        "p = self.p(type, e)  # pair -> 4x8x8",
        "        b = self.b(a)  # conv\n        return a\n",
        "        return f\n",
    ):
        assert line in code


def test_names_the_exported_code_uses_itself_stay_free() -> None:
    """torch, nn and F name modules the file imports; Block and Pad its own classes."""
    report = text_spec("name f\ninput 3x8x8\nblock F\n  conv out=4 k=1 name=torch\n  relu name=nn\n"
                       "conv out=4 k=1 name=torch\nF name=F\nrelu name=self\nconcat from=torch,F,self\n", "f.net")
    code = to_torch(report)
    assert compare(report) == 4  # the concat is written out
    for line in ("class F3(Block):", "class F2(nn.Module):", "x_nn = self.nn(x_torch)  # relu",
                 "x_torch = self.torch(input)  # conv -> 4x8x8", "concat_1 = torch.cat([x_torch, x_F, x_self], dim=1)"):
        assert line in code


# Padding PyTorch's modules cannot state (before != after: per side, or TensorFlow's `same`
# with a stride) is an F.pad in forward, its pairs from the last axis back; the module at
# the layer's name is the layer's own. (input, layer, its forward line, state dict keys)
PAD_BEFORE = [
    # H: 5 + 1 + 2 - 3 + 1 = 6, W: 5 + 0 + 1 - 3 + 1 = 4; F.pad: left 0, right 1, top 1, bottom 2
    ("3x5x5", "conv out=2 k=3 p=[[1,2],[0,1]] name=c", "c = self.c(F.pad(input, (0, 1, 1, 2)))  # conv -> 2x6x4",
     {"c.weight", "c.bias"}),
    ("3x5", "conv out=2 k=3 p=[[1,2]] name=c",  # 1-D: 5 + 3 - 3 + 1 = 6
     "c = self.c(F.pad(input, (1, 2)))  # conv -> 2x6", {"c.weight", "c.bias"}),
    # ceil(6/2) = 3; total (3-1)*2 + 3 - 6 = 1 per axis: 0 before, 1 after
    ("3x6x6", "conv out=2 k=3 s=2 p=same bias=false name=c", "c = self.c(F.pad(input, (0, 1, 0, 1)))  # conv -> 2x3x3",
     {"c.weight"}),
    # H: ceil(7/2) = 4, total 6 + 3 - 7 = 2 -> 1, 1; W: ceil(6/2) = 3, total 1 -> 0, 1
    ("3x7x6", "dwconv k=3 s=2 p=same name=c", "c = self.c(F.pad(input, (0, 1, 1, 1)))  # dwconv -> 3x4x3",
     {"c.weight", "c.bias"}),
    # D: 2, total 2 + 3 - 4 = 1 -> 0, 1; H: 3, total 4 + 3 - 5 = 2 -> 1, 1; W: 3, total 1 -> 0, 1
    ("1x4x5x6", "conv out=2 k=3 s=2 p=same name=c",
     "c = self.c(F.pad(input, (0, 1, 1, 1, 0, 1)))  # conv -> 2x2x3x3", {"c.weight", "c.bias"}),
    # symmetric after all: PyTorch states it, no F.pad (ceil(7/2) = 4, total 2 -> 1, 1)
    ("3x7x7", "conv out=2 k=3 s=2 p=same name=c", "c = self.c(input)  # conv -> 2x4x4", {"c.weight", "c.bias"}),
    ("3x8x7", "conv out=2 k=3 s=2 p=[[1,1],[2,2]] name=c", "c = self.c(input)  # conv -> 2x4x5",
     {"c.weight", "c.bias"}),
    # pools: a max pool's padding never wins (-inf); an average pool's counts as zeros
    ("3x6x6", "maxpool k=3 s=2 p=same name=m",
     "m = self.m(F.pad(input, (0, 1, 0, 1), value=float('-inf')))  # maxpool -> 3x3x3", set()),
    ("3x7x7", "avgpool k=2 p=same name=m", "m = self.m(F.pad(input, (0, 1, 0, 1)))  # avgpool -> 3x4x4", set()),
]


@pytest.mark.parametrize("shape, layer, forward, keys", PAD_BEFORE, ids=[row[1] for row in PAD_BEFORE])
def test_padding_torch_cannot_state_is_an_f_pad_before_the_layers_own_module(
        shape: str, layer: str, forward: str, keys: set[str]) -> None:
    report = text_spec(f"input {shape}\n{layer}\n")
    code = to_torch(report)
    assert f"        {forward}\n" in code
    model = load_model(code)
    assert not isinstance(model.get_submodule(report.graph.output), torch.nn.Sequential)
    assert set(model.state_dict()) == keys
    assert compare(report) == 1  # its output shape is netcalc's


def test_a_state_dict_keyed_by_the_spec_names_loads_where_padding_is_per_side() -> None:
    report = text_spec("input 3x8x8\nblock down\n  conv out=4 k=3 s=2 p=same name=conv\n  relu\n"
                       "  conv out=4 k=2 p=[[0,1],[1,0]] bias=false name=edge\n"
                       "down repeat=2 name=layer1\n")
    code = to_torch(report)
    assert "conv = self.conv(F.pad(x, (0, 1, 0, 1)))  # conv" in code  # 8 -> 4 and 4 -> 2: 0 before, 1 after
    assert "edge = self.edge(F.pad(relu_1, (1, 0, 0, 1)))  # conv" in code
    model = load_model(code)
    weights = {"layer1.0.conv.weight": (4, 3, 3, 3), "layer1.0.conv.bias": (4,), "layer1.0.edge.weight": (4, 4, 2, 2),
               "layer1.1.conv.weight": (4, 4, 3, 3), "layer1.1.conv.bias": (4,), "layer1.1.edge.weight": (4, 4, 2, 2)}
    model.load_state_dict({name: torch.zeros(shape) for name, shape in weights.items()})  # strict: these keys, no other
    assert compare(report) == 6


def test_a_one_input_concat_is_written_out_as_torch_cat() -> None:
    report = text_spec("input 2x4x4\nconv out=2 k=1\nconcat\nrelu\n")
    code = to_torch(report)
    assert "concat_1 = torch.cat([conv_1], dim=1)  # concat -> 2x4x4" in code
    assert compare(report) == 2  # conv and relu; the concat is written out


def test_attributes_of_nn_module_are_all_known() -> None:
    """A layer named like one of them is reached through `_modules`; this list must be whole."""
    from netcalc.core.export import MODULE_ATTRIBUTES

    public = {name for name in dir(torch.nn.Module()) if not name.startswith("_")}
    assert public <= MODULE_ATTRIBUTES


def test_cli_writes_a_runnable_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    out = tmp_path / "seed.py"
    assert CliRunner().invoke(app, ["export", "seed_deconv", "--to", "torch", "-o", str(out)]).exit_code == 0
    run = subprocess.run([sys.executable, str(out)], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "(1, 16, 5, 5)"
    assert "import torch" in out.read_text() and "netcalc" not in out.read_text().split('"""', 2)[2]


@pytest.mark.parametrize("name", sorted(set(builtin_specs()) - {"unet"}) + ["unet"])
def test_macs_match_torch_flop_counter(name: str) -> None:
    """FlopCounterMode counts 2 FLOPs per multiply-accumulate of conv, convT and linear."""
    report = analyze(name)
    model = load_model(to_torch(report))
    with counting_flops() as counter:
        model(*(sample(i.shape) for i in report.graph.inputs))
    assert counter.get_total_flops() == 2 * report.total().macs
    TORCH_COMPARED["macs"] += 1


@pytest.mark.parametrize("op", ["conv", "dwconv", "convT", "linear", "lstm", "gru", "rnn", "matmul", "mha", "sdpa"])
def test_macs_of_each_op_match_torch_flop_counter(op: str) -> None:
    for _, _, case in [c for c in VALID_CASES if c[0] == op]:
        report = text_spec(case_spec(case))
        model = load_model(to_torch(report))
        with counting_flops() as counter:
            model(*(sample(i.shape) for i in report.graph.inputs))
        assert counter.get_total_flops() == 2 * report.total().macs, case["id"]
        TORCH_COMPARED["macs"] += 1


def test_shared_modules_tied_heads_and_frozen_layers_export_as_pytorch_has_them() -> None:
    from test_wiring import LM

    report = text_spec(LM)
    code = to_torch(report)
    assert "self.set_submodule('proj-again', self.get_submodule('proj'))" in code
    assert "self.get_submodule('lm_head').weight = self.get_submodule('wte').weight" in code
    assert "self.get_submodule('ln_f').requires_grad_(False)" in code
    assert compare(report) == 9  # every layer a module; trainable totals and own parameters as torch has them


def test_several_outputs_and_reads_into_blocks_export_as_tuples() -> None:
    from test_wiring import TWO_HEADS

    report = yaml_spec(TWO_HEADS)
    assert "return head, aux" in to_torch(report)
    assert compare(report) == 5
    inner = text_spec("input 3x16x16\nblock stage\n  conv out=4 k=3 p=1 name=conv\n  relu name=act\n"
                      "stage repeat=2 name=layer\nconv out=4 k=1 from=layer.0.act name=aux\nadd from=layer,aux\n")
    assert "layer_0_act, layer_1_act = self.layer(input)" in to_torch(inner)
    assert compare(inner) == 5


def test_a_param_is_expanded_over_the_batch() -> None:
    report = yaml_spec("input: 6:int64\nlayers:\n  - embedding num=10 dim=4 name=e\n  - param shape=[1,4] name=cls\n"
                       "  - {concat: {dim: 1}, from: [cls, e], name: x}\n")
    model = load_model(to_torch(report))
    assert tuple(model(torch.zeros(3, 6, dtype=torch.int64)).shape) == (3, 7, 4)
    assert list(model.state_dict()) == ["cls", "e.weight"]  # torchvision's key for a class token: its name


def test_a_float16_input_runs_in_the_exported_example(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    out = tmp_path / "half.py"
    out.write_text(to_torch(text_spec("input 3x8x8:float16\nconv out=4 k=3\n")))
    run = subprocess.run([sys.executable, str(out)], capture_output=True, text=True)
    assert (run.returncode, run.stdout.strip()) == (0, "(1, 4, 6, 6)")


def test_a_layer_named_training_is_refused_before_anything_is_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec, out = tmp_path / "t.net", tmp_path / "t.py"
    spec.write_text("input 3x4x4\nblock b\n  relu\nconv out=2 k=1 name=training\nb name=x\n")
    result = CliRunner().invoke(app, ["export", str(spec), "--to", "torch", "-o", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert "t.net:4:1: error: layer 'training' cannot be exported" in result.stderr


def test_a_param_read_into_more_axes_is_broadcast_not_expanded() -> None:
    report = text_spec("input 8x14x14\npermute dims=0,2,3,1 name=to_last\nparam shape=[8] name=gamma\n"
                       "mul from=to_last,gamma name=scale\nparam shape=[8,3] name=w\nmatmul from=scale,w name=mm\n")
    code = to_torch(report)
    assert "gamma = self.gamma  #" in code and "w = self.w  #" in code  # no expand: broadcast
    model = load_model(code)
    assert tuple(model(torch.randn(2, 8, 14, 14)).shape) == (2, 14, 14, 3)
    assert compare(report) == 2  # the two params (the rest are expressions); the output shape too


def test_a_param_whose_name_no_attribute_reaches_is_a_registered_parameter() -> None:
    report = text_spec("input 8x4x4\nparam shape=[8,1,1] name=_scale\nmul from=input,_scale\n")
    model = load_model(to_torch(report))
    assert tuple(model(torch.randn(2, 8, 4, 4)).shape) == (2, 8, 4, 4)
    assert list(model.state_dict()) == ["_scale"]
