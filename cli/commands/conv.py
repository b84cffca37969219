"""`conv`: the one-layer calculator, no spec needed."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, NoReturn

import typer

from .. import exit_codes
from ..render import names
from ._report import fail, show


class Unknown(str, Enum):
    padding = "padding"
    stride = "stride"
    kernel = "kernel"


def conv(
    size: Annotated[int, typer.Option("--in", help="Input size along one axis.")],
    k: Annotated[int, typer.Option("-k", "--kernel", help="Kernel size.")] = 1,
    s: Annotated[int, typer.Option("-s", "--stride", help="Stride.")] = 1,
    p: Annotated[int, typer.Option("-p", "--padding", help="Padding on each side.")] = 0,
    d: Annotated[int, typer.Option("-d", "--dilation", help="Dilation.")] = 1,
    transposed: Annotated[bool, typer.Option("--transposed", help="A transposed convolution.")] = False,
    op: Annotated[int, typer.Option("--output-padding", help="Output padding (transposed only).")] = 0,
    out: Annotated[int | None, typer.Option("--out", help="With --solve: the output size wanted.")] = None,
    solve: Annotated[
        Unknown | None, typer.Option("--solve", help="List the values of this setting that give --out.")
    ] = None,
    format: Annotated[str, typer.Option("--format", "-f", help=", ".join(names("records")))] = "table",
) -> None:
    """Output size, formula, receptive field and jump of one layer; or solve for a setting.

    Example: netcalc conv --in 224 -k 7 -s 2 -p 3, or netcalc conv --in 224 -k 7 -s 2 --out 112 --solve padding
    """
    from netcalc.core.calculator import Layer1D, describe, problem

    from ..render import problem as format_problem

    unknown_format = format_problem("records", format)
    if unknown_format:
        fail(unknown_format)
    layer = Layer1D(size, k, s, p, d, transposed, op)
    if solve is not None:
        if out is None:
            fail("--solve needs --out, the output size wanted")
        _solve(layer, out, solve.value, format)
    why = problem(layer)
    if why:
        fail(why)
    show(format, {"name": "one layer", "layers": [{"name": "conv" if not transposed else "convT", **describe(layer)}]},
         COLUMNS, footer="none")


def _solve(layer: Any, out: int, unknown: str, format: str) -> NoReturn:
    """The values of `unknown` that give `out`, as a range; exit 1 when there are none."""
    from netcalc.core.calculator import describe_solutions, no_solution, solve, solve_problem

    why = solve_problem(layer, out, unknown)
    if why:
        fail(why)
    found = solve(layer, out, unknown)
    if found is None:
        typer.echo(f"error: {no_solution(layer, out, unknown)}", err=True)
        raise typer.Exit(exit_codes.FINDINGS)
    show(format, {"name": f"{unknown} for {layer.size} -> {out}", "layers": [describe_solutions(layer, out, found)]},
         SOLVE_COLUMNS, footer="none")


COLUMNS = ("name", "input", "output", "formula", "effective_kernel", "rf", "jump", "unused")
SOLVE_COLUMNS = ("name", "input", "output", "formula")
