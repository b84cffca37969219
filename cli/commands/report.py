"""`shapes`, `params`, `flops` and `summary`: one per-layer table, different columns
(each command's own, or those `--columns` picks)."""

from __future__ import annotations

from ..options import (
    FLOAT32,
    TABLE,
    AllowUnknown,
    Batch,
    Checkpoint,
    ColumnsOpt,
    Depth,
    DtypeOpt,
    FoldBn,
    FormatOpt,
    GradDtype,
    Inputs,
    Memory,
    MemoryOpt,
    Optimizer,
    OptimizerOpt,
    Spec,
    Train,
    Types,
    TypesOpt,
)
from ._report import fail, run

SHAPES = ("name", "type", "inputs", "shape")
PARAMS = ("name", "type", "shape", "params", "buffers")
FLOPS = ("name", "type", "shape", "macs", "flops")
SUMMARY = ("name", "type", "shape", "params", "buffers", "macs", "flops", "activation_bytes", "rf.size", "rf.jump")


def shapes(spec: Spec, input: Inputs = None, batch: Batch = 1, dtype: DtypeOpt = FLOAT32,
           depth: Depth = None, format: FormatOpt = TABLE, columns: ColumnsOpt = None,
           types: TypesOpt = Types.netcalc, allow_unknown: AllowUnknown = False,
           fold_bn: FoldBn = False) -> None:
    """Output shape of every layer.

    Example: netcalc shapes resnet18 --input 3x512x512
    """
    run(spec, input, batch, dtype.value, depth, format.value, SHAPES, columns, types.value, allow_unknown=allow_unknown,
        fold_bn=fold_bn)


def params(spec: Spec, input: Inputs = None, batch: Batch = 1, dtype: DtypeOpt = FLOAT32,
           depth: Depth = None, format: FormatOpt = TABLE, columns: ColumnsOpt = None,
           types: TypesOpt = Types.netcalc, allow_unknown: AllowUnknown = False,
           fold_bn: FoldBn = False) -> None:
    """Parameters and buffers of every layer, as PyTorch counts them.

    Example: netcalc params resnet50 --depth 1
    """
    run(spec, input, batch, dtype.value, depth, format.value, PARAMS, columns, types.value, allow_unknown=allow_unknown,
        fold_bn=fold_bn)


def flops(spec: Spec, input: Inputs = None, batch: Batch = 1, dtype: DtypeOpt = FLOAT32,
          depth: Depth = None, format: FormatOpt = TABLE, columns: ColumnsOpt = None,
          types: TypesOpt = Types.netcalc, allow_unknown: AllowUnknown = False,
          fold_bn: FoldBn = False) -> None:
    """MACs and FLOPs of every layer (FLOPs = 2 x MACs + other work; see docs/conventions.md).

    Example: netcalc flops mobilenet_v2 --batch 8 --format csv
    """
    run(spec, input, batch, dtype.value, depth, format.value, FLOPS, columns, types.value, allow_unknown=allow_unknown,
        fold_bn=fold_bn)


def summary(spec: Spec, input: Inputs = None, batch: Batch = 1, dtype: DtypeOpt = FLOAT32,
            depth: Depth = None, format: FormatOpt = TABLE, columns: ColumnsOpt = None,
            types: TypesOpt = Types.netcalc, memory: MemoryOpt = Memory.netcalc, train: Train = False,
            optimizer: OptimizerOpt = Optimizer.adam, grad_dtype: GradDtype = None,
            checkpoint: Checkpoint = None, allow_unknown: AllowUnknown = False, fold_bn: FoldBn = False) -> None:
    """Every column and a totals and memory footer, like torchinfo's summary.

    Example: netcalc summary resnet50 --depth 2 --dtype float16;
    netcalc summary resnet50 --train --optimizer adam --batch 32;
    netcalc summary resnet18 --memory torchinfo
    """
    given = [name for name, value in (("--optimizer", optimizer is not Optimizer.adam), ("--grad-dtype", grad_dtype),
                                      ("--checkpoint", checkpoint)) if value]
    if not train and given:
        fail(f"{given[0]} is a training setting: add --train")
    if train and fold_bn:
        fail("--fold-bn is the network as deployed, for inference: training keeps its BatchNorms (drop one option)")
    training = None
    if train:
        from netcalc.core.analysis.training import Training

        training = Training(optimizer.value, grad_dtype.value if grad_dtype else None, checkpoint)
    run(spec, input, batch, dtype.value, depth, format.value, SUMMARY + (("saved_bytes",) if train else ()),
        columns, types.value, training, memory is Memory.torchinfo, allow_unknown, fold_bn)
