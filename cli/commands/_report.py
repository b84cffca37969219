"""The pipeline the report commands share: analyse, report problems, render, exit."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from .. import exit_codes

if TYPE_CHECKING:  # imported when a command runs: `netcalc --help` loads no core
    from netcalc.core.analysis.training import Training


def load(spec: str, inputs: Sequence[str] | None, allow_unknown: bool = False) -> Any:
    """The analysed spec, or exit 2 with its problems on stderr."""
    from netcalc.core.api import SpecNotFound, analyze

    from ..render import diagnostics

    try:
        report = analyze(spec, inputs or (), allow_unknown)
    except SpecNotFound as exc:
        fail(str(exc))
    diagnostics.emit(report.diagnostics, sys.stderr)
    if not report.ok:
        raise typer.Exit(exit_codes.USAGE_OR_INVALID)
    return report


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(exit_codes.USAGE_OR_INVALID)


def write(text: str, output: Any) -> None:
    """`text` to the file `output`, or to stdout without one; exit 2 if it cannot be written.
    A file is written whole or not at all: into a temporary file beside it, then renamed
    over it, so that a full disk never leaves half a file (or half of the previous one)."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        if output.exists() and not output.is_file():  # a device or a pipe: never replaced
            output.write_text(text)
        else:
            _replace(output, text)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")


def _replace(output: Path, text: str) -> None:
    import os
    import tempfile

    handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as a plain open() would have made it
        os.replace(temporary, output)
    except BaseException:
        os.unlink(temporary)
        raise


def show(fmt: str, records: dict[str, Any], columns: Sequence[str], footer: str = "totals",
         chosen: Sequence[str] = ()) -> NoReturn:
    from ..render import formats

    formats.emit(fmt, records, formats.View(tuple(columns), footer, tuple(chosen)))
    raise typer.Exit(exit_codes.OK)


def chosen_columns(text: str) -> list[str]:
    """The names of `--columns name,type,rf`, or exit 2 naming the valid columns."""
    from ..options import COLUMNS

    names = [name.strip() for name in text.split(",")]
    unknown = list(dict.fromkeys(name for name in names if name not in COLUMNS))
    if unknown:  # an empty name too: `--columns ""`, `name,,type`
        fail(f"--columns: unknown column{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
             f"valid columns: {', '.join(COLUMNS)}")
    return names


# the option that gives each training setting the core checks (`Training.problem`)
TRAINING_OPTIONS = {"dtype": "--train", "grad_dtype": "--grad-dtype", "checkpoint": "--checkpoint"}


def run(spec: str, inputs: Sequence[str] | None, batch: int, dtype: str, depth: int | None,
        fmt: str, columns: Sequence[str], chosen: str | None = None, types: str = "netcalc",
        training: Training | None = None, torchinfo: bool = False, allow_unknown: bool = False,
        fold_bn: bool = False) -> None:
    """`training`: the core's Training settings for --train; `torchinfo`: torchinfo's
    figures too (--memory torchinfo)."""
    from ..options import COLUMNS

    picked = chosen_columns(chosen) if chosen is not None else None
    if picked and "saved_bytes" in picked and training is None:
        fail("--columns saved_bytes: the bytes autograd saves are a training figure: add --train")
    report = load(spec, inputs, allow_unknown)
    if fold_bn:
        from netcalc.core.fold import fold_batchnorm

        report = fold_batchnorm(report)
    problem = training.problem(dtype, report.graph) if training is not None else None
    if problem is not None:
        setting, why = problem
        fail(f"{TRAINING_OPTIONS[setting]}: {why}")
    names = None
    if types == "torch":
        from netcalc.core.export import torch_types

        names = torch_types(report)
    # the terminal's tables show block uses as container rows, indented; JSON, CSV and
    # markdown (whose cells lose their indentation) stay one row per layer
    tree = fmt in ("table", "plain")
    records = report.as_records(batch, dtype, depth, types=names, columns=picked is not None, training=training,
                                tree=tree)
    if torchinfo:
        from netcalc.core.torchinfo import torchinfo_figures

        records["torchinfo"] = torchinfo_figures(report, batch, dtype)
    if picked is None:
        show(fmt, records, columns)
    show(fmt, records, [COLUMNS[name] for name in picked], chosen=picked)
