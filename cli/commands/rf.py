"""`rf`: receptive fields, front to back or back to front."""

from __future__ import annotations

from typing import Annotated

import typer

from ..options import TABLE, AllowUnknown, FormatOpt, Inputs, Spec
from ._report import fail, load, show

FIELDS = ("name", "type", "shape", "window", "rf.size", "rf.jump", "rf.start", "rf.padding", "rf.global")
REGIONS = ("name", "type", "shape", "region")


def rf(
    spec: Spec,
    input: Inputs = None,
    allow_unknown: AllowUnknown = False,
    from_back: Annotated[
        bool, typer.Option("--from-back", help="The region a window of --layer covers in every earlier layer.")
    ] = False,
    layer: Annotated[
        str | None,
        typer.Option(
            help="With --from-back: the layer or block use (default: the output, or the last layer with spatial axes)."
        ),
    ] = None,
    size: Annotated[int, typer.Option(min=1, help="With --from-back: the window, in units of --layer.")] = 1,
    format: FormatOpt = TABLE,
) -> None:
    """Receptive field of every layer: size, jump, start and effective padding, per axis.

    Example: netcalc rf resnet18, or netcalc rf seed_rf --from-back --layer conv2
    """
    report = load(spec, input, allow_unknown)
    if not from_back and (layer is not None or size != 1):
        fail("--layer and --size go with --from-back (front to back, every layer is shown)")
    if not from_back:
        show(format.value, report.as_records(), FIELDS, footer="rf")
    from netcalc.core.report import from_back as regions

    try:
        target, note = report.window_target(layer)
    except ValueError as exc:
        fail(str(exc))
    show(format.value, regions(report, target, size, note), REGIONS, footer="regions")
