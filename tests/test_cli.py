"""The command line: golden outputs, exit codes, positioned errors, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netcalc.cli.app import COMMANDS, app, make_app

GOLDEN = Path(__file__).resolve().parent / "golden"
runner = CliRunner()


def netcalc(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


GOLDEN_CASES = {
    "summary_seed_deconv.md": ("summary", "seed_deconv", "--format", "markdown"),
    "shapes_seed_rf.csv": ("shapes", "seed_rf", "--format", "csv"),
    "summary_seed_rf.json": ("summary", "seed_rf", "--format", "json"),
    "params_resnet18_depth2.md": ("params", "resnet18", "--depth", "2", "--format", "markdown"),
    "rf_seed_rf.md": ("rf", "seed_rf", "--format", "markdown"),
    "rf_seed_rf_from_back.csv": ("rf", "seed_rf", "--from-back", "--layer", "conv2", "--format", "csv"),
    "rf_unet_depth.md": ("rf", "unet", "--format", "markdown"),
    "summary_unet_depth2.plain": ("summary", "unet", "--depth", "2", "--format", "plain"),
    "flops_mobilenet_v2_batch8_depth2.csv": ("flops", "mobilenet_v2", "--batch", "8", "--depth", "2", "-f", "csv"),
}


def assert_golden(golden: str, args: tuple[str, ...], update: bool) -> None:
    """The command's stdout is the file tests/golden/<golden> (written anew with --update-golden)."""
    result = netcalc(*args)
    assert result.exit_code == 0, result.output
    path = GOLDEN / golden
    if update:
        path.write_text(result.stdout)
    assert result.stdout == path.read_text()


@pytest.mark.parametrize("golden", sorted(GOLDEN_CASES))
def test_golden_output(golden: str, update_golden: bool) -> None:
    assert_golden(golden, GOLDEN_CASES[golden], update_golden)


def test_json_totals_equal_the_sum_of_the_rows() -> None:
    doc = json.loads(netcalc("summary", "resnet50", "--format", "json").stdout)
    for key in ("params", "buffers", "macs", "flops", "activation_bytes"):
        assert doc["totals"][key] == sum(layer[key] for layer in doc["layers"])


def test_depth_folds_rows_and_keeps_totals() -> None:
    full = json.loads(netcalc("summary", "resnet18", "-f", "json").stdout)
    folded = json.loads(netcalc("summary", "resnet18", "-f", "json", "--depth", "1").stdout)
    assert [layer["name"] for layer in folded["layers"]][4:8] == ["layer1", "layer2", "layer3", "layer4"]
    assert folded["layers"][4]["type"] == "stage"
    assert folded["totals"] == full["totals"]
    assert sum(layer["params"] for layer in folded["layers"]) == full["totals"]["params"]


def test_batch_and_dtype_scale_activations_and_work_not_parameters() -> None:
    one = json.loads(netcalc("summary", "alexnet", "-f", "json").stdout)["totals"]
    eight = json.loads(netcalc("summary", "alexnet", "-f", "json", "--batch", "8", "--dtype", "float16").stdout)[
        "totals"
    ]
    assert eight["macs"] == 8 * one["macs"] and eight["flops"] == 8 * one["flops"]
    assert eight["activation_bytes"] == 8 * one["activation_bytes"] // 2
    assert eight["params"] == one["params"] and eight["param_bytes"] == one["param_bytes"] // 2


def test_batch_norm_counter_is_int64() -> None:
    totals = json.loads(netcalc("params", "resnet18", "-f", "json", "--dtype", "float16").stdout)["totals"]
    bn_layers = 20
    assert totals["buffer_bytes"] == (totals["buffers"] - bn_layers) * 2 + bn_layers * 8


def test_input_override_and_named_input(tmp_path: Path) -> None:
    doc = json.loads(netcalc("shapes", "resnet18", "--input", "3x512x512", "-f", "json").stdout)
    assert doc["input"] == {"input": [3, 512, 512]}
    assert doc["layers"][0]["shape"] == [64, 256, 256]
    named = netcalc("shapes", "resnet18", "--input", "input=3x64x64", "-f", "json")
    assert json.loads(named.stdout)["layers"][0]["shape"] == [64, 32, 32]
    bad = netcalc("shapes", "resnet18", "--input", "image=3x64x64")
    assert bad.exit_code == 2 and "no input 'image'" in bad.stderr


def test_invalid_spec_exits_2_with_positioned_errors_on_stderr(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("input: 3x32x32\nlayers:\n  - conv out=8 k=3\n  - cnov out=8 k=3\n  - conv out=8 k=3 s=0\n")
    result = netcalc("summary", str(spec))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{spec}:4:5: error: unknown layer type 'cnov'; did you mean 'conv'? [unknown-type]",
        f"{spec}:5:20: error: layer 'conv_2': 's' of 'conv' must be a positive integer or one per axis, "
        "like 5x3, got 0 [invalid-argument]",
    ]


def test_missing_file_exits_2() -> None:
    result = netcalc("shapes", "no/such/spec.yaml")
    assert result.exit_code == 2 and "no spec file" in result.stderr


def test_bad_option_exits_2() -> None:
    assert netcalc("shapes", "resnet18", "--batch", "0").exit_code == 2
    assert netcalc("shapes", "resnet18", "--depth", "0").exit_code == 2
    assert netcalc("shapes", "resnet18", "--format", "xml").exit_code == 2


def test_warnings_go_to_stderr_and_exit_0(tmp_path: Path) -> None:
    spec = tmp_path / "branch.net"
    spec.write_text("input 3x8x8\nconv out=3 k=1 name=a\nconv out=3 k=1 from=input name=b\n")
    result = netcalc("shapes", str(spec), "-f", "csv")
    assert result.exit_code == 0
    assert "warning: the output of layer 'a' (conv) is never used [unused-layer]" in result.stderr


def test_rf_json_has_exact_fractions() -> None:
    doc = json.loads(netcalc("rf", "seed_deconv", "-f", "json").stdout)
    conv3 = doc["layers"][-1]
    # conv2 (k_eff 7, p 1) centres its first unit at pixel (7-1)/2 - 1 = 2; the transposed
    # conv3 (k3 s2 p1) reads 1 or 2 of its units: r = 9 + 1, j = 1/2, P = (10-1)/2 - 2
    assert conv3["rf"] == {"size": [10, 10], "jump": ["1/2", "1/2"], "start": [2, 2], "padding": ["5/2", "5/2"],
                           "global": False}
    assert conv3["window"] == "k3 s2 p1"


def test_rf_from_back_rejects_unknown_and_flat_layers() -> None:
    unknown = netcalc("rf", "resnet18", "--from-back", "--layer", "layer9")
    assert unknown.exit_code == 2 and "no layer 'layer9'" in unknown.stderr
    flat = netcalc("rf", "resnet18", "--from-back", "--layer", "fc")
    assert flat.exit_code == 2 and "no spatial axes" in flat.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_help_has_an_example(command: str) -> None:
    result = netcalc(command, "--help")
    assert result.exit_code == 0 and "Example: netcalc" in result.stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_run_builds_only_its_command_and_behaves_the_same(command: str) -> None:
    alone = runner.invoke(make_app([command]), [command, "--help"])
    assert alone.exit_code == 0 and alone.stdout == netcalc(command, "--help").stdout
    assert runner.invoke(make_app([command]), [command, "--no-such-option"]).exit_code == 2


IMPORTED_BY = """
import sys
from netcalc.cli.app import main
sys.argv = ["netcalc", *sys.argv[1:]]
try:
    main()
except SystemExit:
    print(" ".join(sorted(sys.modules)), file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("args", "needed", "not_needed"),
    [
        (
            ("summary", "vgg16", "-f", "json"),
            {"netcalc.core.parse.text_spec"},
            {"yaml", "rich", "netcalc.cli.commands.graph", "netcalc.core.checks"},
        ),
        (
            ("summary", "resnet50", "-f", "json"),
            {"yaml"},
            {"rich", "netcalc.cli.commands.check", "netcalc.core.parse.text_spec"},
        ),
        (("--help",), {"netcalc.cli.commands.graph"}, {"netcalc.core.api", "yaml", "rich"}),
    ],
)
def test_a_run_imports_only_what_its_command_needs(
    args: tuple[str, ...], needed: set[str], not_needed: set[str]
) -> None:
    result = subprocess.run([sys.executable, "-c", IMPORTED_BY, *args], capture_output=True, text=True)
    modules = set(result.stderr.split())
    assert needed <= modules and not modules & not_needed


def test_table_format_and_zoo() -> None:
    table = netcalc("summary", "seed_deconv")
    assert table.exit_code == 0
    for text in ("conv1", "16x5x5", "1,540", "Estimated total"):
        assert text in table.stdout
    zoo = netcalc("zoo")
    assert zoo.exit_code == 0 and "resnet50" in zoo.stdout and "25,557,032" in zoo.stdout


def test_python_dash_m_netcalc_runs_as_a_process(tmp_path: Path) -> None:
    spec = tmp_path / "broken.net"
    spec.write_text("input 3x8x8\nconv out=4 k=3 g=2\n")
    result = subprocess.run([sys.executable, "-m", "netcalc", "shapes", str(spec)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{spec}:2:1: error: layer 'conv_1' (conv) on 3x8x8: groups=2")


def test_shell_completion_completes_commands_and_options() -> None:
    import os

    def complete(words: str) -> list[str]:
        env = {**os.environ, "_NETCALC_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - 1)}
        done = subprocess.run([sys.executable, "-m", "netcalc"], env=env, capture_output=True, text=True, check=False)
        return done.stdout.split()

    assert complete("netcalc su") == ["summary"]
    assert complete("netcalc summary --fo") == ["--format", "--fold-bn"]
    assert "--install-completion" in netcalc("--help").output


@pytest.mark.parametrize("args, kind, more", [
    (("conv", "--in", "8", "-k", "3", "-f", "bogus"), "records", ""),
    (("check", "seed_rf", "-f", "bogus"), "findings", " or auto"),
    (("graph", "seed_rf", "-f", "bogus"), "graph", ""),
])
def test_unknown_formats_are_named_from_the_one_registry(args: tuple[str, ...], kind: str, more: str) -> None:
    from netcalc.cli.render import REGISTRY

    result = netcalc(*args)
    expected = f"error: unknown format 'bogus' ({', '.join(REGISTRY[kind])}{more})\n"
    assert (result.exit_code, result.stderr) == (2, expected)


@pytest.mark.parametrize("target, message", [
    (".", "-o .: is a directory; name the file to write (graph.svg)"),
    ("net.png", "-o net.png: no format for the suffix '.png' (one of .dot, .gv, .mmd, .mermaid, .svg, .html, .htm; "
                "or --format dot|mermaid|svg|html)"),
])
def test_graph_says_what_is_wrong_with_its_output_file(target: str, message: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = netcalc("graph", "seed_rf", "-o", target)
    assert (result.exit_code, result.stderr) == (2, f"error: {message}\n")
    assert list(tmp_path.iterdir()) == []


def test_report_commands_offer_the_registry_formats() -> None:
    from netcalc.cli.options import Format
    from netcalc.cli.render import REGISTRY, renderer

    assert [f.value for f in Format] == list(REGISTRY["records"])
    for kind, formats in REGISTRY.items():
        for name in formats:
            assert callable(renderer(kind, name))


@pytest.mark.parametrize("spec, message", [
    ("input: {a: 3x8x8, b: 3x8x8}\nlayers:\n  - {conv: {out: 2, k: 3}, from: b, name: x}\n",
     "error: 'x' does not read the first input, 'a', whose pixels map follows\n"),
    ("input: 4x4:int64\nlayers:\n  - embedding num=10 dim=8\n  - reshape shape=16x8 name=x\n",
     "error: 'x' holds no axes of positions of 'input' (a flatten or reshape merged them): map a layer before it\n"),
])
def test_map_says_which_inputs_it_follows(spec: str, message: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "spec.yaml"
    path.write_text(spec)
    result = netcalc("map", str(path), "--layer", "x", "--at", "0")
    assert (result.exit_code, result.stderr) == (2, message)
