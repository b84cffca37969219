"""`diff`: what changes between two specs."""

from __future__ import annotations

from typing import Annotated

import typer

from ..options import TABLE, AllowUnknown, FoldBn, FormatOpt, Inputs
from ._report import load, show

COLUMNS = ("name", "status", "type", "shape", "params", "macs", "rf")


def diff(
    old: Annotated[str, typer.Argument(help="The spec before (a file or a built-in name).")],
    new: Annotated[str, typer.Argument(help="The spec after.")],
    input: Inputs = None,
    allow_unknown: AllowUnknown = False,
    fold_bn: FoldBn = False,
    format: FormatOpt = TABLE,
) -> None:
    """Per-layer and total changes in shape, parameters, MACs and receptive field.

    Example: netcalc diff specs/old.yaml specs/new.yaml --format markdown
    """
    from netcalc.core.diff import diff as compare

    before, after = load(old, input, allow_unknown), load(new, input, allow_unknown)
    if fold_bn:
        from netcalc.core.fold import fold_batchnorm

        before, after = fold_batchnorm(before), fold_batchnorm(after)
    show(format.value, compare(before, after), COLUMNS, footer="diff")
