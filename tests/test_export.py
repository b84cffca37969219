"""`netcalc export --to torch`: the exported module imports, runs, and agrees with netcalc
layer by layer (output shape, parameters, buffers); its module names are the spec's."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from helpers import TORCH_COMPARED, case_spec, op_cases, text_spec
from netcalc.cli.app import app
from netcalc.core.api import analyze, builtin_specs
from netcalc.core.export import module_code, to_torch

torch = pytest.importorskip("torch")
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
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in report.graph.layers:
        if layer.name in dict(model.named_modules()):
            module = model.get_submodule(layer.name)
            module.register_forward_hook(lambda m, i, o, name=layer.name: shapes.__setitem__(name, tuple(o.shape[1:])))
    with torch.no_grad():
        out = model(*(torch.rand(1, *i.shape.dims) for i in report.graph.inputs))
    assert tuple(out.shape[1:]) == report.shapes[report.graph.output].dims
    compared = 0
    for layer in report.graph.layers:
        if layer.name not in shapes:
            assert layer.op in ("add", "mul", "concat")  # merges are written out in forward
            continue
        module = model.get_submodule(layer.name)
        cost = report.costs[layer.name]
        assert shapes[layer.name] == report.shapes[layer.name].dims, layer.name
        assert sum(p.numel() for p in module.parameters()) == cost.params, layer.name
        assert sum(b.numel() for b in module.buffers()) == cost.buffers, layer.name
        compared += 1
    assert sum(p.numel() for p in model.parameters()) == report.total().params
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
    assert compared == (0 if op in ("add", "mul", "concat") else 1)


def test_module_names_are_the_spec_layer_names() -> None:
    report = analyze("resnet18")
    model = load_model(to_torch(report))
    names = dict(model.named_modules())
    assert "layer1.0.conv1" in names and "layer2.0.downsample.0" in names and "fc" in names
    assert "(downsample): Block(" in str(model)
    assert all(layer.name in names for layer in report.graph.layers if module_code(layer, (report.shapes[layer.inputs[0]],)))


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
    from torch.utils.flop_counter import FlopCounterMode

    report = analyze(name)
    model = load_model(to_torch(report))
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(*(torch.rand(1, *i.shape.dims) for i in report.graph.inputs))
    assert counter.get_total_flops() == 2 * report.total().macs


@pytest.mark.parametrize("op", ["conv", "dwconv", "convT", "linear"])
def test_macs_of_each_op_match_torch_flop_counter(op: str) -> None:
    from torch.utils.flop_counter import FlopCounterMode

    for _, _, case in [c for c in VALID_CASES if c[0] == op]:
        report = text_spec(case_spec(case))
        model = load_model(to_torch(report))
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            model(*(torch.rand(1, *i.shape.dims) for i in report.graph.inputs))
        assert counter.get_total_flops() == 2 * report.total().macs, case["id"]
