"""The Python API (docs/python-api.md): `netcalc.analyze` gives the figures `netcalc summary`
gives, as objects, as the same JSON, as the same table in Jupyter; an invalid spec raises
SpecError with the lines the command line prints; `import netcalc` stays cheap."""

from __future__ import annotations

import doctest
import io
import json
import pickle
import re
import subprocess
import sys
import traceback
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import netcalc
from netcalc.cli.app import app
from netcalc.core import python_api

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
runner = CliRunner()


def cli(*args: str) -> Any:
    return runner.invoke(app, list(args))


# --- the figures, checked by hand ------------------------------------------------------------


def test_seed_rf_row_by_row() -> None:
    """Two k3 s2 p1 convolutions of one channel on 1x5x5 (the seed notes): 9 weights and a
    bias each; 3x3 outputs of 9 MACs, then 2x2; FLOPs 2 per MAC plus the bias add; fields 3,
    then 3 + (3 - 1) * 2 = 7 at jump 4; effective padding 1, then 1 + 1 * 2 = 3."""
    r = netcalc.analyze("seed_rf")
    assert (r.name, r.input, r.output, r.output_layer) == ("seed_rf", {"input": (1, 5, 5)}, (1, 2, 2), "conv2")
    conv1, conv2 = r.rows
    assert (conv1.name, conv1.type, conv1.inputs, conv1.shape, conv1.window) == (
        "conv1", "conv", ("input",), (1, 3, 3), "k3 s2 p1")
    assert (conv1.params, conv1.macs, conv1.flops, conv1.activation_bytes) == (9 + 1, 9 * 9, 2 * 81 + 9, 9 * 4)
    assert (conv2.params, conv2.macs, conv2.flops, conv2.activation_bytes) == (10, 4 * 9, 2 * 36 + 4, 4 * 4)
    assert conv1.rf == python_api.ReceptiveField((3, 3), (2, 2), (0, 0), (1, 1), False)
    assert conv2.rf == python_api.ReceptiveField((7, 7), (4, 4), (0, 0), (3, 3), False)
    assert r.fields == {"conv1": conv1.rf, "conv2": conv2.rf}
    assert (conv1.line, conv1.col, conv1.depth) == (6, 1, 0)  # specs/seed_rf.net, line 6
    t = r.totals
    assert (t.layers, t.params, t.trainable_params, t.non_trainable_params, t.buffers) == (2, 20, 20, 0, 0)
    assert (t.macs, t.flops) == (81 + 36, 171 + 76)
    # bytes at float32: input 25 elements, activations 9 + 4, parameters 20
    assert (t.input_bytes, t.activation_bytes, t.param_bytes, t.buffer_bytes) == (100, 52, 80, 0)
    assert t.total_bytes == 100 + 52 + 80 and t.kv_cache_bytes is None
    assert r.diagnostics == () and r.warnings == []


def test_batch_multiplies_work_and_dtype_sizes_bytes() -> None:
    """seed_rf at batch 4, float16: MACs, FLOPs, activation and input bytes times 4; every
    byte count at 2 bytes; shapes and parameter counts unchanged."""
    r = netcalc.analyze("seed_rf", batch=4, dtype="float16")
    assert (r.batch, r.dtype, r.output) == (4, "float16", (1, 2, 2))
    t = r.totals
    assert (t.params, t.macs, t.flops) == (20, 117 * 4, 247 * 4)
    assert (t.input_bytes, t.activation_bytes, t.param_bytes) == (25 * 2 * 4, 13 * 2 * 4, 20 * 2)
    assert r.rows[0].macs == 81 * 4 and r.rows[0].shape == (1, 3, 3)


def test_resnet18_published_figures_and_a_folded_block() -> None:
    """torchvision's 11,689,512 parameters and 1.814 GMACs; at depth 1 layer4 is one row: two
    basic blocks of 512 channels, bias-free convs, the first from 256 with a 1x1 downsample,
    five BatchNorms of 2 x 512 parameters and 2 x 512 + 1 buffers."""
    r = netcalc.analyze("resnet18", depth=1)
    assert r.totals.params == 11_689_512 and f"{r.totals.macs / 1e9:.4g}" == "1.814"
    assert [row.name for row in r.rows] == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                                            "avgpool", "flatten_1", "fc"]
    layer4 = r.row("layer4")
    assert layer4.params == 3 * 3 * 256 * 512 + 3 * 3 * 512 * 512 + 256 * 512 + 2 * 3 * 3 * 512 * 512 + 5 * 2 * 512
    assert layer4.buffers == 5 * (2 * 512 + 1) and layer4.shape == (512, 7, 7) and layer4.type == "stage"
    assert sum(row.params for row in r.rows) == r.totals.params  # totals are the rows', whatever the depth
    assert netcalc.analyze("resnet18").totals == r.totals


def test_resnet50_at_512_as_the_readme_derives_it() -> None:
    """Every feature map's side is 16/7 of its size at 224, so every convolution costs
    256/49 times as much; the classifier's 2048 x 1000 MACs stay; parameters do not change."""
    at_224, at_512 = netcalc.analyze("resnet50"), netcalc.analyze("resnet50", input="3x512x512")
    assert at_224.totals.macs == 4_089_184_256 and at_512.totals.params == at_224.totals.params == 25_557_032
    assert at_512.totals.macs == (4_089_184_256 - 2048 * 1000) * 256 // 49 + 2048 * 1000 == 21_355_249_664
    assert at_512.input == {"input": (3, 512, 512)} and at_512.output == (1000,)
    assert at_512.row("layer4.2.conv3").shape == (2048, 16, 16)


def test_gpt2_tokens_tied_head_and_kv_cache() -> None:
    """Token ids are int64 inputs; lm_head reuses transformer.wte's weight; the KV cache is
    12 layers x keys and values x 768 x 4 bytes per token, at 1024 tokens."""
    r = netcalc.analyze("gpt2")
    assert r.input == {"input_ids": (1024,), "position_ids": (1024,)}
    assert r.input_dtypes == {"input_ids": "int64", "position_ids": "int64"}
    assert r.totals.params == 124_439_808 and r.totals.macs == 145_824_153_600
    head = r.row("lm_head")
    assert (head.shares, head.params, head.shape) == ("transformer.wte", 0, (1024, 50257))
    assert r.row("transformer.wte").dtype == "float32" and r.outputs == {"lm_head": (1024, 50257)}
    assert r.totals.kv_cache_bytes_per_token == 12 * 2 * 768 * 4
    assert r.totals.kv_cache_bytes == 12 * 2 * 768 * 4 * 1024


def test_transposed_conv_fields_are_exact_fractions() -> None:
    """seed_deconv's convT (k3 s2) halves the jump: 1/2, which JSON writes "1/2"."""
    r = netcalc.analyze("seed_deconv")
    rf = r.row("conv3").rf
    assert rf is not None and rf.jump == (Fraction(1, 2), Fraction(1, 2)) and rf.size == (10, 10)
    assert r.to_dict()["layers"][2]["rf"]["jump"] == ["1/2", "1/2"]


def test_every_form_of_input_reads_the_same() -> None:
    shapes = [netcalc.analyze("seed_rf", input=given).input for given in
              ("2x9x9", (2, 9, 9), [2, 9, 9], ["input=2x9x9"], {"input": "2x9x9"}, {"input": (2, 9, 9)})]
    assert shapes == [{"input": (2, 9, 9)}] * 6
    r = netcalc.analyze("gpt2", input={"input_ids": "512:int64", "position_ids": (512,)})
    # position_ids given as integers keeps the spec's int64, as --input 512 does
    assert r.input == {"input_ids": (512,), "position_ids": (512,)} and r.output == (512, 50257)
    assert r.input_dtypes == {"input_ids": "int64", "position_ids": "int64"}


def test_a_path_and_a_name_are_the_same_spec() -> None:
    by_path = netcalc.analyze(SPECS / "seed_rf.net")
    assert by_path.to_dict() == netcalc.analyze("seed_rf").to_dict()
    assert by_path.file == str(SPECS / "seed_rf.net")


def test_analyze_text_in_either_syntax() -> None:
    """16 filters of 3x3x3 and a bias: 448 parameters; 16 x 32 x 32 outputs of 27 MACs."""
    yaml_text = "input: 3x32x32\nlayers:\n  - conv out=16 k=3 p=1\n  - relu\n"
    text = "input 3x32x32\nconv out=16 k=3 p=1\nrelu\n"
    a, b = netcalc.analyze_text(yaml_text), netcalc.analyze_text(text, file="tiny.net")
    assert (a.name, b.name, a.file, b.file) == ("spec", "tiny", "<string>", "tiny.net")
    for r in (a, b):
        assert [row.name for row in r.rows] == ["conv_1", "relu_1"]
        assert (r.totals.params, r.totals.macs, r.output) == (448, 16 * 32 * 32 * 27, (16, 32, 32))
    assert netcalc.analyze_text(text, input="3x8x8", batch=2).totals.macs == 2 * 16 * 8 * 8 * 27


# --- the same documents as the command line -----------------------------------------------------

# (command-line options, the same as keyword arguments)
SAME = [
    ((), {}),
    (("--batch", "8", "--dtype", "bfloat16", "--depth", "2"), {"batch": 8, "dtype": "bfloat16", "depth": 2}),
    (("--input", "3x96x96", "--depth", "1"), {"input": "3x96x96", "depth": 1}),
]
SAME_SPECS = ["seed_rf", "seed_deconv", "resnet18", "unet", "gpt2"]


@pytest.mark.parametrize("options, kwargs", SAME, ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
@pytest.mark.parametrize("spec", SAME_SPECS)
def test_to_json_is_what_summary_prints(spec: str, options: tuple[str, ...], kwargs: dict[str, Any]) -> None:
    if "--input" in options and spec == "gpt2":
        options, kwargs = ("--input", "input_ids=96:int64", "--input", "position_ids=96:int64"), {
            "input": {"input_ids": "96:int64", "position_ids": "96:int64"}}
    printed = cli("summary", spec, *options, "--format", "json")
    assert printed.exit_code == 0, printed.output
    r = netcalc.analyze(spec, **kwargs)
    assert r.to_json() == printed.stdout
    assert json.loads(r.to_json()) == r.to_dict()


def test_to_dict_is_a_new_copy() -> None:
    r = netcalc.analyze("seed_rf")
    r.to_dict()["layers"][0]["params"] = -1
    assert r.to_dict()["layers"][0]["params"] == 10 and r.rows[0].params == 10


class Tables(HTMLParser):
    """The cells of every table of an HTML fragment: tables -> rows -> cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def html_tables(html: str) -> list[list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def markdown(text: str) -> tuple[list[list[str]], list[str]]:
    """A markdown summary's table rows (header first) and its footer lines."""
    lines = text.splitlines()
    rows = [line[2:-2].split(" | ") for line in lines if line.startswith("| ")]
    return rows, [line for line in lines if line.startswith("- ")]


@pytest.mark.parametrize("options, kwargs", SAME, ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
@pytest.mark.parametrize("spec", SAME_SPECS)
def test_the_jupyter_table_has_the_cells_of_the_markdown_summary(spec: str, options: tuple[str, ...],
                                                                 kwargs: dict[str, Any]) -> None:
    if "--input" in options and spec == "gpt2":
        options, kwargs = ("--depth", "1"), {"depth": 1}
    printed = cli("summary", spec, *options, "--format", "markdown")
    assert printed.exit_code == 0, printed.output
    rows, footer = markdown(printed.stdout)
    r = netcalc.analyze(spec, **kwargs)
    html = r._repr_html_()
    table, totals = html_tables(html)
    assert table == rows
    assert [f"- {label}: {text}" for label, text in totals] == footer
    assert html.startswith('<div class="netcalc-summary"><p><strong>') and f"{r.name}: " in html
    text = str(r)  # print(r): the same cells and totals as plain text
    assert all(f"{line[2:]}" in text.splitlines() for line in footer)
    assert len(text.splitlines()) == 3 + len(r.rows) + len(footer)


def test_the_jupyter_table_escapes_and_indents() -> None:
    r = netcalc.analyze_text("input: 1x3x32x32\nlayers:\n  - conv out=4 k=3\n")  # warned: a batch axis?
    html = r._repr_html_()
    assert r.warnings[0].startswith("<string>:1:8: warning: input 1x3x32x32 is read as 1 channel")
    assert "<code>&lt;string&gt;:1:8: warning: input 1x3x32x32" in html and "<string>" not in html
    folded = netcalc.analyze("resnet18", depth=2)._repr_html_()  # nested rows indented by their depth
    assert 'padding-left:0.5em">conv1<' in folded and 'padding-left:1.5em">layer1.0<' in folded


def test_a_long_network_shows_its_ends_in_jupyter() -> None:
    """600 layers: the first and last 250 rows, and a row saying 100 are left out."""
    r = netcalc.analyze_text("input 8\n" + "relu\n" * 600)
    (table, _) = html_tables(r._repr_html_())
    body = table[1:]
    assert len(body) == 501 and body[0][0] == "relu_1" and body[-1][0] == "relu_600"
    assert body[249][0] == "relu_250" and body[251][0] == "relu_351"
    assert body[250][0].startswith("… 100 rows left out here")
    assert len(r.rows) == 600 and len(str(r).splitlines()) == 3 + 600 + 12


def test_repr_is_one_line() -> None:
    assert repr(netcalc.analyze("resnet50", input="3x512x512", batch=8, dtype="float16", depth=2)) == (
        "<netcalc.Summary resnet50: input 3x512x512 -> 1000; 175 layers, 25,557,032 params, 170.84 G MACs; "
        "batch 8, float16, depth 2>")
    assert repr(netcalc.analyze("gpt2")).startswith(
        "<netcalc.Summary gpt2: input_ids 1024:int64, position_ids 1024:int64 -> 1024x50257; ")


def test_warnings_are_the_lines_the_command_line_prints() -> None:
    printed = cli("summary", "seed_rf", "--input", "1x3x32x32", "--format", "json")
    assert printed.exit_code == 0
    r = netcalc.analyze("seed_rf", input="1x3x32x32")
    assert r.warnings == printed.stderr.splitlines()
    assert [d.id for d in r.diagnostics] == ["batch-in-input"]
    assert repr(r).endswith("; 1 warning(s)>") and "batch-in-input" in r._repr_html_()


def test_an_onnx_model_as_the_command_line_reads_it(tmp_path: Path) -> None:
    """Conv of 4 filters 3x3 over 3 channels, padded 1, on 3x8x8: 4 x 27 weights and 4 biases;
    4 x 8 x 8 outputs of 27 MACs."""
    onnx = pytest.importorskip("onnx")
    np = pytest.importorskip("numpy")
    from onnx import TensorProto, helper, numpy_helper

    weights = [numpy_helper.from_array(np.zeros(dims, np.float32), name) for name, dims in
               (("w", (4, 3, 3, 3)), ("b", (4,)))]
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", pads=[1, 1, 1, 1])],
                              "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], weights)
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    r = netcalc.analyze(path)
    assert (r.output, r.totals.params, r.totals.macs) == ((4, 8, 8), 4 * 27 + 4, 4 * 64 * 27)
    assert r.to_json() == cli("summary", str(path), "--format", "json").stdout


def test_a_file_that_is_not_onnx_is_a_spec_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07garbage that is no protobuf \xff\xff")
    with pytest.raises(netcalc.SpecError) as info:
        netcalc.analyze(path)
    assert [(d.id, d.span.line, d.span.col) for d in info.value.errors] in (
        [("invalid-onnx", 1, 1)], [("onnx-not-installed", 1, 1)])  # the latter without the onnx package


# --- errors --------------------------------------------------------------------------------------

BAD = "input: 3x32x32\nlayers:\n  - conv out=16 k=3 p=1\n  - convv out=8\n  - linear outt=3\n"


def test_an_invalid_spec_raises_spec_error_with_every_problem(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(BAD)
    printed = cli("summary", str(spec))
    assert printed.exit_code == 2
    with pytest.raises(netcalc.SpecError) as info:
        netcalc.analyze(spec)
    exc = info.value
    assert exc.messages == printed.stderr.splitlines()  # what the command line prints, line for line
    assert exc.messages[0] == f"{spec}:4:5: error: unknown layer type 'convv'; did you mean 'conv'? [unknown-type]"
    assert str(exc) == "\n".join(exc.messages)
    # `convv` after "  - " (column 5, line 4); `outt` after "  - linear " (column 12, line 5)
    assert [(d.id, d.severity.value, d.span.file, d.span.line, d.span.col) for d in exc.diagnostics] == [
        ("unknown-type", "error", str(spec), 4, 5), ("unknown-argument", "error", str(spec), 5, 12)]
    assert exc.errors == exc.diagnostics and exc.diagnostics[1].hint == "did you mean 'out'?"
    assert isinstance(exc, ValueError)


def test_spec_error_raised_from_the_api_not_from_deep_inside() -> None:
    with pytest.raises(netcalc.SpecError) as info:
        netcalc.analyze_text(BAD)
    frames = traceback.extract_tb(info.tb)
    assert [(Path(f.filename).name, f.name) for f in frames[1:]] == [("python_api.py", "analyze_text")]
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert info.value.messages[0].startswith("<string>:4:5: error: unknown layer type 'convv'")


def test_spec_error_pickles() -> None:
    with pytest.raises(netcalc.SpecError) as info:
        netcalc.analyze_text(BAD)
    again = pickle.loads(pickle.dumps(info.value))
    assert again.diagnostics == info.value.diagnostics and str(again) == str(info.value)


def test_an_unreadable_input_is_a_spec_error_at_the_option() -> None:
    with pytest.raises(netcalc.SpecError) as info:
        netcalc.analyze("seed_rf", input="3x")
    assert info.value.messages == ["--input:1:1: error: --input 3x: cannot read value '3x' [invalid-input]"]
    with pytest.raises(netcalc.SpecError, match="the spec has no input 'ids'"):
        netcalc.analyze("seed_rf", input={"ids": "3x8x8"})


@pytest.mark.parametrize("spec, message", [
    ("resnt50", "no spec file 'resnt50' and no built-in spec of that name; did you mean 'resnet50'?"),
    ("missing.yaml", "no spec file 'missing.yaml'"),
    ("x" * 5000, "no spec file 'xxxx"),
    ("input: 3x8x8\nlayers:\n  - relu\n", "use netcalc.analyze_text(text)"),
])
def test_a_missing_spec_raises_spec_not_found(spec: str, message: str) -> None:
    with pytest.raises(netcalc.SpecNotFound) as info:
        netcalc.analyze(spec)
    assert message in str(info.value)
    exc = info.value
    assert isinstance(exc, FileNotFoundError) and exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__  # the core's exception is not shown
    assert {Path(f.filename).name for f in traceback.extract_tb(info.tb)[1:]} == {"python_api.py"}


def test_a_directory_is_not_a_spec(tmp_path: Path) -> None:
    with pytest.raises(netcalc.SpecNotFound, match="is a directory, not a spec file"):
        netcalc.analyze(tmp_path)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"batch": 0}, ValueError, "batch must be at least 1, not 0"),
    ({"batch": True}, TypeError, "batch must be an int, not bool"),
    ({"batch": 2.0}, TypeError, "batch must be an int, not float"),
    ({"dtype": "fp16"}, ValueError, "dtype 'fp16' is not one of float32, float16, bfloat16, int8, float64"),
    ({"depth": 0}, ValueError, "depth must be at least 1"),
    ({"input": 3.5}, TypeError, "an input shape is a str such as '3x224x224'"),
    ({"input": [3, "x"]}, TypeError, "an input shape is a str"),
    ({"input": {"input": [3.0, 8, 8]}}, TypeError, "an input shape is a str"),
])
def test_arguments_are_checked_as_the_command_line_checks_its_options(kwargs: dict[str, Any], error: type,
                                                                      message: str) -> None:
    with pytest.raises(error, match=re.escape(message)):
        netcalc.analyze("seed_rf", **kwargs)
    with pytest.raises(error, match=re.escape(message)):
        netcalc.analyze_text("input 1x5x5\nconv out=1 k=3\n", **kwargs)


def test_a_spec_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="not int"):
        netcalc.analyze(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="as a str, not bytes"):
        netcalc.analyze_text(b"input 8\nrelu\n")  # type: ignore[arg-type]


def test_row_names_a_missing_row() -> None:
    with pytest.raises(KeyError, match="no row 'conv3' in seed_rf; did you mean 'conv2'"):
        netcalc.analyze("seed_rf").row("conv3")


# --- pandas -------------------------------------------------------------------------------------


def test_to_dataframe() -> None:
    pandas = pytest.importorskip("pandas")
    r = netcalc.analyze("resnet18", depth=1, batch=2)
    df = r.to_dataframe()
    assert isinstance(df, pandas.DataFrame)
    assert list(df.columns) == list(python_api.DATAFRAME_COLUMNS) and len(df) == len(r.rows) == 11
    assert list(df["name"]) == [row.name for row in r.rows]
    assert int(df["params"].sum()) == 11_689_512 and int(df["macs"].sum()) == r.totals.macs
    layer4 = df.set_index("name").loc["layer4"]
    assert layer4["shape"] == (512, 7, 7) and layer4["rf.size"] == (435, 435) and layer4["type"] == "stage"
    assert df.set_index("name").loc["fc", "rf.global"] is not None


def test_to_dataframe_without_pandas_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if it were not installed
    message = "Summary.to_dataframe() needs pandas, which netcalc does not install: pip install pandas"
    with pytest.raises(ImportError, match=re.escape(message)):
        netcalc.analyze("seed_rf").to_dataframe()


# --- the package --------------------------------------------------------------------------------


def modules_after(code: str) -> list[str]:
    """The modules a fresh interpreter holds after `code` that it did not hold before."""
    script = f"import sys\nbefore = set(sys.modules)\n{code}\nafter = sorted(set(sys.modules) - before)\n" \
             "import json\nprint(json.dumps(after))\n"
    return list(json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                          check=True).stdout))


def test_import_netcalc_imports_nothing_else() -> None:
    """The command line imports the package on every run: the API is imported on first use."""
    assert modules_after("import netcalc") == ["netcalc"]
    first_use = modules_after("import netcalc; netcalc.analyze('seed_rf')")  # a text spec: no PyYAML either
    assert "netcalc.core.python_api" in first_use
    assert not {m.split(".")[0] for m in first_use} & {"typer", "click", "rich", "yaml", "pandas"}
    assert "netcalc.core.python_api" not in modules_after("import netcalc.cli.app")


def test_the_package_exports_the_api() -> None:
    assert set(netcalc.__all__) == {"__version__", *python_api.__all__}
    assert {name: getattr(netcalc, name) for name in python_api.__all__} == {
        name: getattr(python_api, name) for name in python_api.__all__}
    assert set(python_api.__all__) <= set(dir(netcalc))
    with pytest.raises(AttributeError, match="module 'netcalc' has no attribute 'analyse'"):
        netcalc.analyse  # type: ignore[attr-defined]  # noqa: B018


# --- the examples of the README and docs/python-api.md ------------------------------------------

PAGES = [ROOT / "README.md", ROOT / "docs" / "python-api.md"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_the_sessions_in_the_docs_print_what_they_show(page: Path) -> None:
    """Every ```pycon block of the page, run in order as one doctest session."""
    blocks = re.findall(r"```pycon\n(.*?)```", page.read_text(), re.S)
    assert blocks
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, page.name, str(page), 0)
    out = io.StringIO()
    result = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS).run(test, out=out.write)
    assert result.failed == 0, out.getvalue()
    assert result.attempted >= 4


def test_the_readme_notebook_example_runs() -> None:
    """The ```python blocks of the README that use netcalc (to_dataframe when pandas is there)."""
    blocks = [b for b in re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
              if "netcalc." in b]
    assert blocks
    for block in blocks:
        if "to_dataframe" in block:
            pytest.importorskip("pandas")
        namespace: dict[str, Any] = {}
        exec(compile(block, "README.md", "exec"), namespace)
        r = namespace["r"]
        assert isinstance(r, netcalc.Summary) and (r.batch, r.dtype) == (8, "float16")
        assert r.totals.macs == 8 * 21_355_249_664 and len(namespace["df"]) == 175


def test_train_adds_saved_bytes_and_the_training_totals() -> None:
    # seed_rf: the convolutions keep their inputs, 25 and 9 floats; 20 params, Adam 2 states each
    summary = netcalc.analyze("seed_rf", train="adam")
    assert [row.saved_bytes for row in summary.rows] == [100, 36]
    t = summary.totals
    assert (t.saved_activation_bytes, t.gradient_bytes, t.optimizer_state_bytes, t.train_memory_bytes) == (
        136, 80, 160, 456)
    assert netcalc.analyze("seed_rf").totals.train_memory_bytes is None
    assert "Optimizer states (adam" in summary._repr_html_()


@pytest.mark.parametrize("kwargs, message", [
    ({"train": "rmsprop"}, "not one of sgd, sgd-momentum, adam, adamw"),
    ({"grad_dtype": "float16"}, "needs train="),
    ({"train": "adam", "dtype": "int8"}, "int8 is no type to train in"),
    ({"train": "adam", "grad_dtype": "half"}, "grad_dtype 'half' is not one of"),
    ({"checkpoint": "basic"}, "checkpoint= needs train="),
    ({"train": "adam", "checkpoint": "GPT2Block"}, "checkpoint='GPT2Block': seed_rf has no block 'GPT2Block'"),
    ({"train": "adam", "grad_dtype": "int8"}, "grad_dtype='int8': int8 is no type for gradients"),
])
def test_train_arguments_are_checked(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        netcalc.analyze("seed_rf", **kwargs)


def test_checkpoint_adds_the_recomputation_to_the_training_total() -> None:
    plain, checkpointed = netcalc.analyze("resnet18", train="sgd"), netcalc.analyze("resnet18", train="sgd",
                                                                                    checkpoint="basic")
    assert plain.totals.recomputed_bytes is None and checkpointed.totals.recomputed_bytes
    assert checkpointed.totals.saved_activation_bytes < plain.totals.saved_activation_bytes
    t = checkpointed.totals
    assert t.train_memory_bytes == (t.master_param_bytes + t.buffer_bytes + t.gradient_bytes
                                    + t.optimizer_state_bytes + t.saved_activation_bytes + t.recomputed_bytes)
