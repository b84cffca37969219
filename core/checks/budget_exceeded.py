"""How `budget-exceeded` is computed: each budget against the report's totals (batch 1,
float32; `max_train_memory` with Adam) and `min_rf` against the output layer's field. Its documentation: core/ids.py."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ..diagnostics import Diagnostic, finding
from ..report import Report

ID = "budget-exceeded"
MAXIMA = {"max_params": "params", "max_macs": "macs", "max_flops": "flops", "max_activation_bytes": "activation_bytes"}


def check(report: Report, limits: Mapping[str, tuple[Any, Any]]) -> Iterator[Diagnostic]:
    totals = report.totals()
    for key, figure in MAXIMA.items():
        if key in limits and totals[figure] > limits[key][0]:
            limit, span = limits[key]
            yield finding(ID, f"{figure.replace('_', ' ')} {totals[figure]:,} exceed {key} {limit:,}", span)
    if "max_train_memory" in limits:
        yield from _train_memory(report, limits["max_train_memory"])
    if "min_rf" in limits:
        limit, span = limits["min_rf"]
        field = report.fields.get(report.graph.output)
        if field is not None and min(field.size) < limit:
            yield finding(ID, f"the receptive field of the output layer '{report.graph.output}' is "
                            f"{'x'.join(map(str, field.size))}, under min_rf {limit}", span)


def _train_memory(report: Report, limit: tuple[Any, Any]) -> Iterator[Diagnostic]:
    """A training step's memory (batch 1, float32, Adam: `summary --train`'s total)."""
    from ..analysis.training import Training, saved_bytes

    saved = sum(saved_bytes(report.graph, report.shapes, 1, "float32").values())
    figure = Training().totals(report.total(), saved, "float32")["train_memory_bytes"]
    if figure > limit[0]:
        yield finding(ID, f"train memory {figure:,} bytes (batch 1, float32, Adam) exceed max_train_memory "
                      f"{limit[0]:,}", limit[1])
