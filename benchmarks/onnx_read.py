"""ONNX reading benchmark: `netcalc summary FILE --format json` against onnx-tool's profile
(load, shape inference, per-node MACs and parameters, its node table) and against
`onnx.load(FILE)` alone (protobuf parsing, external data read), each a whole process on the
same files in the same run. The files are generated in a temporary folder and deleted: a
~100 MB stack of Gemm layers with float32 weights, the same model with its weights in an
external data file, a chain of 1,000 Conv/Relu nodes with small weights and, where torch
is installed, resnet50 exported from netcalc's built-in spec by torch's TorchScript exporter.
Prints each file's median wall time and peak resident memory per tool, netcalc's ratios to
the others, and each tool's parameters and MACs. Asserts nothing.

onnx-tool is a benchmark-only dependency (left out where it is not installed):
pip install onnx-tool==1.0.1

    python benchmarks/onnx_read.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GEMM_LAYERS, GEMM_WIDTH = 25, 1024  # 25 x (1024 x 1024 + 1024) float32 weights: 105 MB
CHAIN_CONVS, CHAIN_CHANNELS = 500, 8  # 500 Conv + 500 Relu nodes

LOAD = "import sys, onnx; onnx.load(sys.argv[1])"
# onnx_tool.model_profile's steps, with its node table written to a buffer and the totals printed
ONNX_TOOL = """
import contextlib, io, json, sys
import onnx_tool
model = onnx_tool.Model(sys.argv[1], {"verbose": False})
graph = model.graph
graph.graph_reorder_nodes()
graph.shape_infer()
graph.profile(exclude_ops=onnx_tool.NoMacsOps)
with contextlib.redirect_stdout(io.StringIO()):
    graph.print_node_map(exclude_ops=onnx_tool.NoMacsOps)
print(json.dumps({"params": int(graph.params), "macs": int(round(graph.macs[0]))}))
"""
EXPORT = """
import sys, warnings, torch
from netcalc.core.api import analyze
from netcalc.core.export import to_torch
namespace = {"__name__": "exported"}
exec(compile(to_torch(analyze("resnet50")), "exported.py", "exec"), namespace)
classes = [v for k, v in namespace.items() if isinstance(v, type) and issubclass(v, torch.nn.Module)
           and k not in ("Block", "Pad")]
model = classes[-1]().eval()
with warnings.catch_warnings():  # the TorchScript exporter's deprecation notice
    warnings.simplefilter("ignore")
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), sys.argv[1], dynamo=False, opset_version=17)
"""


def gemm_stack(path: Path, external: Path | None = None) -> None:
    """Gemm (transB, as PyTorch's Linear exports) and Relu, GEMM_LAYERS times, on a 1 x GEMM_WIDTH input."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper, save_model

    rng = np.random.default_rng(0)
    nodes, weights, x = [], [], "x"
    for i in range(GEMM_LAYERS):
        w = rng.standard_normal((GEMM_WIDTH, GEMM_WIDTH), dtype=np.float32)
        b = rng.standard_normal(GEMM_WIDTH, dtype=np.float32)
        weights += [numpy_helper.from_array(w, f"fc{i}.weight"), numpy_helper.from_array(b, f"fc{i}.bias")]
        nodes += [helper.make_node("Gemm", [x, f"fc{i}.weight", f"fc{i}.bias"], [f"fc{i}"], name=f"/fc{i}/Gemm",
                                   transB=1),
                  helper.make_node("Relu", [f"fc{i}"], [f"relu{i}"], name=f"/relu{i}/Relu")]
        x = f"relu{i}"
    graph = helper.make_graph(nodes, "gemm_stack",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, GEMM_WIDTH])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, GEMM_WIDTH])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    save_model(model, str(path))
    if external is not None:  # after the embedded copy: this moves the weights out of `model`
        save_model(model, str(external), save_as_external_data=True, all_tensors_to_one_file=True,
                   location=external.stem + ".data")


def conv_chain(path: Path) -> None:
    """CHAIN_CONVS times Conv 3x3 (CHAIN_CHANNELS channels, padded) and Relu on 1 x 8 x 32 x 32."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper, save_model

    rng = np.random.default_rng(0)
    nodes, weights, x = [], [], "x"
    shape = [1, CHAIN_CHANNELS, 32, 32]
    for i in range(CHAIN_CONVS):
        w = rng.standard_normal((CHAIN_CHANNELS, CHAIN_CHANNELS, 3, 3), dtype=np.float32)
        b = rng.standard_normal(CHAIN_CHANNELS, dtype=np.float32)
        weights += [numpy_helper.from_array(w, f"conv{i}.weight"), numpy_helper.from_array(b, f"conv{i}.bias")]
        nodes += [helper.make_node("Conv", [x, f"conv{i}.weight", f"conv{i}.bias"], [f"conv{i}"],
                                   name=f"/conv{i}/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", [f"conv{i}"], [f"relu{i}"], name=f"/relu{i}/Relu")]
        x = f"relu{i}"
    graph = helper.make_graph(nodes, "conv_chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape)], weights)
    save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def measured(command: list[str]) -> tuple[float, int, str, str]:
    """Wall time, peak resident memory (KB), standard output and error of one whole process
    (the peak is this child's own, from wait4, not the largest of every child so far)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command, stdout, stderr)
    return seconds, usage.ru_maxrss, stdout, stderr


def median_run(command: list[str], repeat: int) -> tuple[float, float, str]:
    """The median wall time (s) and peak memory (MB) of `repeat` runs, and what the last printed."""
    runs = [measured(command) for _ in range(repeat)]
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs) / 1024, runs[-1][2])


def setup() -> tuple[int, str, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is kept")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)  # the child that writes the models
    args = parser.parse_args()
    # The netcalc of this interpreter's environment (a PATH lookup may find a shim), as in scale.py
    beside = Path(sys.executable).with_name("netcalc")
    netcalc = str(beside) if beside.exists() else shutil.which("netcalc")
    if netcalc is None:
        sys.exit("netcalc is not installed: pip install . first")
    if importlib.util.find_spec("onnx") is None:
        sys.exit('the onnx package is not installed: pip install "netcalc[onnx]" first')
    return args.repeat, netcalc, args.generate


def generate(folder: Path) -> None:
    """The models to read, written in `folder` (by a child process: see `files`)."""
    gemm_stack(folder / "gemm_stack.onnx", folder / "gemm_stack_external.onnx")
    conv_chain(folder / "conv_chain_1000.onnx")
    if importlib.util.find_spec("torch") is None:
        print("torch is not installed: resnet50 left out (pip install torch==2.13.0)")
        return
    try:
        subprocess.run([sys.executable, "-c", EXPORT, str(folder / "resnet50.onnx")], check=True,
                       capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        print(f"resnet50 left out: its export failed: {(exc.stderr.strip().splitlines() or ['?'])[-1]}")


def files(folder: Path) -> dict[str, Path]:
    """The models generated in `folder`. A child process writes them: a process started from this
    one inherits its peak resident memory (Linux keeps the high-water mark across fork and exec),
    so this one never holds the weights."""
    subprocess.run([sys.executable, __file__, "--generate", str(folder)], check=True)
    names = ("gemm_stack", "gemm_stack_external", "conv_chain_1000", "resnet50")
    return {name: folder / f"{name}.onnx" for name in names if (folder / f"{name}.onnx").exists()}


def size(path: Path) -> str:
    """The file's size in MB, and its external data file's beside it."""
    data = path.with_suffix(".data")
    megabytes = path.stat().st_size / 1e6
    return f"{megabytes:.1f}+{data.stat().st_size / 1e6:.1f}" if data.exists() else f"{megabytes:.1f}"


def main() -> None:
    repeat, netcalc, folder_to_fill = setup()
    if folder_to_fill is not None:
        generate(folder_to_fill)
        return
    profiler = importlib.util.find_spec("onnx_tool") is not None
    if not profiler:
        print("onnx-tool is not installed: its columns are left out (pip install onnx-tool==1.0.1)")
    with tempfile.TemporaryDirectory() as folder:
        models = files(Path(folder))
        floor = median_run([sys.executable, "-c", "pass"], repeat)
        print(f"median of {repeat} runs; time in s, peak resident memory in MB; ratios are netcalc's figure over the "
              f"other's; an empty python process: {floor[0]:.2f} s, {floor[1]:.0f} MB")
        print(f"{'file':20} {'MB':>10} | {'onnx.load':>14} | {'netcalc':>14} | {'onnx-tool':>14} | "
              f"{'netcalc/load':>13} | {'netcalc/onnx-tool':>17}")
        print(f"{'':20} {'':>10} | {'time':>6} {'peak':>7} | {'time':>6} {'peak':>7} | {'time':>6} {'peak':>7} | "
              f"{'time':>6} {'peak':>6} | {'time':>8} {'peak':>8}")
        totals: dict[str, dict[str, dict[str, int] | str]] = {}
        for name, path in models.items():
            load = median_run([sys.executable, "-c", LOAD, str(path)], repeat)
            ours = median_run([netcalc, "summary", str(path), "--format", "json"], repeat)
            totals[name] = {"netcalc": json.loads(ours[2])["totals"]}
            peer, versus = "left out", ""
            if profiler:
                try:
                    theirs = median_run([sys.executable, "-c", ONNX_TOOL, str(path)], repeat)
                    totals[name]["onnx-tool"] = json.loads(theirs[2].strip().splitlines()[-1])
                    peer = f"{theirs[0]:6.2f} {theirs[1]:7.0f}"
                    versus = f"{ours[0] / theirs[0]:8.2f} {ours[1] / theirs[1]:8.2f}"
                except subprocess.CalledProcessError as exc:
                    totals[name]["onnx-tool"] = "failed: " + (exc.stderr.strip().splitlines() or ["?"])[-1]
                    peer = "failed"
            print(f"{name:20} {size(path):>10} | {load[0]:6.2f} {load[1]:7.0f} | {ours[0]:6.2f} {ours[1]:7.0f} | "
                  f"{peer:>14} | {ours[0] / load[0]:6.2f} {ours[1] / load[1]:6.2f} | {versus:>17}")
        print()
        print(f"{'file':20} {'tool':10} {'params':>14} {'MACs':>16}")
        for name, found in totals.items():
            for tool, figures in found.items():
                if isinstance(figures, str):
                    print(f"{name:20} {tool:10} {figures}")
                else:
                    print(f"{name:20} {tool:10} {figures['params']:>14,} {figures['macs']:>16,}")
            if isinstance(found.get("onnx-tool"), dict):
                same = {key: found["netcalc"][key] == found["onnx-tool"][key] for key in ("params", "macs")}
                print(f"{name:20} {'equal':10} {str(same['params']):>14} {str(same['macs']):>16}")


if __name__ == "__main__":
    main()
