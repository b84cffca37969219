"""ONNX models read as specs: hand-built graphs (onnx.helper) for each mapped attribute
case, hand-checked and, where onnxruntime is installed, its output shape cross-checked;
positioned refusals; and the round trip spec -> PyTorch -> ONNX -> netcalc on the
built-ins, which must give the same layers, shapes, parameters, buffers and MACs."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from netcalc.core.api import analyze, analyze_source, document  # noqa: E402
from netcalc.core.convert import to_yaml  # noqa: E402
from netcalc.core.diff import diff  # noqa: E402

from helpers import errors, yaml_spec  # noqa: E402


def write_model(tmp_path: Path, nodes: list[Any], inputs: dict[str, list[Any]], outputs: list[str],
                weights: dict[str, Any] | None = None, opset: int = 17, name: str = "m") -> Path:
    """A model of `nodes` reading `inputs` (name -> dims, batch first; strings are symbolic),
    with `weights` (name -> dims, or an array) as initializers."""
    initializers = []
    for key, value in (weights or {}).items():
        array = value if isinstance(value, np.ndarray) else np.random.rand(*value).astype(np.float32)
        initializers.append(numpy_helper.from_array(array, key))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, dims) for k, dims in inputs.items()],
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, None) for k in outputs],
        initializers)
    path = tmp_path / f"{name}.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


def runtime_shape(path: Path, inputs: dict[str, list[Any]]) -> tuple[int, ...] | None:
    """The output shape onnxruntime computes, without the batch axis (None without it)."""
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {k: np.random.rand(*[1 if isinstance(d, str) else d for d in dims]).astype(np.float32)
             for k, dims in inputs.items()}
    return tuple(session.run(None, feeds)[0].shape[1:])


def node(op: str, inputs: list[str], outputs: list[str], name: str = "", **attrs: Any) -> Any:
    return helper.make_node(op, inputs, outputs, name=name or f"{op}_{outputs[0]}", **attrs)


X = {"x": [1, 3, 8, 8]}

# (id, nodes, weights, layer type, shape, params, MACs), each hand-checked
CASES = [
    ("conv-pads-symmetric", [node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])],
     {"w": [4, 3, 3, 3], "b": [4]}, "conv", (4, 8, 8), 4 * 27 + 4, 4 * 64 * 27),
    # pads [0,0,1,1]: one row and column after; (8 + 1 - 3) // 2 + 1 = 4
    ("conv-pads-per-side", [node("Conv", ["x", "w"], ["y"], pads=[0, 0, 1, 1], strides=[2, 2])],
     {"w": [4, 3, 3, 3]}, "conv", (4, 4, 4), 108, 4 * 16 * 27),
    # SAME_UPPER at stride 2: ceil(8 / 2) = 4
    ("conv-same-upper", [node("Conv", ["x", "w"], ["y"], auto_pad="SAME_UPPER", strides=[2, 2])],
     {"w": [2, 3, 4, 4]}, "conv", (2, 4, 4), 96, 2 * 16 * 48),
    # SAME_LOWER, k4 s2 on 8: total padding (4 - 1) * 2 + 4 - 8 = 2, one before and one after
    ("conv-same-lower", [node("Conv", ["x", "w"], ["y"], auto_pad="SAME_LOWER", strides=[2, 2])],
     {"w": [2, 3, 4, 4]}, "conv", (2, 4, 4), 96, 2 * 16 * 48),
    # groups: 3 channels in 3 groups, 6 out: weight 6 x 1 x 3 x 3
    ("conv-groups-dilation", [node("Conv", ["x", "w"], ["y"], group=3, dilations=[2, 2])],
     {"w": [6, 1, 3, 3]}, "conv", (6, 4, 4), 54, 6 * 16 * 9),
    # (8 - 1) * 2 - 2 + 3 + 1 = 16 wanted as output_shape: output padding 1
    ("convT-output-shape", [node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1],
                                 output_shape=[16, 16])],
     {"w": [3, 5, 3, 3]}, "convT", (5, 16, 16), 135, 3 * 64 * 45),
    ("convT-output-padding", [node("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2, 2], output_padding=[1, 1])],
     {"w": [3, 5, 3, 3], "b": [5]}, "convT", (5, 18, 18), 140, 3 * 64 * 45),
    # ceil mode: (8 + 2 - 3) / 2 = 3.5 -> 4, + 1 = 5; the last window starts at 8, inside n + p = 9: kept
    ("maxpool-ceil", [node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                           ceil_mode=1)], {}, "maxpool", (3, 5, 5), 0, 0),
    # ONNX's pool strides default to 1 (PyTorch's to the kernel)
    ("avgpool-default-stride", [node("AveragePool", ["x"], ["y"], kernel_shape=[2, 2])],
     {}, "avgpool", (3, 7, 7), 0, 0),
    ("maxpool-same-upper", [node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                                 auto_pad="SAME_UPPER")], {}, "maxpool", (3, 4, 4), 0, 0),
    ("global-average", [node("GlobalAveragePool", ["x"], ["y"])], {}, "gap", (3, 1, 1), 0, 0),
    ("reduce-mean-flat", [node("ReduceMean", ["x"], ["y"], axes=[2, 3], keepdims=0)], {}, "flatten", (3,), 0, 0),
    ("batchnorm", [node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)],
     {"s": [3], "b": [3], "m": [3], "v": [3]}, "bn", (3, 8, 8), 6, 0),
    ("flatten-gemm-transB", [node("Flatten", ["x"], ["f"]), node("Gemm", ["f", "w", "b"], ["y"], transB=1)],
     {"w": [10, 192], "b": [10]}, "linear", (10,), 1930, 1920),
    ("gemm-no-transB", [node("Flatten", ["x"], ["f"]), node("Gemm", ["f", "w"], ["y"])],
     {"w": [192, 10]}, "linear", (10,), 1920, 1920),
    # MatMul then Add of a vector: nn.Linear on 3-D input, as exporters write it
    ("matmul-add-is-linear", [node("MatMul", ["x", "w"], ["m"]), node("Add", ["m", "b"], ["y"])],
     {"w": [8, 5], "b": [5]}, "linear", (3, 8, 5), 45, 3 * 8 * 5 * 8),
    # Reshape [0, -1]: keep the batch, flatten the rest
    ("reshape-flatten", [node("Reshape", ["x", "s"], ["y"])], {"s": np.array([0, -1], dtype=np.int64)},
     "flatten", (192,), 0, 0),
    ("reshape-zero-copies", [node("Reshape", ["x", "s"], ["y"])], {"s": np.array([0, 0, -1, 4], dtype=np.int64)},
     "reshape", (3, 16, 4), 0, 0),
    # a shape computed from the tensor: Shape -> Gather -> Unsqueeze -> Concat -> Reshape
    ("shape-subgraph-folded", [node("Shape", ["x"], ["sh"]), node("Gather", ["sh", "zero"], ["n"]),
                               node("Unsqueeze", ["n", "axes"], ["n1"]), node("Concat", ["n1", "rest"], ["t"], axis=0),
                               node("Reshape", ["x", "t"], ["y"])],
     {"zero": np.array(0, dtype=np.int64), "axes": np.array([0], dtype=np.int64),
      "rest": np.array([3, 64], dtype=np.int64)}, "reshape", (3, 64), 0, 0),
    ("transpose-channels-last", [node("Transpose", ["x"], ["y"], perm=[0, 2, 3, 1])], {}, "permute", (8, 8, 3), 0, 0),
    ("concat-channels", [node("Relu", ["x"], ["r"]), node("Concat", ["x", "r"], ["y"], axis=1)],
     {}, "concat", (6, 8, 8), 0, 0),
    ("pad-reflect", [node("Pad", ["x", "p"], ["y"], mode="reflect")],
     {"p": np.array([0, 0, 1, 2, 0, 0, 1, 2], dtype=np.int64)}, "pad", (3, 10, 12), 0, 0),
    ("resize-scales", [node("Resize", ["x", "", "sc"], ["y"], mode="nearest")],
     {"sc": np.array([1, 1, 2, 2], dtype=np.float32)}, "upsample", (3, 16, 16), 0, 0),
    ("hard-sigmoid-as-pytorch", [node("HardSigmoid", ["x"], ["y"], alpha=1 / 6)], {}, "hardsigmoid", (3, 8, 8), 0, 0),
    ("silu-pattern", [node("Sigmoid", ["x"], ["s"]), node("Mul", ["x", "s"], ["y"])], {}, "silu", (3, 8, 8), 0, 0),
    ("clip-is-relu6", [node("Clip", ["x", "lo", "hi"], ["y"])],
     {"lo": np.array(0, dtype=np.float32), "hi": np.array(6, dtype=np.float32)}, "relu6", (3, 8, 8), 0, 0),
    ("slice-channels", [node("Slice", ["x", "st", "en", "ax"], ["y"])],
     {"st": np.array([1], dtype=np.int64), "en": np.array([3], dtype=np.int64), "ax": np.array([1], dtype=np.int64)},
     "slice", (2, 8, 8), 0, 0),
]


@pytest.mark.parametrize("case_id, nodes, weights, op, shape, params, macs", CASES, ids=[c[0] for c in CASES])
def test_an_onnx_operator_maps_exactly(tmp_path: Path, case_id: str, nodes: list[Any], weights: dict[str, Any],
                                       op: str, shape: tuple[int, ...], params: int, macs: int) -> None:
    path = write_model(tmp_path, nodes, X, ["y"], weights)
    report = analyze(str(path))
    assert errors(report) == []
    last = report.graph.layers[-1]
    assert (last.op, report.shapes[last.name].dims) == (op, shape)
    totals = report.totals()
    assert (totals["params"], totals["macs"]) == (params, macs)
    measured = runtime_shape(path, X)
    assert measured is None or measured == shape


@pytest.mark.parametrize("nodes, weights, expected", [
    ([node("Erf", ["x"], ["y"], name="/block/Erf")], {}, ("unknown-operator", 1, 1)),
    # the batch axis moved to the output's second place: no output netcalc can state
    ([node("Relu", ["x"], ["r"]), node("Transpose", ["r"], ["y"], perm=[1, 0, 2, 3])], {}, ("unsupported-node", 2, 1)),
    # a Div by a learned tensor: a parameter or a buffer, ONNX does not say
    ([node("Div", ["x", "w"], ["y"])], {"w": [3, 1, 1]}, ("unsupported-node", 1, 1)),
    ([node("Flatten", ["x"], ["f"]), node("Gemm", ["f", "w"], ["y"], transA=1)], {"w": [192, 4]},
     ("unsupported-node", 2, 1)),
    # 3 input channels against a weight for 4
    ([node("Conv", ["x", "w"], ["y"])], {"w": [2, 4, 3, 3]}, ("shape-mismatch", 1, 1)),
])
def test_what_cannot_be_mapped_is_refused_at_its_node(tmp_path: Path, nodes: list[Any], weights: dict[str, Any],
                                                      expected: tuple[str, int, int]) -> None:
    report = analyze(str(write_model(tmp_path, nodes, X, ["y"], weights)))
    assert errors(report) == [expected]


def test_the_refusal_names_the_node_its_type_and_index(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from netcalc.cli.app import app

    path = write_model(tmp_path, [node("Relu", ["x"], ["r"]), node("Softplus", ["r"], ["y"], name="/block/Softplus")],
                       X, ["y"])
    result = CliRunner().invoke(app, ["summary", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2:1: error: node 2 '/block/Softplus' (Softplus): ONNX operator Softplus is not mapped" \
        in result.stderr


def test_a_symbolic_dimension_needs_its_size_from_input(tmp_path: Path) -> None:
    inputs = {"x": ["batch", 3, "height", 8]}
    path = write_model(tmp_path, [node("Relu", ["x"], ["y"])], inputs, ["y"])
    refused = analyze(str(path))
    assert errors(refused) == [("symbolic-dimension", 1, 1)]
    assert "'height'" in refused.diagnostics[0].message
    given = analyze(str(path), ["x=3x16x8"])
    assert errors(given) == [] and given.shapes["Relu_y"].dims == (3, 16, 8)


def test_weights_listed_as_inputs_are_weights_and_unread_inputs_are_ignored(tmp_path: Path) -> None:
    """Older files (IR 3) list every initializer among the graph's inputs too."""
    graph = helper.make_graph(
        [node("Conv", ["x", "w"], ["y"])], "old",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [2, 3, 3, 3]),
         helper.make_tensor_value_info("unused", TensorProto.FLOAT, [1, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.zeros((2, 3, 3, 3), dtype=np.float32), "w")])
    path = tmp_path / "old.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 9)], ir_version=3), str(path))
    report = analyze(str(path))
    assert errors(report) == []
    assert [i.name for i in report.graph.inputs] == ["x"] and report.totals()["params"] == 54


def test_without_the_onnx_package_the_error_says_what_to_install(tmp_path: Path, monkeypatch: Any) -> None:
    from netcalc.core.onnx import model

    path = write_model(tmp_path, [node("Relu", ["x"], ["y"])], X, ["y"])
    monkeypatch.setattr(model, "onnx_module", lambda: None)
    report = analyze(str(path))
    assert errors(report) == [("onnx-not-installed", 1, 1)]
    assert report.diagnostics[0].hint == 'pip install "netcalc[onnx]"'


def test_a_file_that_is_not_onnx_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07garbage that is no protobuf \xff\xff")
    assert errors(analyze(str(path))) == [("invalid-onnx", 1, 1)]


# --- the round trip: spec -> PyTorch -> ONNX (torch's exporter) -> netcalc ------------------

def exported(spec: Any, path: Path, opset: int) -> Path:
    """The spec through `netcalc export --to torch`, then torch's TorchScript exporter, with
    BatchNorm kept as its own node (no constant folding, training mode preserved)."""
    torch = pytest.importorskip("torch")
    from test_export import load_model

    from netcalc.core.export import to_torch

    model = load_model(to_torch(spec))
    example = tuple(torch.zeros(1, *i.shape.dims, dtype=getattr(torch, i.shape.dtype)) if i.shape.dtype != "float32"
                    else torch.randn(1, *i.shape.dims) for i in spec.graph.inputs)
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice
        warnings.simplefilter("ignore")
        torch.onnx.export(model, example, str(path), dynamo=False, opset_version=opset, do_constant_folding=False,
                          training=torch.onnx.TrainingMode.PRESERVE)
    return path


# The built-ins read back layer by layer (the transformers below agree in their totals;
# PyTorch cannot export shufflenet_v2_x1_0's channel shuffle: see docs/onnx.md)
ROUND_TRIP = ["alexnet", "efficientnet_b0", "mobilenet_v2", "mobilenet_v3_large", "resnet18", "resnet50",
              "seed_deconv", "seed_rf", "tf-slim/alexnet_v2", "tf-slim/mobilenet_v1", "tf-slim/resnet_v1_50",
              "tf-slim/vgg_16", "unet", "vgg16"]


@pytest.mark.torch
@pytest.mark.parametrize("name", ROUND_TRIP)
def test_a_builtin_exported_to_onnx_reads_back_layer_by_layer(tmp_path: Path, name: str) -> None:
    spec = analyze(name)
    path = exported(spec, tmp_path / "model.onnx", opset=17)
    read = analyze(str(path))
    assert errors(read) == []
    # PyTorch's exporter leaves out what does nothing at inference (dropout, identity)
    kept = [layer for layer in spec.graph.layers if layer.op not in ("dropout", "identity")]
    assert [layer.name for layer in read.graph.layers] == [layer.name for layer in kept]
    for layer in kept:
        a, b = spec.costs[layer.name], read.costs[layer.name]
        assert (spec.shapes[layer.name], a.params, a.buffers, a.macs) == \
            (read.shapes[layer.name], b.params, b.buffers, b.macs), layer.name
    # ONNX has no adaptive pools (the exporter writes the fixed window one computes at this
    # size), and a depthwise conv is a Conv of as many groups as channels
    changes = {(row["name"], row["type"]) for row in diff(spec, read)["layers"] if row["status"] == "changed"}
    assert changes <= {(name, t) for name, _ in changes for t in EQUIVALENT_TYPES}
    removed = [row["name"] for row in diff(spec, read)["layers"] if row["status"] != "changed"]
    assert removed == [layer.name for layer in spec.graph.layers if layer not in kept]
    # `netcalc import`: a spec that expands to the same layers, and checks clean
    imported = analyze_source(to_yaml(document(str(path))), "imported.yaml")
    assert errors(imported) == [] and diff(read, imported)["layers"] == []
    assert imported.totals() == read.totals()


EQUIVALENT_TYPES = ("adaptiveavgpool → gap", "adaptiveavgpool → avgpool", "adaptivemaxpool → maxpool",
                    "dwconv → conv")


def test_import_writes_modules_as_blocks_and_a_chain_of_equal_ones_as_a_repeat(tmp_path: Path) -> None:
    """Two equal units `stage.0`, `stage.1` (conv, relu, add of the unit's input) and a head:
    one block definition, used with repeat=2, and the layer names of the file."""
    nodes, weights, previous = [], {}, "x"
    for unit in range(2):
        scope = f"/stage/stage.{unit}"
        nodes += [node("Conv", [previous, f"w{unit}"], [f"c{unit}"], name=f"{scope}/conv/Conv", pads=[1, 1, 1, 1]),
                  node("Relu", [f"c{unit}"], [f"r{unit}"], name=f"{scope}/act/Relu"),
                  node("Add", [f"r{unit}", previous], [f"a{unit}"], name=f"{scope}/Add")]
        weights[f"w{unit}"] = [3, 3, 3, 3]
        previous = f"a{unit}"
    nodes.append(node("GlobalAveragePool", [previous], ["y"], name="/pool/GlobalAveragePool"))
    path = write_model(tmp_path, nodes, X, ["y"], weights)
    text = to_yaml(document(str(path)))
    assert "- stage_0 name=stage repeat=2" in text and text.count("conv out=3") == 1
    imported = analyze_source(text, "imported.yaml")
    assert [layer.name for layer in imported.graph.layers] == [
        "stage.0.conv", "stage.0.act", "stage.0.add_1", "stage.1.conv", "stage.1.act", "stage.1.add_1", "pool"]
    assert diff(analyze(str(path)), imported)["layers"] == []


def test_import_cli_writes_the_file_and_refuses_a_spec(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from netcalc.cli.app import app

    path = write_model(tmp_path, [node("Conv", ["x", "w"], ["y"], name="/conv/Conv")], X, ["y"], {"w": [2, 3, 3, 3]})
    out = tmp_path / "spec.net"
    result = CliRunner().invoke(app, ["import", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    written = out.read_text().splitlines()[1:]
    assert written == ["input x=3x8x8", "output conv", "", "conv out=2 k=3 bias=false name=conv"]
    refused = CliRunner().invoke(app, ["import", "resnet18"])
    assert refused.exit_code == 2 and "is not an .onnx file" in refused.stderr


# --- the batch axis moving: attention's heads, sequence-first recurrence ----------------------

S = {"x": [1, 6, 8]}  # a sequence of 6 tokens of 8 features


def test_attention_written_sequence_first_counts_as_pytorch(tmp_path: Path) -> None:
    """x (1 x 6 x 8) to sequence first, a projection, 2 heads of 4 (reshape 6 x 2 x 4, heads
    first), the scaled scores, softmax, the values, back: MACs 6*8*8 + 2*(2*6*6*4)."""
    # the factor and the mask are Constant nodes (an initializer would be a learned tensor)
    mask = np.triu(np.full((6, 6), -1e9, dtype=np.float32), 1)
    nodes = [node("Constant", [], ["root"], value=numpy_helper.from_array(np.array(2.0, dtype=np.float32))),
             node("Constant", [], ["mask"], value=numpy_helper.from_array(mask)),
             node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),                      # 6 x 1 x 8
             node("MatMul", ["t", "w"], ["p"]),                                    # 6 x 1 x 8
             node("Reshape", ["p", "heads"], ["h"]),                               # 6 x 2 x 4
             node("Transpose", ["h"], ["q"], perm=[1, 0, 2]),                      # 2 x 6 x 4
             node("Div", ["q", "root"], ["qs"]),
             node("Transpose", ["q"], ["k"], perm=[0, 2, 1]),                      # 2 x 4 x 6
             node("MatMul", ["qs", "k"], ["scores"]),                              # 2 x 6 x 6
             node("Add", ["scores", "mask"], ["masked"]),
             node("Softmax", ["masked"], ["a"], axis=-1),
             node("MatMul", ["a", "q"], ["v"]),                                    # 2 x 6 x 4
             node("Transpose", ["v"], ["vt"], perm=[1, 0, 2]),                     # 6 x 2 x 4
             node("Reshape", ["vt", "back"], ["y"])]                               # 1 x 6 x 8
    weights = {"w": [8, 8], "heads": np.array([6, 2, 4], dtype=np.int64), "back": np.array([1, 6, 8], dtype=np.int64)}
    path = write_model(tmp_path, nodes, S, ["y"], weights)
    report = analyze(str(path))
    assert errors(report) == []
    totals = report.totals()
    assert (totals["params"], totals["macs"]) == (64, 6 * 8 * 8 + 2 * 6 * 6 * 4 * 2)
    assert report.shapes[report.graph.outputs[0]].dims == (6, 8)
    assert runtime_shape(path, S) in ((6, 8), None)
    types = [layer.op for layer in report.graph.layers]
    assert types.count("scale") == 1 and types.count("offset") == 1


def test_a_sequence_first_lstm_is_one_layer_with_pytorchs_parameters(tmp_path: Path) -> None:
    """A bidirectional LSTM of 5 hidden units on 8 features: 2 * (4*5*8 + 4*5*5 + 8*5) = 600."""
    nodes = [node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
             node("LSTM", ["t", "W", "R", "B"], ["y", "h", "c"], hidden_size=5, direction="bidirectional"),
             node("Transpose", ["y"], ["yt"], perm=[0, 2, 1, 3]),                  # 6 x 1 x 2 x 5
             node("Reshape", ["yt", "flat"], ["z"]),                               # 6 x 1 x 10
             node("Transpose", ["z"], ["out"], perm=[1, 0, 2])]                    # 1 x 6 x 10
    weights = {"W": [2, 20, 8], "R": [2, 20, 5], "B": [2, 40], "flat": np.array([6, 1, 10], dtype=np.int64)}
    path = write_model(tmp_path, nodes, S, ["out"], weights)
    report = analyze(str(path))
    assert errors(report) == []
    assert [layer.op for layer in report.graph.layers].count("lstm") == 1
    assert report.totals()["params"] == 600
    assert report.shapes[report.graph.outputs[0]].dims == (6, 10)


def test_a_weight_read_twice_is_one_tensor_as_a_tied_head(tmp_path: Path) -> None:
    """Gather(wte) for the ids and MatMul(x, Transpose(wte)) for the logits: 20 x 8 once."""
    graph = helper.make_graph(
        [node("Gather", ["wte", "ids"], ["e"]), node("Transpose", ["wte"], ["wt"], perm=[1, 0]),
         node("MatMul", ["e", "wt"], ["y"])], "tied",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.random.rand(20, 8).astype(np.float32), "wte")])
    path = tmp_path / "tied.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    report = analyze(str(path))
    assert errors(report) == []
    assert report.totals()["params"] == 160 and report.totals()["macs"] == 6 * 8 * 20
    assert report.graph.layers[-1].op == "linear"


# Transformers and recurrent nets, at opset 17 (GELU written as Erf arithmetic) and 20 (one
# Gelu node). Attention is written by the exporter as reshapes and products that move the
# batch axis: the totals, not the layer list, are the spec's.
TRANSFORMERS = [("bert_base", 17), ("convnext_tiny", 17), ("gpt2", 17), ("lstm_classifier", 17), ("vit_b_16", 17),
                ("vit_b_16", 20)]


@pytest.mark.torch
@pytest.mark.parametrize("name, opset", TRANSFORMERS)
def test_a_transformer_exported_to_onnx_has_the_specs_totals(tmp_path: Path, name: str, opset: int) -> None:
    spec = analyze(name)
    path = exported(spec, tmp_path / "model.onnx", opset=opset)
    read = analyze(str(path))
    assert errors(read) == []
    a, b = spec.totals(), read.totals()
    assert (a["params"], a["buffers"], a["macs"]) == (b["params"], b["buffers"], b["macs"])
    assert [read.shapes[o] for o in read.graph.outputs] == [spec.shapes[o] for o in spec.graph.outputs]


def _constant(name: str, array: Any) -> Any:
    return node("Constant", [], [name], value=numpy_helper.from_array(array))


ONES, ZEROS = np.ones(3, dtype=np.float32), np.zeros(3, dtype=np.float32)


# files netcalc must refuse at their node (never a traceback, never a guess), found by a
# hostile read of the reader
@pytest.mark.parametrize("nodes, weights, expected", [
    ([node("Concat", ["x", "x"], ["y"])], {}, ("invalid-onnx", 1, 1)),                         # no axis
    ([helper.make_node("Relu", ["x"], ["y"], domain="com.acme")], {}, ("unknown-operator", 1, 1)),
    ([node("PRelu", ["x", "s"], ["y"])], {"s": [3, 8, 8]}, ("unsupported-node", 1, 1)),        # no nn.PReLU
    ([node("Conv", ["x", "w"], ["y"], kernel_shape=[5, 5])], {"w": [4, 3, 3, 3]}, ("shape-mismatch", 1, 1)),
    ([node("Conv", ["x", "w", "b"], ["y"])], {"w": [4, 3, 3, 3], "b": [5]}, ("shape-mismatch", 1, 1)),
    ([node("Resize", ["x", "", "", "sz"], ["y"])], {"sz": np.array([5, 3, 16, 16], dtype=np.int64)},
     ("unsupported-node", 1, 1)),                                                              # resizes the batch
    ([node("Range", ["a", "b", "c"], ["r"]), node("Reshape", ["x", "r"], ["y"])],
     {"a": np.array(0, dtype=np.int64), "b": np.array(10**12, dtype=np.int64), "c": np.array(1, dtype=np.int64)},
     ("unsupported-node", 1, 1)),                                                              # no 10^12 constant
])
def test_a_hostile_file_is_refused_at_its_node(tmp_path: Path, nodes: list[Any], weights: dict[str, Any],
                                                expected: tuple[str, int, int]) -> None:
    assert errors(analyze(str(write_model(tmp_path, nodes, X, ["y"], weights)))) == [expected]


@pytest.mark.parametrize("inputs, expected", [
    ({"x": [1]}, ("invalid-input", 1, 1)),              # one value per sample (a timestep): no axis besides the batch
    ({"x": [1, 3, -5, 8]}, ("invalid-input", 1, 1)),
])
def test_an_input_netcalc_cannot_shape_is_refused(tmp_path: Path, inputs: dict[str, list[Any]],
                                                  expected: tuple[str, int, int]) -> None:
    path = write_model(tmp_path, [node("Relu", ["x"], ["y"])], inputs, ["y"])
    assert errors(analyze(str(path))) == [expected]


def test_a_norm_whose_scale_and_bias_are_constants_has_no_parameters(tmp_path: Path) -> None:
    """PyTorch writes BatchNorm2d(affine=False)'s ones and zeros as Constant nodes: its
    buffers are the running mean and variance (and num_batches_tracked), 3 + 3 + 1."""
    nodes = [_constant("s", ONES), _constant("b", ZEROS),
             node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"])]
    report = analyze(str(write_model(tmp_path, nodes, X, ["y"], {"m": [3], "v": [3]})))
    assert errors(report) == [] and (report.totals()["params"], report.totals()["buffers"]) == (0, 7)


def test_a_zero_pad_before_a_valid_conv_is_its_padding(tmp_path: Path) -> None:
    pads = np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64)
    nodes = [node("Pad", ["x", "p"], ["padded"]), node("Conv", ["padded", "w"], ["y"], auto_pad="VALID")]
    report = analyze(str(write_model(tmp_path, nodes, X, ["y"], {"p": pads, "w": [4, 3, 3, 3]})))
    assert errors(report) == [] and [layer.op for layer in report.graph.layers] == ["conv"]
    assert report.shapes[report.graph.outputs[0]].dims == (4, 8, 8)


def test_check_finds_onnx_files_in_a_folder_and_takes_input(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from netcalc.cli.app import app

    write_model(tmp_path, [node("Relu", ["x"], ["y"])], {"x": ["batch", 3, "h", 8]}, ["y"])
    result = CliRunner().invoke(app, ["check", str(tmp_path), "--input", "3x8x8"])
    assert result.exit_code == 0 and "1 spec(s) checked: 0 error(s)" in result.stdout


def test_gelu_written_as_erf_arithmetic_is_one_gelu(tmp_path: Path) -> None:
    """x / sqrt(2) -> Erf -> + 1 -> x * . -> * 0.5, as exporters write nn.GELU below opset 20."""
    nodes = [_constant("root", np.array(2 ** 0.5, dtype=np.float32)), node("Div", ["x", "root"], ["d"]),
             node("Erf", ["d"], ["e"]), _constant("one", np.array(1.0, dtype=np.float32)),
             node("Add", ["e", "one"], ["a"]), node("Mul", ["x", "a"], ["m"]),
             _constant("half", np.array(0.5, dtype=np.float32)), node("Mul", ["m", "half"], ["y"])]
    report = analyze(str(write_model(tmp_path, nodes, X, ["y"])))
    assert errors(report) == [] and [layer.op for layer in report.graph.layers] == ["gelu"]
    assert report.totals()["flops"] == 192  # GELU's one FLOP per element, as the spec counts it
    alone = analyze(str(write_model(tmp_path, [node("Erf", ["x"], ["y"])], X, ["y"], name="erf")))
    assert errors(alone) == [("unknown-operator", 1, 1)]


@pytest.mark.parametrize("pads, expected", [
    ([0, 0, 0, 0, 0, 0, 1, 1], "same"),   # TensorFlow's SAME for k3 s2 on 8: the extra pixel after
    ([0, 0, 1, 1, 0, 0, 1, 1], 1),         # symmetric: the pool's own padding
])
def test_a_pad_of_minus_infinity_before_a_max_pool_is_its_padding(tmp_path: Path, pads: list[int],
                                                                  expected: Any) -> None:
    nodes = [_constant("p", np.array(pads, dtype=np.int64)), _constant("v", np.array(-np.inf, dtype=np.float32)),
             node("Pad", ["x", "p", "v"], ["padded"]),
             node("MaxPool", ["padded"], ["y"], kernel_shape=[3, 3], strides=[2, 2])]
    path = write_model(tmp_path, nodes, X, ["y"])
    report = analyze(str(path))
    assert errors(report) == [] and [layer.op for layer in report.graph.layers] == ["maxpool"]
    assert report.graph.layers[0].attrs["p"] == expected
    assert runtime_shape(path, X) in (report.shapes["MaxPool_y"].dims, None)


# --- arithmetic with constants: offset (Add, Sub) and scale (Mul, Div) -------------------------

def _scalar(name: str, value: float) -> Any:
    return _constant(name, np.array(value, dtype=np.float32))


CHANNEL_MEANS = np.array([0.5, 0.25, 0.125], dtype=np.float32).reshape(3, 1, 1)


# (nodes, the layers as (op, attributes)); X is 3 x 8 x 8: 192 elements, each layer 1 FLOP per element
@pytest.mark.parametrize("nodes, layers", [
    ([_scalar("c", 1.0), node("Add", ["x", "c"], ["y"])], [("offset", {"shape": (1,)})]),              # x + 1
    ([_scalar("c", 1.0), node("Add", ["c", "x"], ["y"])], [("offset", {"shape": (1,)})]),              # 1 + x
    ([_scalar("c", 8.0), node("Div", ["x", "c"], ["y"])], [("scale", {"by": 0.125})]),                 # x / 8.0
    ([_scalar("c", 0.5), node("Mul", ["c", "x"], ["y"])], [("scale", {"by": 0.5})]),                   # 0.5 * x
    ([_constant("m", CHANNEL_MEANS), node("Sub", ["x", "m"], ["y"])], [("offset", {"shape": (3, 1, 1)})]),  # x - mean
    # a batch axis of 1 in front of the constant is the tensor's own
    ([_constant("m", CHANNEL_MEANS[None]), node("Sub", ["x", "m"], ["y"])], [("offset", {"shape": (3, 1, 1)})]),
    ([_scalar("z", 0.0), node("Sub", ["z", "x"], ["y"])], [("scale", {"by": -1.0})]),                  # 0 - x = -x
    # a tensor of one value that leaves x's shape as it is: one factor
    ([_constant("f", np.full((3, 1, 1), 2.0, dtype=np.float32)), node("Mul", ["x", "f"], ["y"])],
     [("scale", {"by": 2.0})]),
    ([_scalar("c", 1.0), node("Add", ["x", "c"], ["a"]), _scalar("d", 8.0), node("Div", ["a", "d"], ["y"])],
     [("offset", {"shape": (1,)}), ("scale", {"by": 0.125})]),
], ids=["x+1", "1+x", "x/8", "0.5*x", "x-mean", "x-mean-batched", "0-x", "x*uniform-tensor", "chain"])
def test_arithmetic_with_a_constant_is_an_offset_or_a_scale(tmp_path: Path, nodes: list[Any],
                                                            layers: list[tuple[str, dict[str, Any]]]) -> None:
    path = write_model(tmp_path, nodes, X, ["y"])
    report = analyze(str(path))
    assert errors(report) == []
    assert [(layer.op, {k: layer.attrs[k] for k in attrs}) for layer, (_, attrs) in
            zip(report.graph.layers, layers)] == layers and len(report.graph.layers) == len(layers)
    totals = report.totals()
    assert (totals["params"], totals["macs"], totals["flops"]) == (0, 0, 192 * len(layers))
    assert runtime_shape(path, X) in ((3, 8, 8), None)


@pytest.mark.parametrize("nodes, weights, expected", [
    ([_scalar("c", 1.0), node("Sub", ["c", "x"], ["y"])], {}, "a constant minus a tensor"),          # 1 - x
    ([_scalar("c", 1.0), node("Div", ["c", "x"], ["y"])], {}, "a constant divided by a tensor"),     # 1 / x
    ([_constant("f", CHANNEL_MEANS), node("Mul", ["x", "f"], ["y"])], {}, "no op multiplies by a fixed tensor"),
    ([_constant("f", CHANNEL_MEANS), node("Div", ["x", "f"], ["y"])], {}, "no op multiplies by a fixed tensor"),
    ([_scalar("z", 0.0), node("Div", ["x", "z"], ["y"])], {}, "divides by a constant 0"),
    # a factor that broadcasts x to a larger shape: no layer of netcalc's
    ([_constant("f", np.ones((2, 3, 8, 8), dtype=np.float32)), node("Mul", ["x", "f"], ["y"])], {},
     "to a larger shape"),
    ([node("Sub", ["x", "w"], ["y"])], {"w": [3, 1, 1]}, "of a learned tensor"),                     # x - running_mean
    # a constant of more axes: the result gains one in front of the batch (1 x 1 x 3 x 8 x 8)
    ([_constant("z", np.zeros((1, 1, 3, 8, 8), dtype=np.float32)), node("Add", ["x", "z"], ["y"])], {},
     "would gain an axis in front of the batch"),
])
def test_arithmetic_no_netcalc_op_states_is_refused_at_its_node(tmp_path: Path, nodes: list[Any],
                                                                weights: dict[str, Any], expected: str) -> None:
    report = analyze(str(write_model(tmp_path, nodes, X, ["y"], weights)))
    assert errors(report) == [("unsupported-node", len(nodes), 1)]
    assert expected in report.diagnostics[0].message


def test_a_torch_export_file_tells_its_lifted_constants_from_its_parameters(tmp_path: Path) -> None:
    """torch.export's files hold `x + 1` as an initializer too, and record which initializers
    are parameters or buffers (the graph signature) and which were folded from them: `c`
    (lifted) is an offset, `p` (a parameter, 3 values) a param added, and `e`, folded from
    `p` (its exp), a param too: 3 + 3 parameters."""
    nodes = [node("Add", ["x", "c"], ["a"]), node("Add", ["a", "p"], ["b"]), node("Mul", ["b", "e"], ["y"])]
    weights = {"c": np.array(1.0, dtype=np.float32), "p": [3, 1, 1], "e": [3, 1, 1]}
    path = write_model(tmp_path, nodes, X, ["y"], weights)
    model = onnx.load(str(path))
    helper.set_metadata_props(model.graph, {"pkg.torch.export.ExportedProgram.graph_signature":
                                            "\n# inputs\np_p: PARAMETER target='p'\nx: USER_INPUT\n"})
    folded = helper.make_tensor_value_info("e", TensorProto.FLOAT, [3, 1, 1])
    helper.set_metadata_props(folded, {"pkg.onnxscript.optimizer.folded_from": "['p', 'val_3']"})
    model.graph.value_info.append(folded)
    onnx.save(model, str(path))
    report = analyze(str(path))
    assert errors(report) == []
    assert [layer.op for layer in report.graph.layers] == ["offset", "param", "add", "param", "mul"]
    assert report.totals()["params"] == 6
    # the same file without the record: every initializer is learned, the scalar a param of 1
    del model.graph.metadata_props[:]
    onnx.save(model, str(path))
    assert analyze(str(path)).totals()["params"] == 7


@pytest.mark.torch
def test_arithmetic_with_constants_round_trips_through_torch(tmp_path: Path) -> None:
    """A spec of offsets and scales, exported (torch writes `x + torch.zeros(3, 1, 1)` and
    `x * 0.125` with Constant nodes) and read back: the same layers, 4 x 48 FLOPs."""
    spec = analyze_source("input x=3x4x4\noffset shape=1\nscale by=0.125\noffset shape=3x1x1\nscale by=-1\n",
                          "arith.net")
    read = analyze(str(exported(spec, tmp_path / "model.onnx", opset=17)))
    assert errors(read) == []
    assert [(layer.name, layer.op, dict(layer.attrs)) for layer in read.graph.layers] == \
        [(layer.name, layer.op, dict(layer.attrs)) for layer in spec.graph.layers]
    assert read.totals() == spec.totals() and spec.totals()["flops"] == 4 * 48


@pytest.mark.torch
def test_x_plus_one_over_eight_minus_a_mean_exported_by_torch_is_offsets_and_a_scale(tmp_path: Path) -> None:
    """(x + 1) / 8.0 - mean, mean a tensor made in forward (a Constant node); 1 - x is refused
    at its node, as is a product by a tensor of different factors."""
    torch = pytest.importorskip("torch")

    class Arithmetic(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            return (x + 1) / 8.0 - torch.tensor([0.5, 0.25, 0.125]).view(3, 1, 1)

    class OneMinus(torch.nn.Module):
        def forward(self, x: Any) -> Any:
            return 1 - x

    example = (torch.randn(1, 3, 4, 4),)
    paths = {}
    for module in (Arithmetic(), OneMinus()):
        paths[type(module).__name__] = path = tmp_path / f"{type(module).__name__}.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, example, str(path), dynamo=False, opset_version=17)
    read = analyze(str(paths["Arithmetic"]))
    spec = analyze_source("input x=3x4x4\noffset shape=1\nscale by=0.125\noffset shape=3x1x1\n", "arith.net")
    assert errors(read) == []
    assert [(layer.op, dict(layer.attrs)) for layer in read.graph.layers] == \
        [(layer.op, dict(layer.attrs)) for layer in spec.graph.layers]
    assert read.totals() == spec.totals()
    refused = analyze(str(paths["OneMinus"]))
    assert [e[0] for e in errors(refused)] == ["unsupported-node"]
    assert "a constant minus a tensor" in refused.diagnostics[0].message


# --- LayerNormalization with a scale and no bias: nn.LayerNorm(bias=False) --------------------

@pytest.mark.parametrize("bias", [None, "zeros"], ids=["left-out", "constant-zeros"])
def test_a_layer_norm_with_a_scale_and_no_bias_is_ln_bias_false(tmp_path: Path, bias: str | None) -> None:
    """Opset 17's LayerNormalization with 2 inputs (torch.export's form), or a bias of zeros as
    a Constant node (the TorchScript exporter's): over the 8 features, 8 parameters, not 16."""
    nodes = [node("LayerNormalization", ["x", "s"], ["y"], axis=-1)]
    if bias:
        nodes = [_constant("b", np.zeros(8, dtype=np.float32)),
                 node("LayerNormalization", ["x", "s", "b"], ["y"], axis=-1)]
    path = write_model(tmp_path, nodes, S, ["y"], {"s": [8]})
    report = analyze(str(path))
    assert errors(report) == []
    layer = report.graph.layers[0]
    assert (layer.op, layer.attrs["bias"], layer.attrs["affine"]) == ("ln", False, True)
    assert report.totals()["params"] == 8
    assert runtime_shape(path, S) in ((6, 8), None)


def test_a_layer_norm_with_a_bias_and_no_scale_is_refused(tmp_path: Path) -> None:
    nodes = [_constant("s", np.ones(8, dtype=np.float32)), node("LayerNormalization", ["x", "s", "b"], ["y"])]
    report = analyze(str(write_model(tmp_path, nodes, S, ["y"], {"b": [8]})))
    assert errors(report) == [("unsupported-node", 2, 1)]


@pytest.mark.torch
def test_ln_without_bias_round_trips_through_torch(tmp_path: Path) -> None:
    """`ln bias=false` exported as nn.LayerNorm(8, bias=False), read back: the same layer, 8
    parameters (the weight), 6 x 8 x (4 + 1) = 240 FLOPs (a scale, no shift)."""
    spec = analyze_source("input x=6x8\nlinear out=8\nln bias=false\n", "ln.net")
    read = analyze(str(exported(spec, tmp_path / "model.onnx", opset=17)))
    assert errors(read) == []
    assert [(layer.name, layer.op, dict(layer.attrs)) for layer in read.graph.layers] == \
        [(layer.name, layer.op, dict(layer.attrs)) for layer in spec.graph.layers]
    assert read.totals() == spec.totals()
    assert read.costs["ln_1"].params == 8 and read.costs["ln_1"].flops == 240


# --- Resize at opset 18+: axes, keep_aspect_ratio_policy ---------------------------------------

WIDE = {"x": [1, 3, 8, 12]}


def _ints(name: str, values: list[int]) -> Any:
    return _constant(name, np.array(values, dtype=np.int64))


# (nodes, the upsample's argument, the output shape), on 3 x 8 x 12
@pytest.mark.parametrize("nodes, argument, shape", [
    # scales for the spatial axes only: the others keep theirs
    ([_constant("sc", np.array([2, 2], dtype=np.float32)),
      node("Resize", ["x", "", "sc"], ["y"], axes=[2, 3])], {"scale": 2}, (3, 16, 24)),
    # one size for the last axis (counted from the back): 8 x 12 -> 8 x 6
    ([_ints("sz", [6]), node("Resize", ["x", "", "", "sz"], ["y"], axes=[-1], mode="linear")],
     {"size": (8, 6), "mode": "bilinear"}, (3, 8, 6)),
    # not_larger, 4 x 4 asked: scale min(4/8, 4/12) = 1/3 would give 2.67 x 4 (refused below);
    # 4 x 6 asked: min(1/2, 1/2) = 1/2, 4 x 6
    ([_ints("sz", [4, 6]), node("Resize", ["x", "", "", "sz"], ["y"], axes=[2, 3],
                                keep_aspect_ratio_policy="not_larger")], {"size": (4, 6)}, (3, 4, 6)),
    # not_smaller, 4 x 4 asked: max(4/8, 4/12) = 1/2, so 4 x 6
    ([_ints("sz", [4, 4]), node("Resize", ["x", "", "", "sz"], ["y"], axes=[2, 3],
                                keep_aspect_ratio_policy="not_smaller")], {"size": (4, 6)}, (3, 4, 6)),
    # not_larger over every axis, 1 x 3 x 16 x 30: min(1, 1, 2, 2.5) = 1, the input's own size
    ([_ints("sz", [1, 3, 16, 30]), node("Resize", ["x", "", "", "sz"], ["y"],
                                        keep_aspect_ratio_policy="not_larger")], {"size": (8, 12)}, (3, 8, 12)),
], ids=["axes-scales", "axes-negative-size", "not-larger", "not-smaller", "not-larger-all-axes"])
def test_a_resize_of_opset_18_with_axes_or_an_aspect_policy_maps_exactly(
        tmp_path: Path, nodes: list[Any], argument: dict[str, Any], shape: tuple[int, ...]) -> None:
    path = write_model(tmp_path, nodes, WIDE, ["y"], opset=19)
    report = analyze(str(path))
    assert errors(report) == []
    layer = report.graph.layers[-1]
    assert layer.op == "upsample" and report.shapes[layer.name].dims == shape
    assert {key: layer.attrs[key] for key in argument} == argument
    assert runtime_shape(path, WIDE) in (shape, None)


@pytest.mark.parametrize("nodes, expected", [
    # not_larger, 4 x 4 asked: scale 1/3, 8 x 12 -> 2.67 x 4, rounded to 3 x 4: ONNX samples at 1/3
    ([_ints("sz", [4, 4]), node("Resize", ["x", "", "", "sz"], ["y"], axes=[2, 3],
                                keep_aspect_ratio_policy="not_larger")], ("unsupported-node", 2, 1)),
    ([_ints("sz", [4, 4]), node("Resize", ["x", "", "", "sz"], ["y"], axes=[2, 2])], ("invalid-onnx", 2, 1)),
    ([_ints("sz", [4, 4]), node("Resize", ["x", "", "", "sz"], ["y"], axes=[3])], ("invalid-onnx", 2, 1)),
    ([_ints("sz", [4]), node("Resize", ["x", "", "", "sz"], ["y"], axes=[4])], ("invalid-onnx", 2, 1)),
    # the channels resized along the axes named
    ([_ints("sz", [6]), node("Resize", ["x", "", "", "sz"], ["y"], axes=[1])], ("unsupported-node", 2, 1)),
    # a linear downscale with antialias filters over more taps than nn.Upsample
    ([_ints("sz", [4, 6]), node("Resize", ["x", "", "", "sz"], ["y"], axes=[2, 3], mode="linear", antialias=1)],
     ("unsupported-node", 2, 1)),
    # the policy is for sizes only: with scales, onnxruntime refuses the node too
    ([_constant("sc", np.array([1, 1, 2, 2], dtype=np.float32)),
      node("Resize", ["x", "", "sc"], ["y"], keep_aspect_ratio_policy="not_larger")], ("invalid-onnx", 2, 1)),
], ids=["rounded-sizes", "repeated-axes", "sizes-for-other-axes", "axis-outside", "channels", "antialias",
        "policy-with-scales"])
def test_a_resize_of_opset_18_no_upsample_states_is_refused(tmp_path: Path, nodes: list[Any],
                                                             expected: tuple[str, int, int]) -> None:
    report = analyze(str(write_model(tmp_path, nodes, WIDE, ["y"], opset=19)))
    assert errors(report) == [expected]


@pytest.mark.torch
def test_upsampling_round_trips_through_torch_at_opset_18(tmp_path: Path) -> None:
    """nn.Upsample by a scale and to a size, exported at opset 18 (Resize with its new
    attributes at their defaults): the same layers, the same shapes."""
    spec = analyze_source("input x=3x8x12\nupsample scale=2 mode=bilinear\nupsample size=10x7\n", "up.net")
    read = analyze(str(exported(spec, tmp_path / "model.onnx", opset=18)))
    assert errors(read) == []
    assert [(layer.op, dict(layer.attrs), read.shapes[layer.name]) for layer in read.graph.layers] == \
        [(layer.op, dict(layer.attrs), spec.shapes[layer.name]) for layer in spec.graph.layers]
    assert read.totals() == spec.totals()


# --- stacked recurrences: nn.LSTM(num_layers=N) is one node per layer, read back as one layer ---

@pytest.mark.torch
@pytest.mark.parametrize("layer", [
    "lstm hidden=16 layers=3",                      # Squeeze between the nodes
    "lstm hidden=16 layers=2 bidirectional=true",   # Transpose (0, 2, 1, 3) and Reshape to L x B x 32
    "gru hidden=16 layers=2 bidirectional=true",
    "rnn hidden=16 layers=2 nonlinearity=relu",
    "lstm hidden=16 layers=2 bias=false",
])
def test_a_stacked_recurrence_exported_by_torch_is_one_layer(tmp_path: Path, layer: str) -> None:
    """torch writes one node per layer; read back, the one layer of the spec with its layers,
    parameters, MACs and FLOPs. lstm hidden=16 layers=3 on 8 features, by hand: 4*16*(8 + 16
    + 2) + 2 * 4*16*(16 + 16 + 2) = 1664 + 4352 = 6016 parameters."""
    spec = analyze_source(f"input x=10x8\n{layer}\nlinear out=2\n", "stack.net")
    read = analyze(str(exported(spec, tmp_path / "model.onnx", opset=17)))
    assert errors(read) == []
    recurrent = [entry for entry in read.graph.layers if entry.op in ("lstm", "gru", "rnn")]
    source = spec.graph.layers[0]
    assert [(entry.name, entry.op, dict(entry.attrs)) for entry in recurrent] == \
        [(source.name, source.op, dict(source.attrs))]
    a, b = spec.costs[source.name], read.costs[source.name]
    assert (a.params, a.macs, a.flops) == (b.params, b.macs, b.flops)
    assert {k: spec.totals()[k] for k in ("params", "macs", "flops")} == \
        {k: read.totals()[k] for k in ("params", "macs", "flops")}
    if layer == "lstm hidden=16 layers=3":
        assert b.params == 6016


@pytest.mark.torch
def test_two_recurrent_modules_in_a_row_stay_two_layers(tmp_path: Path) -> None:
    """Two nn.LSTM modules (batch first, each its own module): separate layers, as written."""
    spec = analyze_source("input x=10x8\nlstm hidden=16\nlstm hidden=16\n", "two.net")
    read = analyze(str(exported(spec, tmp_path / "model.onnx", opset=17)))
    assert errors(read) == []
    assert [(e.name, e.attrs["layers"]) for e in read.graph.layers if e.op == "lstm"] == \
        [("lstm_1", 1), ("lstm_2", 1)]
    assert read.totals()["params"] == spec.totals()["params"]


def _lstm_stack(tmp_path: Path, hidden_above: int = 5, name: str = "m") -> Path:
    """Two LSTM nodes on 6 x 8, the second reading the first's Y squeezed (L x 1 x 5)."""
    nodes = [node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
             node("LSTM", ["t", "W0", "R0", "B0"], ["y0"], hidden_size=5),
             _ints("axis", [1]), node("Squeeze", ["y0", "axis"], ["s"]),
             node("LSTM", ["s", "W1", "R1", "B1"], ["y1"], hidden_size=hidden_above),
             node("Squeeze", ["y1", "axis"], ["s1"]), node("Transpose", ["s1"], ["out"], perm=[1, 0, 2])]
    weights = {"W0": [1, 20, 8], "R0": [1, 20, 5], "B0": [1, 40],
               "W1": [1, 4 * hidden_above, 5], "R1": [1, 4 * hidden_above, hidden_above], "B1": [1, 8 * hidden_above]}
    return write_model(tmp_path, nodes, S, ["out"], weights, name=name)


def test_lstm_nodes_stack_only_where_the_wiring_says_so(tmp_path: Path) -> None:
    """Stacked: 4*5*(8 + 5 + 2) + 4*5*(5 + 5 + 2) = 300 + 240 = 540 parameters in one lstm of
    layers=2. A node above of another hidden size (a module nn.LSTM cannot make) stays its
    own layer: 300 + 4*3*(5 + 3 + 2) = 420."""
    stacked = analyze(str(_lstm_stack(tmp_path)))
    assert errors(stacked) == []
    assert [(e.op, e.attrs["layers"]) for e in stacked.graph.layers if e.op == "lstm"] == [("lstm", 2)]
    assert stacked.totals()["params"] == 540
    assert stacked.shapes[stacked.graph.outputs[0]].dims == (6, 5)
    assert runtime_shape(_lstm_stack(tmp_path, name="again"), S) in ((6, 5), None)
    apart = analyze(str(_lstm_stack(tmp_path, hidden_above=3, name="apart")))
    assert errors(apart) == []
    assert [e.attrs["layers"] for e in apart.graph.layers if e.op == "lstm"] == [1, 1]
    assert apart.totals()["params"] == 420


@pytest.mark.torch
def test_the_lstm_classifiers_two_bidirectional_layers_read_back_as_its_one_lstm(tmp_path: Path) -> None:
    """lstm_classifier's nn.LSTM(128, 256, num_layers=2, bidirectional=True): two ONNX LSTM
    nodes, read back as its one `lstm` of layers=2: 2 * 4*256*(128 + 256 + 2) + 2 * 4*256*(512
    + 256 + 2) = 790528 + 1576960 = 2367488 parameters."""
    spec = analyze("lstm_classifier")
    read = analyze(str(exported(spec, tmp_path / "model.onnx", opset=17)))
    assert errors(read) == []
    assert [(e.name, e.attrs["layers"], e.attrs["bidirectional"]) for e in read.graph.layers if e.op == "lstm"] == \
        [("lstm", 2, True)]
    a, b = spec.costs["lstm"], read.costs["lstm"]
    assert (a.params, a.macs, a.flops, spec.shapes["lstm"]) == (b.params, b.macs, b.flops, read.shapes["lstm"])
    assert b.params == 2367488


@pytest.mark.parametrize("op, layer", [("Sub", "sub"), ("Div", "div")])
def test_sub_and_div_of_two_tensors_keep_their_order(tmp_path: Path, op: str, layer: str) -> None:
    # relu(x) - x and relu(x) / x on 3x8x8: one FLOP per element, 192
    nodes = [node("Relu", ["x"], ["r"]), node(op, ["r", "x"], ["y"])]
    path = write_model(tmp_path, nodes, X, ["y"])
    report = analyze(str(path))
    assert errors(report) == []
    read = report.graph.layers[-1]
    assert (read.op, read.inputs) == (layer, (report.graph.layers[0].name, report.graph.inputs[0].name))
    assert report.costs[read.name].flops == 192 and report.shape(read.name).dims == (3, 8, 8)
    assert runtime_shape(path, X) in ((3, 8, 8), None)


@pytest.mark.torch
def test_sub_and_div_round_trip_through_torch(tmp_path: Path) -> None:
    spec = yaml_spec("""
input: 4x6x6
layers:
  - conv out=4 k=3 p=1 name=c
  - {gap: {}, name: mean}
  - {sub: {}, from: [c, mean], name: centred}
  - {mul: {}, from: [centred, centred], name: square}
  - {gap: {}, name: variance}
  - {div: {}, from: [centred, variance], name: normalised}
""")
    read = analyze(str(exported(spec, tmp_path / "m.onnx", 17)))
    assert errors(read) == []
    assert [layer.op for layer in read.graph.layers] == [layer.op for layer in spec.graph.layers]
    assert read.totals() == spec.totals()


def _declaring(path: Path, name: str, dims: list[Any]) -> Path:
    """The model at `path`, declaring value `name`'s shape (value_info), as exporters do."""
    model = onnx.load(str(path))
    model.graph.value_info.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
    onnx.save(model, str(path))
    return path


# an operator netcalc does not map (a custom domain's), between a conv and a relu on 3x8x8
UNKNOWN = [node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
           helper.make_node("Swish", ["c"], ["s"], name="/block/Swish", domain="com.example"),
           node("Relu", ["s"], ["y"])]


@pytest.mark.parametrize("declared, allowed", [
    ([1, 4, 8, 8], True), (["N", 4, 8, 8], True),  # its input's shape (any batch): identity
    ([1, 4, 4, 4], False),  # not its input's: no identity
    ([2, 4, 8, 8], False),  # another batch than the file's (a Tile of the batch): no identity
    (None, False),  # not declared
])
def test_allow_unknown_reads_an_unmapped_operator_as_identity_where_the_file_says_so(
        tmp_path: Path, declared: list[Any] | None, allowed: bool) -> None:
    path = write_model(tmp_path, UNKNOWN, X, ["y"], {"w": [4, 3, 3, 3]}, name="unknown")
    if declared is not None:
        _declaring(path, "s", declared)
    assert errors(analyze(str(path))) == [("unknown-operator", 2, 1)]  # by default, always refused
    report = analyze(str(path), allow_unknown=True)
    if not allowed:
        assert errors(report) == [("unknown-operator", 2, 1)]
        assert "only where the file declares its one output" in report.diagnostics[0].message
        return
    assert errors(report) == []
    assert [(layer.op, report.shape(layer.name).dims) for layer in report.graph.layers] == [
        ("conv", (4, 8, 8)), ("identity", (4, 8, 8)), ("relu", (4, 8, 8))]
    assert report.totals()["params"] == 4 * 3 * 9  # the conv's weight (no bias): the unknown node counts nothing
    [warned] = [d for d in report.diagnostics if d.id == "allowed-unknown-operator"]
    assert (warned.span.line, warned.severity.value) == (2, "warning") and "not counted" in warned.message


def test_cli_allow_unknown(tmp_path: Path) -> None:
    from test_cli import netcalc

    path = _declaring(write_model(tmp_path, UNKNOWN, X, ["y"], {"w": [4, 3, 3, 3]}, name="unknown"), "s",
                      [1, 4, 8, 8])
    assert netcalc("shapes", str(path)).exit_code == 2
    result = netcalc("shapes", str(path), "--allow-unknown")
    assert result.exit_code == 0 and "allowed-unknown-operator" in result.stderr
    for command in (("check",), ("rf",), ("import",), ("summary", "--train")):
        assert netcalc(*command, str(path), "--allow-unknown").exit_code in (0, 1), command  # 1: check's warning


# --- a recurrence's final hidden state Y_h: the output sequence's last step (the reverse
# direction's first), as select, slice and concat; the cell state Y_c is refused ------------

# (op, direction, layout, the nodes after the recurrence reading Y_h 'h', its output shape
# per sample, hand-checked parameters): 6 steps of 8 features, 5 hidden units
FINAL_STATES = [
    # 1 x 1 x 5, squeezed on axis 0: 1 x 5; 4*5*(8 + 5 + 2) = 300
    ("LSTM", "forward", 0, [_ints("zero", [0]), node("Squeeze", ["h", "zero"], ["out"])], (5,), 300),
    # 2 x 1 x 5 to 1 x 2 x 5, reshaped to 1 x 10: h.transpose(0, 1).reshape(N, -1); 2*3*5*15 = 450
    ("GRU", "bidirectional", 0, [node("Transpose", ["h"], ["ht"], perm=[1, 0, 2]),
                                 _ints("flat", [1, 10]), node("Reshape", ["ht", "flat"], ["out"])], (10,), 450),
    # h[-1] of 1 x 1 x 5: 1 x 5; 5*(8 + 5 + 2) = 75
    ("RNN", "forward", 0, [_constant("last", np.array(-1, dtype=np.int64)), node("Gather", ["h", "last"], ["out"],
                                                                                  axis=0)], (5,), 75),
    # layout 1: Y_h is batch x 2 x 5, read as it is; 2*4*5*15 = 600
    ("LSTM", "bidirectional", 1, [node("Identity", ["h"], ["out"])], (2, 5), 600),
    ("GRU", "forward", 1, [node("Flatten", ["h"], ["out"], axis=1)], (5,), 225),
]


def _final_state_model(tmp_path: Path, op: str, direction: str, layout: int, after: list[Any],
                       outputs: tuple[str, ...] = ("out",), name: str = "m") -> Path:
    gates, directions = {"LSTM": 4, "GRU": 3, "RNN": 1}[op], 2 if direction == "bidirectional" else 1
    attrs: dict[str, Any] = {"hidden_size": 5, "direction": direction, "layout": layout}
    if op == "GRU":
        attrs["linear_before_reset"] = 1
    source = "x" if layout else "t"
    nodes = ([] if layout else [node("Transpose", ["x"], ["t"], perm=[1, 0, 2])]) + \
        [node(op, [source, "W", "R", "B"], ["y", "h"], **attrs), *after]
    weights = {"W": [directions, gates * 5, 8], "R": [directions, gates * 5, 5], "B": [directions, 2 * gates * 5]}
    return write_model(tmp_path, nodes, S, list(outputs), weights, name=name)


@pytest.mark.parametrize("op, direction, layout, after, shape, params", FINAL_STATES,
                         ids=[f"{c[0]}-{c[1]}-layout{c[2]}" for c in FINAL_STATES])
def test_a_recurrences_final_hidden_state_is_its_sequences_last_step(
        tmp_path: Path, op: str, direction: str, layout: int, after: list[Any], shape: tuple[int, ...],
        params: int) -> None:
    path = _final_state_model(tmp_path, op, direction, layout, after)
    report = analyze(str(path))
    assert errors(report) == [] and not report.diagnostics
    assert report.shapes[report.graph.outputs[0]].dims == shape
    if layout == 0:  # onnxruntime runs no recurrence of layout 1 ("Batchwise recurrent operations")
        assert runtime_shape(path, S) in (shape, None)
    recurrent = [layer.name for layer in report.graph.layers if layer.op == op.lower()]
    assert len(recurrent) == 1
    # the layers that state Y_h are views and a copy: the totals are the recurrence's
    others = [report.costs[layer.name] for layer in report.graph.layers if layer.name not in recurrent]
    assert sum(c.params + c.macs + c.flops for c in others) == 0
    assert report.totals()["params"] == report.costs[recurrent[0]].params == params
    names = {layer.name: layer.op for layer in report.graph.layers}
    assert names[f"{recurrent[0]}.h_n"] == ("concat" if direction == "bidirectional" else "select")


@pytest.mark.parametrize("op, direction", [("LSTM", "bidirectional"), ("GRU", "bidirectional"), ("RNN", "forward")])
def test_onnxruntimes_final_state_is_the_forward_last_step_and_the_reverse_first(
        tmp_path: Path, op: str, direction: str) -> None:
    """The rule netcalc's layers state, checked on onnxruntime's numbers: Y_h is Y at the
    last step for the forward direction, at the first for the reverse one."""
    ort = pytest.importorskip("onnxruntime")
    path = _final_state_model(tmp_path, op, direction, 0, [], outputs=("y", "h"))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    y, h = session.run(None, {"x": np.random.rand(1, 6, 8).astype(np.float32)})  # L x D x 1 x H, D x 1 x H
    np.testing.assert_array_equal(h[0], y[-1, 0])
    if direction == "bidirectional":
        np.testing.assert_array_equal(h[1], y[0, 1])


def test_an_lstms_final_cell_state_is_refused_at_its_node(tmp_path: Path) -> None:
    """Y_c is no function of the output sequence netcalc's lstm gives."""
    nodes = [node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
             node("LSTM", ["t", "W", "R", "B"], ["y", "h", "c"], hidden_size=5),
             node("Concat", ["h", "c"], ["out"], axis=2)]
    path = write_model(tmp_path, nodes, S, ["out"], {"W": [1, 20, 8], "R": [1, 20, 5], "B": [1, 40]})
    report = analyze(str(path))
    assert errors(report) == [("unsupported-node", 2, 1)]
    assert "final cell state Y_c ('c')" in report.diagnostics[0].message
    assert "no function of" in report.diagnostics[0].message


def test_a_final_state_with_shorter_sequences_or_a_contradicting_initial_state_is_refused(tmp_path: Path) -> None:
    """sequence_lens of 4 in 6 steps: Y_h is the 4th step, no netcalc layer's; an initial_c
    of another hidden size (as torch.export writes an LSTM with proj_size) contradicts the node."""
    lengths = numpy_helper.from_array(np.array([4], dtype=np.int32), "lengths")
    nodes = [node("Transpose", ["x"], ["t"], perm=[1, 0, 2]), node("Constant", [], ["lens"], value=lengths),
             node("LSTM", ["t", "W", "R", "B", "lens"], ["y", "h"], hidden_size=5)]
    weights = {"W": [1, 20, 8], "R": [1, 20, 5], "B": [1, 40]}
    report = analyze(str(write_model(tmp_path, nodes, S, ["h"], weights, name="lens")))
    assert errors(report) == [("unsupported-node", 3, 1)] and "sequence_lens" in report.diagnostics[0].message
    nodes = [node("Transpose", ["x"], ["t"], perm=[1, 0, 2]),
             node("LSTM", ["t", "W", "R", "B", "", "h0", "c0"], ["y", "h"], hidden_size=5)]
    report = analyze(str(write_model(tmp_path, nodes, S, ["h"], {**weights, "h0": [1, 1, 5], "c0": [1, 1, 16]},
                                     name="initial")))
    assert errors(report) == [("shape-mismatch", 2, 1)] and "initial_c" in report.diagnostics[0].message


def test_a_lower_layers_final_state_read_keeps_the_stack_apart(tmp_path: Path) -> None:
    """_lstm_stack's two nodes with both final states concatenated (as torch writes h_n of
    num_layers=2): the lower one's is not in a merged layer's output, so two layers, 300 +
    240 = 540 parameters as the one of layers=2; the upper one's alone keeps them one."""
    stack = onnx.load(str(_lstm_stack(tmp_path)))
    for proto, hidden in ((stack.graph.node[1], "h0"), (stack.graph.node[4], "h1")):
        proto.output.append(hidden)
    both = onnx.ModelProto()
    both.CopyFrom(stack)
    both.graph.node.extend([node("Concat", ["h0", "h1"], ["hn"], axis=0),
                            node("Transpose", ["hn"], ["hb"], perm=[1, 0, 2])])
    both.graph.output.append(helper.make_tensor_value_info("hb", TensorProto.FLOAT, None))
    onnx.save(both, str(tmp_path / "both.onnx"))
    apart = analyze(str(tmp_path / "both.onnx"))
    assert errors(apart) == []
    assert [e.attrs["layers"] for e in apart.graph.layers if e.op == "lstm"] == [1, 1]
    assert apart.totals()["params"] == 540
    assert apart.shapes[apart.graph.outputs[1]].dims == (2, 5)  # h_n of both layers, batch first
    stack.graph.output.append(helper.make_tensor_value_info("h1", TensorProto.FLOAT, None))
    onnx.save(stack, str(tmp_path / "top.onnx"))
    top = analyze(str(tmp_path / "top.onnx"))
    assert errors(top) == []
    assert [e.attrs["layers"] for e in top.graph.layers if e.op == "lstm"] == [2]
    assert top.totals()["params"] == 540 and top.shapes[top.graph.outputs[1]].dims == (1, 5)


class _FinalStates:
    """Modules of the usual PyTorch shape reading h_n, and the specs that state them."""

    @staticmethod
    def modules() -> dict[str, tuple[Any, str]]:
        torch = pytest.importorskip("torch")
        nn = torch.nn

        class LastHidden(nn.Module):  # out, (h, c) = self.lstm(x); self.fc(h[-1])
            def __init__(self, layers: int = 1) -> None:
                super().__init__()
                self.lstm, self.fc = nn.LSTM(8, 16, num_layers=layers, batch_first=True), nn.Linear(16, 3)

            def forward(self, x: Any) -> Any:
                out, (h, c) = self.lstm(x)
                return self.fc(h[-1])

        class BothDirections(nn.Module):  # _, h = self.gru(x); h.transpose(0, 1).reshape(N, -1)
            def __init__(self) -> None:
                super().__init__()
                self.gru, self.fc = nn.GRU(8, 16, batch_first=True, bidirectional=True), nn.Linear(32, 3)

            def forward(self, x: Any) -> Any:
                _, h = self.gru(x)
                return self.fc(h.transpose(0, 1).reshape(x.shape[0], -1))

        class Squeezed(nn.Module):  # _, h = self.rnn(x); h.squeeze(0)
            def __init__(self) -> None:
                super().__init__()
                self.rnn = nn.RNN(8, 16, batch_first=True)

            def forward(self, x: Any) -> Any:
                _, h = self.rnn(x)
                return h.squeeze(0)

        return {
            # lstm 4*16*(8 + 16 + 2) = 1664, fc 16*3 + 3 = 51: 1715 parameters; MACs 10 steps x
            # 4*16*(8 + 16) = 15360, + 48; FLOPs 2 x 15360 + 10*16*(4 + 8 + 9) = 34080, fc 2*48 + 3 = 99
            "lstm": (LastHidden(), "input x=10x8\nlstm hidden=16\nselect dim=1 index=-1\nlinear out=3\n"),
            # layer 1 reads 16: 4*16*(16 + 16 + 2) = 2176; 1664 + 2176 + 51 = 3891; MACs 15360 +
            # 10*4*16*32 = 20480, + 48 = 35888
            "lstm2": (LastHidden(2), "input x=10x8\nlstm hidden=16 layers=2\nselect dim=1 index=-1\nlinear out=3\n"),
            # gru 2 x 3*16*(8 + 16 + 2) = 2496, fc 32*3 + 3 = 99: 2595; MACs 10 x 2 x 3*16*24 = 23040,
            # + 96 = 23136; FLOPs 2 x 23040 + 10*2*16*(3 + 6 + 7) = 51200, fc 195: 51395
            "gru": (BothDirections(), "input x=10x8\ngru hidden=16 bidirectional=true name=gru\n"
                    "select dim=1 index=-1\nslice dim=1 end=16 name=forward\n"
                    "select dim=1 index=0 from=gru\nslice dim=1 start=16 name=reverse\n"
                    "concat dim=1 from=forward,reverse\nlinear out=3\n"),
            # rnn 16*(8 + 16 + 2) = 416; MACs 10 x 16*24 = 3840 (torch.export writes no RNN node
            # but the steps unrolled, as MatMul, Add and Tanh: TorchScript's file only)
            "rnn": (Squeezed(), "input x=10x8\nrnn hidden=16\nselect dim=1 index=-1\n"),
        }


FIGURES = {"lstm": (1715, 15408, 34179, (3,)), "lstm2": (3891, 35888, None, (3,)),
           "gru": (2595, 23136, 51395, (3,)), "rnn": (416, 3840, None, (16,))}


@pytest.mark.torch
@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "torch.export"])
@pytest.mark.parametrize("name", list(FIGURES))
def test_final_states_read_by_torch_modules_round_trip(tmp_path: Path, name: str, dynamo: bool) -> None:
    """A module reading h_n, exported by torch at opset 17 and read back: the spec's totals
    (the spec states h_n with select on the output sequence) and output shape."""
    torch = pytest.importorskip("torch")
    if dynamo:
        pytest.importorskip("onnxscript")
    module, text = _FinalStates.modules()[name]
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.randn(1, 10, 8),), str(path), dynamo=dynamo, opset_version=17)
    read, spec = analyze(str(path)), analyze_source(text, f"{name}.net")
    if dynamo and name == "rnn":  # torch.export writes no RNN node, its steps unrolled: refused at a node
        # h0 (1 x N x H) plus a step (N x H): which axis is the batch, netcalc cannot tell
        assert [id for id, _, _ in errors(read)] == ["shape-mismatch"]
        return
    assert errors(read) == [] and errors(spec) == []
    keys = ("params", "macs", "flops")
    assert {k: read.totals()[k] for k in keys} == {k: spec.totals()[k] for k in keys}
    params, macs, flops, shape = FIGURES[name]
    assert (spec.totals()["params"], spec.totals()["macs"]) == (params, macs)
    assert flops is None or spec.totals()["flops"] == flops
    assert read.shapes[read.graph.outputs[0]].dims == spec.shapes[spec.graph.outputs[0]].dims == shape
    # the lower layer's h_n is read (torch concatenates each layer's): two layers, as written
    layers = [e.attrs["layers"] for e in read.graph.layers if e.op in ("lstm", "gru", "rnn")]
    assert layers == ([1, 1] if name == "lstm2" else [1])


def test_allow_unknown_refuses_a_declared_type_other_than_its_inputs(tmp_path: Path) -> None:
    path = write_model(tmp_path, UNKNOWN, X, ["y"], {"w": [4, 3, 3, 3]}, name="unknown")
    model = onnx.load(str(path))
    model.graph.value_info.append(helper.make_tensor_value_info("s", TensorProto.BOOL, [1, 4, 8, 8]))  # IsNaN-like
    onnx.save(model, str(path))
    report = analyze(str(path), allow_unknown=True)
    assert errors(report) == [("unknown-operator", 2, 1)]
    assert "declares 's' of type bool, not its input's float32" in report.diagnostics[0].message


def test_an_initializer_the_file_records_as_a_buffer_is_no_param(tmp_path: Path) -> None:
    """torch.export's signature says which initializers are buffers: one added to x (a
    running mean) is refused at its node, not counted as a learned `param`."""
    path = write_model(tmp_path, [node("Add", ["x", "mean"], ["y"])], X, ["y"], {"mean": [1, 3, 1, 1]}, name="buffer")
    model = onnx.load(str(path))
    model.graph.metadata_props.add(key="pkg.torch.export.ExportedProgram.graph_signature",
                                   value="InputSpec(kind=<InputKind.BUFFER: 3>, target='mean')  BUFFER target='mean'")
    onnx.save(model, str(path))
    report = analyze(str(path))
    assert errors(report) == [("unsupported-node", 1, 1)] and "is a buffer" in report.diagnostics[0].message
