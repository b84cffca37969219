"""budget-exceeded: the network is over a budget of the spec's `check` section or of the
command line (which wins): `max_params`, `max_macs`, `max_flops`, `max_activation_bytes`
(batch 1, float32), or under `min_rf` (the output layer's receptive field, every axis).
The message gives the figure and the limit.

Failing:

    input 3x224x224
    conv out=64 k=7 s=2 p=3
    check max_params=5K

Passing:

    input 3x224x224
    conv out=64 k=7 s=2 p=3
    check max_params=10K
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..diagnostics import Diagnostic, error
from ..report import Report

ID = "budget-exceeded"
SEVERITY = "error"
MAXIMA = {"max_params": "params", "max_macs": "macs", "max_flops": "flops", "max_activation_bytes": "activation_bytes"}


def check(report: Report, limits: Mapping[str, tuple[Any, Any]]) -> Iterator[Diagnostic]:
    totals = report.totals()
    for key, figure in MAXIMA.items():
        if key in limits and totals[figure] > limits[key][0]:
            limit, span = limits[key]
            yield error(ID, f"{figure.replace('_', ' ')} {totals[figure]:,} exceed {key} {limit:,}", span)
    if "min_rf" in limits:
        limit, span = limits["min_rf"]
        field = report.fields.get(report.graph.output)
        if field is not None and min(field.size) < limit:
            yield error(ID, f"the receptive field of the output layer '{report.graph.output}' is "
                            f"{'x'.join(map(str, field.size))}, under min_rf {limit}", span)
