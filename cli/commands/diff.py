"""`diff`: what changes between two specs."""

from __future__ import annotations

from typing import Annotated

import typer

from ..options import TABLE, FormatOpt, Inputs
from ._report import load, show

COLUMNS = ("name", "status", "type", "shape", "params", "macs", "rf")


def diff(
    old: Annotated[str, typer.Argument(help="The spec before (a file or a built-in name).")],
    new: Annotated[str, typer.Argument(help="The spec after.")],
    input: Inputs = None,
    format: FormatOpt = TABLE,
) -> None:
    """Per-layer and total changes in shape, parameters, MACs and receptive field.

    Example: netcalc diff specs/old.yaml specs/new.yaml --format markdown
    """
    from netcalc.core.diff import diff as compare

    show(format.value, compare(load(old, input), load(new, input)), COLUMNS, footer="diff")
