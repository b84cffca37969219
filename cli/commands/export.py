"""`export`: the spec as PyTorch code."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from .. import exit_codes
from ..options import AllowUnknown, Inputs, Spec
from ._report import load, write


class Target(str, Enum):
    torch = "torch"


def export(
    spec: Spec,
    to: Annotated[Target, typer.Option(help="What to write.")] = Target.torch,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="A file to write (default: stdout).")] = None,
    input: Inputs = None,
    allow_unknown: AllowUnknown = False,
) -> None:
    """Write a self-contained PyTorch module whose module paths are the spec's layer names.

    Example: netcalc export resnet18 --to torch -o resnet18.py
    """
    from netcalc.core.export import to_torch, unexportable

    from ..render import diagnostics

    report = load(spec, input, allow_unknown)
    problems = unexportable(report)
    if problems:
        diagnostics.emit(problems, sys.stderr)
        raise typer.Exit(exit_codes.USAGE_OR_INVALID)
    write(to_torch(report), output)
