"""torchinfo's totals (core/torchinfo.py): hand-checked cases, the printed lines, and
torchinfo 1.8.0's own `summary` on the exported built-ins and on specs that reach its
corners (shared modules, tied heads, attention, a block's own tensors)."""

from __future__ import annotations

import sys

import pytest

from netcalc.core.api import analyze, builtin_specs
from netcalc.core.dtypes import DTYPE_BYTES
from netcalc.core.torchinfo import STORAGE_OBJECT_BYTES, module_calls, torchinfo_figures, torchinfo_lines

from helpers import text_spec

CNN = "input 3x8x8\nconv out=4 k=3 p=1\nrelu\nmaxpool k=2\nflatten\nlinear out=10\n"
SEQUENCE = "input 10:int64\nembedding num=100 dim=8\nlstm hidden=4\nlinear out=2\n"
SHARED_AND_TIED = ("input 6:int64\nembedding num=20 dim=4 name=wte\nlinear out=4 name=proj\n"
                   "linear out=4 share=proj name=again\nlinear out=20 bias=false share=wte name=head\n")
ATTENTION_AND_PARAM = "input 5x8\nparam shape=[5,8] name=pos\nadd from=input,pos\nmha heads=2\nlinear out=3\n"
FROZEN = "input 3x4x4\nconv out=2 k=1 trainable=false\nbn\n"
LEAF_BLOCK = "input 5x8\nblock pos\n  param shape=[5,8] name=pos_weight\n  add from=in,pos_weight\npos name=p\n"
ACROSS_BLOCKS = ("input 8\nblock b\n  linear out=8 name=l\n  relu\nb name=x\nb name=y\n"
                 "linear out=8 share=x.l name=top\nlinear out=8 share=y.l name=top2\n")

# (spec, batch, dtype, figures). Input bytes carry torchinfo's 64 of each storage object.
CASES = [
    pytest.param(
        # conv: 3*4*9 + 4 = 112 params, 112 x 8*8 positions = 7,168; output 4*64 floats = 1,024 B
        # linear: 64*10 + 10 = 650 params, 650 mult-adds (the batch only); output 40 B
        # relu, maxpool and flatten have no parameters: no mult-adds, their outputs not counted
        CNN, 1, "float32",
        {"params": 762, "trainable_params": 762, "mult_adds": 7_168 + 650,
         "input_bytes": 3 * 64 * 4 + 64,  # 832
         "forward_backward_bytes": 2 * (1_024 + 40),  # 2,128
         "params_bytes": 762 * 4,  # 3,048
         "total_bytes": 832 + 2_128 + 3_048},
        id="cnn"),
    pytest.param(
        # the same at batch 2: mult-adds, outputs and input double; parameters do not;
        # the storage object is counted once per input, not per sample
        CNN, 2, "float32",
        {"params": 762, "trainable_params": 762, "mult_adds": 2 * 7_818,
         "input_bytes": 2 * 768 + 64, "forward_backward_bytes": 2 * 2_128, "params_bytes": 3_048,
         "total_bytes": 1_600 + 4_256 + 3_048},
        id="cnn-batch-2"),
    pytest.param(
        # embedding: 100*8 = 800 params, 800 mult-adds (a weight: the batch only); output 10x8 = 320 B
        # lstm: 4*4*(8 + 4) + 2*16 = 224 params, weight_ih_l0 etc.: x 10 positions = 2,240; output 160 B
        # linear on the sequence: 4*2 + 2 = 10 params, 10 mult-adds (not x 10 positions); output 80 B
        # int64 ids: 10 x 8 B + 64
        SEQUENCE, 1, "float32",
        {"params": 1_034, "trainable_params": 1_034, "mult_adds": 800 + 2_240 + 10,
         "input_bytes": 144, "forward_backward_bytes": 2 * (320 + 160 + 80), "params_bytes": 1_034 * 4,
         "total_bytes": 144 + 1_120 + 4_136},
        id="sequence"),
    pytest.param(
        # float16 halves outputs and parameters; the int64 ids keep their 8 bytes
        SEQUENCE, 1, "float16",
        {"params": 1_034, "trainable_params": 1_034, "mult_adds": 3_050,
         "input_bytes": 144, "forward_backward_bytes": 560, "params_bytes": 2_068, "total_bytes": 2_772},
        id="sequence-float16"),
    pytest.param(
        # wte 80 params, proj 20; `again` calls proj again: its mult-adds (20) and output count,
        # its parameters not; the tied head's Linear holds wte's weight: 80 counted again
        # (netcalc: 100 params). Outputs: 6x4 = 96 B three times, 6x20 = 480 B
        SHARED_AND_TIED, 1, "float32",
        {"params": 180, "trainable_params": 180, "mult_adds": 80 + 20 + 20 + 80,
         "input_bytes": 48 + 64, "forward_backward_bytes": 2 * (3 * 96 + 480), "params_bytes": 180 * 4,
         "total_bytes": 112 + 1_536 + 720},
        id="shared-and-tied"),
    pytest.param(
        # pos (a tensor of the network): 40 params, in Total params only; mha: 3*(64 + 8) + 72 =
        # 288 params, no leaf (its out_proj is a child module): in Total params only, no
        # mult-adds, no output; linear: 27 params, 27 mult-adds, output 5x3 = 60 B
        ATTENTION_AND_PARAM, 1, "float32",
        {"params": 355, "trainable_params": 355, "mult_adds": 27,
         "input_bytes": 160 + 64, "forward_backward_bytes": 120, "params_bytes": 108, "total_bytes": 452},
        id="attention-and-param"),
    pytest.param(
        # frozen conv: 3*2 + 2 = 8 params, 8 x 16 positions = 128; bn: 4 params, 4 (the batch only);
        # both outputs 2x4x4 = 128 B
        FROZEN, 1, "float32",
        {"params": 12, "trainable_params": 4, "mult_adds": 132,
         "input_bytes": 192 + 64, "forward_backward_bytes": 2 * (128 + 128), "params_bytes": 48, "total_bytes": 816},
        id="frozen"),
    pytest.param(
        # block p holds no module: a leaf, with its tensor's 40 params; "weight" in its name:
        # 40 x 5 (the batch and the first axis) = 200; its output 5x8 = 160 B
        LEAF_BLOCK, 1, "float32",
        {"params": 40, "trainable_params": 40, "mult_adds": 200,
         "input_bytes": 224, "forward_backward_bytes": 320, "params_bytes": 160, "total_bytes": 704},
        id="leaf-block"),
    pytest.param(
        # linear x.l and y.l: 8*8 + 8 = 72 params each; top and top2 call them again. torchinfo
        # hooks a module at its last path (top, top2: depth 1), so the calls inside x and y
        # land beside the blocks, not under them: each block keeps the 72 as its own and the
        # call counts them again, 4 x 72 (netcalc: 144). Four calls: 4 x 72 mult-adds, 4 x 32 B
        ACROSS_BLOCKS, 1, "float32",
        {"params": 288, "trainable_params": 288, "mult_adds": 288,
         "input_bytes": 32 + 64, "forward_backward_bytes": 2 * 4 * 32, "params_bytes": 144 * 4, "total_bytes": 928},
        id="shared-across-blocks"),
]


@pytest.mark.parametrize("spec, batch, dtype, expected", CASES)
def test_figures_by_hand(spec: str, batch: int, dtype: str, expected: dict[str, int]) -> None:
    assert torchinfo_figures(text_spec(spec), batch, dtype) == expected


def test_forward_activations_and_torchinfo_differ_as_documented() -> None:
    """netcalc counts every output once; torchinfo twice, only where a module has parameters."""
    report = text_spec(CNN)
    assert report.totals()["activation_bytes"] == 1_024 * 2 + 256 + 256 + 40  # conv, relu, pool, flatten, linear
    assert torchinfo_figures(report)["forward_backward_bytes"] == 2 * (1_024 + 40)


def test_calls_follow_forward_with_blocks_at_their_depth() -> None:
    report = text_spec("input 3x8x8\nblock unit\n  conv out=3 k=1 name=c\n  relu name=r\nunit name=a\nunit name=b\n")
    calls = [(c.name, c.depth, c.leaf) for c in module_calls(report, 4)]
    assert calls == [("", 0, False), ("a", 1, False), ("a.c", 2, True), ("a.r", 2, True),
                     ("b", 1, False), ("b.c", 2, True), ("b.r", 2, True)]


# torchinfo: print(f"{label}: {text}"), with `MB / 1e6:0.2f` and mult-adds in M, G or T
LINES = [
    ({"mult_adds": 1_814_083_944, "input_bytes": 602_176, "forward_backward_bytes": 39_747_392,
      "params_bytes": 46_758_048, "total_bytes": 87_107_616},
     [("Total mult-adds (G)", "1.81"), ("Input size (MB)", "0.60"), ("Forward/backward pass size (MB)", "39.75"),
      ("Params size (MB)", "46.76"), ("Estimated Total Size (MB)", "87.11")]),
    ({"mult_adds": 0, "input_bytes": 5_000, "forward_backward_bytes": 15_000, "params_bytes": 0, "total_bytes": 0},
     # a whole number prints without decimals; ties go by the binary float: 0.005 is stored a
     # little above (0.01), 0.015 a little below (0.01)
     [("Total mult-adds (M)", "0"), ("Input size (MB)", "0.01"), ("Forward/backward pass size (MB)", "0.01"),
      ("Params size (MB)", "0.00"), ("Estimated Total Size (MB)", "0.00")]),
    ({"mult_adds": 2_000_000, "input_bytes": 1, "forward_backward_bytes": 0, "params_bytes": 0, "total_bytes": 1},
     [("Total mult-adds (M)", "2"), ("Input size (MB)", "0.00"), ("Forward/backward pass size (MB)", "0.00"),
      ("Params size (MB)", "0.00"), ("Estimated Total Size (MB)", "0.00")]),
    ({"mult_adds": 1_234_560_000_000_000, "input_bytes": 0, "forward_backward_bytes": 0, "params_bytes": 0,
      "total_bytes": 1_234_567_890_123},
     [("Total mult-adds (T)", "1,234.56"), ("Input size (MB)", "0.00"), ("Forward/backward pass size (MB)", "0.00"),
      ("Params size (MB)", "0.00"), ("Estimated Total Size (MB)", "1234567.89")]),
    ({"mult_adds": 10**9, "input_bytes": 0, "forward_backward_bytes": 0, "params_bytes": 0, "total_bytes": 0},
     [("Total mult-adds (G)", "1"), ("Input size (MB)", "0.00"), ("Forward/backward pass size (MB)", "0.00"),
      ("Params size (MB)", "0.00"), ("Estimated Total Size (MB)", "0.00")]),
]


@pytest.mark.parametrize("figures, lines", LINES)
def test_lines_are_formatted_as_torchinfo_prints_them(figures: dict[str, int], lines: list[tuple[str, str]]) -> None:
    assert torchinfo_lines(figures) == lines


# --- torchinfo 1.8.0 itself, on the exported module ---

# specs that reach torchinfo's corners, beside the built-ins
CORNERS = {
    "shared-and-tied": SHARED_AND_TIED,
    "attention-and-param": ATTENTION_AND_PARAM,
    "frozen": FROZEN,
    "leaf-block": LEAF_BLOCK,
    "shared-across-blocks": ACROSS_BLOCKS,
    "non-leaf-block": "input 5x8\nblock pos\n  param shape=[5,8] name=tok\n  add from=in,tok\n  linear out=8\n"
                      "pos name=p\nlinear out=4\n",
    "recurrent": "input 12x6\nlstm hidden=5 layers=2 bidirectional=true\ngru hidden=3\nrnn hidden=2\nlinear out=2\n",
    "convolutions": "input 3x9x9\nconv out=4 k=[3,1] s=2 p=1\nbn trainable=false\nprelu\ndwconv k=3 p=same\n"
                    "convT out=2 k=2 s=2\nmaxpool k=2\nconv out=2 k=3 d=2 s=2 p=same\n",
    "conv1d-3d": "input 2x4x6x6\nconv out=3 k=3 p=1\navgpool k=2\nflatten start=1 end=1\n",
}


def _torchinfo_run(report, batch: int, dtype: str):  # type: ignore[no-untyped-def]
    """(torchinfo's ModelStatistics, its printed text) for the exported module on `batch` samples."""
    torch = pytest.importorskip("torch")
    torchinfo = pytest.importorskip("torchinfo")
    from test_export import load_model

    from netcalc.core.export import to_torch

    float_type = getattr(torch, dtype)
    model = load_model(to_torch(report)).to(float_type)
    torch.manual_seed(0)
    inputs = [torch.rand(batch, *i.shape.dims, dtype=float_type) if i.shape.is_float
              else torch.zeros(batch, *i.shape.dims, dtype=getattr(torch, i.shape.dtype)) for i in report.graph.inputs]
    stats = torchinfo.summary(model, input_data=inputs, verbose=0,
                              col_names=("output_size", "num_params", "kernel_size", "mult_adds", "trainable"))
    return stats, str(stats)


def _kernel(window: str, rank: int) -> list[int]:
    """netcalc's kernel column (`k3x1 s2 p1`): the window per spatial axis."""
    sizes = [int(k) for k in window.split()[0].removeprefix("k").split("x")]
    return sizes * rank if len(sizes) == 1 else sizes


def compare_with_torchinfo(report, batch: int = 1, dtype: str = "float32") -> None:  # type: ignore[no-untyped-def]
    stats, text = _torchinfo_run(report, batch, dtype)
    figures = torchinfo_figures(report, batch, dtype)
    assert (stats.total_params, stats.trainable_params, stats.total_mult_adds) == (
        figures["params"], figures["trainable_params"], figures["mult_adds"])
    assert (stats.total_input, stats.total_output_bytes, stats.total_param_bytes) == (
        figures["input_bytes"], figures["forward_backward_bytes"], figures["params_bytes"])
    # Python 3.11 and later print torchinfo 1.8.0's unit as its enum (its issue #350)
    for enum, unit in (("MEGABYTES", "M"), ("GIGABYTES", "G"), ("TERABYTES", "T")):
        text = text.replace(f"(Units.{enum})", f"({unit})")
    for label, value in torchinfo_lines(figures):
        assert f"\n{label}: {value}\n" in text
    compare_rows(report, stats.summary_list, batch, dtype)


def compare_rows(report, summary_list, batch: int, dtype: str) -> None:  # type: ignore[no-untyped-def]
    """Entry by entry: the module called, its depth, parameters, output shape and bytes, a
    leaf's mult-adds, and a window's kernel against netcalc's kernel column."""
    calls = module_calls(report, DTYPE_BYTES[dtype])
    # the calls: torchinfo adds rows for display where a call left its block (a shared
    # module hooked at another path), rows of no call that no total counts
    summary_list = [info for info in summary_list if info.executed]
    assert len(calls) == len(summary_list)
    rows = {row.name: row for row in report.rows()}
    returned = {"": report.graph.output}  # a block returns its last layer
    returned.update({name: layer.name for layer in report.graph.layers for name in layer.block_path})
    for call, info in zip(calls, summary_list):
        assert (call.depth, call.leaf, call.recursive, call.params, call.trainable) == (
            info.depth, info.is_leaf_layer, info.is_recursive, info.num_params, info.trainable_params), call
        assert call.output_bytes * batch == info.output_bytes, call
        assert not call.leaf or call.mult_adds * batch == info.macs, call  # the total reads leaves only
        shape = report.shape(returned.get(call.name, call.name))
        assert info.output_size == [batch, *shape.dims], call
        if info.kernel_size is not None:
            kernel = info.kernel_size if isinstance(info.kernel_size, list) else [info.kernel_size] * (shape.rank - 1)
            assert _kernel(rows[call.name].window, shape.rank - 1) == kernel, call


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(builtin_specs()))
def test_builtins_agree_with_torchinfo(name: str) -> None:
    report = analyze(name)
    compare_with_torchinfo(report)
    # netcalc's own totals: the same parameters, but a tied weight (gpt2's lm_head) is counted once
    figures, totals = torchinfo_figures(report), report.totals()
    tied = 50257 * 768 if name == "gpt2" else 0
    assert (figures["params"] - tied, figures["params"] - figures["trainable_params"]) == (
        totals["params"], totals["non_trainable_params"])


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(CORNERS))
@pytest.mark.parametrize("batch, dtype", [(1, "float32"), (3, "float64")])
def test_corners_agree_with_torchinfo(name: str, batch: int, dtype: str) -> None:
    compare_with_torchinfo(text_spec(CORNERS[name]), batch, dtype)


@pytest.mark.torch
def test_the_storage_object_is_64_bytes() -> None:
    torch = pytest.importorskip("torch")
    storage = torch.zeros(3, 5).untyped_storage()
    assert sys.getsizeof(storage) - storage.nbytes() == STORAGE_OBJECT_BYTES


def test_cli_memory_torchinfo_prints_its_lines_under_netcalcs_and_in_json() -> None:
    import json

    from test_cli import netcalc

    result = netcalc("summary", "resnet18", "--memory", "torchinfo", "-f", "plain")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-5:] == [
        line for line in result.stdout.splitlines() if line.startswith("torchinfo: ")]
    assert "torchinfo: Total mult-adds (G)" in result.stdout
    figures = json.loads(netcalc("summary", "resnet18", "--memory", "torchinfo", "-f", "json").stdout)["torchinfo"]
    assert figures["mult_adds"] == 1_814_083_944 and figures["params"] == 11_689_512
