"""The pipeline the report commands share: analyse, report problems, render, exit."""

from __future__ import annotations

import sys
from typing import Sequence

import typer

from .. import exit_codes


def run(spec: str, inputs: Sequence[str] | None, batch: int, dtype: str, depth: int | None,
        fmt: str, columns: Sequence[str]) -> None:
    from netcalc.core.api import SpecNotFound, analyze

    from ..render import diagnostics, formats

    try:
        report = analyze(spec, inputs or ())
    except SpecNotFound as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exit_codes.USAGE_OR_INVALID) from None
    diagnostics.emit(report.diagnostics, sys.stderr)
    if not report.ok:
        raise typer.Exit(exit_codes.USAGE_OR_INVALID)
    formats.emit(fmt, report, formats.View(tuple(columns), batch, dtype, depth))
    raise typer.Exit(exit_codes.OK)
