"""Options shared by the report commands."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from netcalc.core.dtypes import DTYPE_BYTES

from .render import names

# the registry's formats of per-layer records, so that every report command offers the same
Format = Enum("Format", {name: name for name in names("records")}, type=str)  # type: ignore[misc]
TABLE = Format("table")


# the core's table of element types, so that the option offers exactly what the report knows
Dtype = Enum("Dtype", {name: name for name in DTYPE_BYTES}, type=str)  # type: ignore[misc]
FLOAT32 = Dtype("float32")


Spec = Annotated[
    str, typer.Argument(help="A spec file (.yaml, .yml or text), or a built-in spec name (see `netcalc zoo`).")
]
Inputs = Annotated[
    list[str] | None,
    typer.Option("--input", "-i", help="Override the input shape: 3x512x512, or NAME=3x512x512 for a named input."),
]
AllowUnknown = Annotated[
    bool,
    typer.Option("--allow-unknown", help="ONNX: read an operator netcalc does not map as identity, with a warning, "
                 "where the file declares its output with its input's shape (its costs are not counted)."),
]
FoldBn = Annotated[
    bool,
    typer.Option("--fold-bn", help="The network as deployed: each BatchNorm after a convolution folded into it "
                 "(its bias), as torch.export's ONNX files and fuse_conv_bn_eval have it."),
]
Batch = Annotated[int, typer.Option(min=1, help="Batch size: multiplies activations, memory, MACs and FLOPs.")]
DtypeOpt = Annotated[Dtype, typer.Option(help="Element type for byte counts.")]
Depth = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Show N levels like torchinfo's depth: 1 = top-level layers and blocks; "
        "deeper rows fold into their block.",
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]

# `--columns`: the names people pick, and the record key (`Report.as_records`) each shows
COLUMNS = {
    "name": "name",
    "type": "type",
    "input": "input_shapes",
    "inputs": "inputs",
    "shape": "shape",
    "kernel": "kernel",
    "params": "params",
    "params_percent": "params_percent",
    "trainable": "trainable",
    "buffers": "buffers",
    "macs": "macs",
    "flops": "flops",
    "activation_bytes": "activation_bytes",
    "saved_bytes": "saved_bytes",
    "rf": "rf.size",
    "jump": "rf.jump",
}
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        help="Columns, comma-separated, in the order shown, of: " + ", ".join(COLUMNS) + " (default: the command's).",
    ),
]


class Types(str, Enum):
    netcalc = "netcalc"
    torch = "torch"


TypesOpt = Annotated[
    Types, typer.Option("--types", help="Type column: netcalc's op names, or the PyTorch classes `export` builds.")
]


class Memory(str, Enum):
    netcalc = "netcalc"
    torchinfo = "torchinfo"


MemoryOpt = Annotated[
    Memory, typer.Option("--memory", help="Also print torchinfo 1.8's mult-adds and memory lines, by its rules "
                         "(docs/torchinfo.md), under netcalc's own.")
]


class Optimizer(str, Enum):
    sgd = "sgd"
    sgd_momentum = "sgd-momentum"
    adam = "adam"
    adamw = "adamw"


Train = Annotated[
    bool,
    typer.Option("--train", help="Training memory: what autograd saves for backward per layer (the saved_bytes "
                 "column), gradients, optimizer states (docs/training-memory.md)."),
]
OptimizerOpt = Annotated[
    Optimizer, typer.Option(help="With --train: the optimizer, whose states are counted (sgd none, sgd-momentum 1, "
                            "adam and adamw 2 per trainable parameter).")
]
Checkpoint = Annotated[
    str | None,
    typer.Option("--checkpoint", metavar="BLOCK", help="With --train: run every use of block type BLOCK under "
                 "torch.utils.checkpoint (activation checkpointing): it keeps only its inputs, and is recomputed "
                 "in backward."),
]
GradDtype = Annotated[
    Dtype | None,
    typer.Option("--grad-dtype", help="With --train: the gradients' type (default: the weights', float32 under "
                 "mixed precision)."),
]
