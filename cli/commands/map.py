"""`map`: coordinate mapping between a layer's units and input pixels."""

from __future__ import annotations

from typing import Annotated

import typer

from ..options import TABLE, AllowUnknown, FormatOpt, Inputs, Spec
from ._report import fail, load, show

UNIT = ("name", "unit", "start", "end", "centre", "clipped")
PIXEL = ("name", "pixel", "units", "nearest")


def map(
    spec: Spec,
    layer: Annotated[str, typer.Option(help="The layer (or block use: its last layer) whose units are mapped.")],
    input: Inputs = None,
    allow_unknown: AllowUnknown = False,
    at: Annotated[str | None, typer.Option(help="A unit of the layer, one index per axis: 3,4.")] = None,
    pixel: Annotated[str | None, typer.Option(help="An input pixel, one index per axis: 100,50.")] = None,
    format: FormatOpt = TABLE,
) -> None:
    """The input box a unit sees (--at), or the units that see an input pixel (--pixel).

    Example: netcalc map seed_rf --layer conv2 --at 1,1, or netcalc map resnet18 --layer layer2.1.relu_2 --pixel 100,50
    """
    from netcalc.core.report import mapping

    if (at is None) == (pixel is None):
        fail("give exactly one of --at and --pixel")
    try:
        coordinates = tuple(int(part) for part in (at or pixel or "").split(","))
    except ValueError:
        fail(f"expected indices like 3,4, got '{at or pixel}'")
    report = load(spec, input, allow_unknown)
    try:
        target, _ = report.window_target(layer)
        records = mapping(report, target, coordinates if at else None, coordinates if pixel else None)
    except ValueError as exc:
        fail(str(exc))
    show(format.value, records, UNIT if at else PIXEL, footer="none")
