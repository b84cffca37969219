"""Two analysed specs compared layer by layer (matched by qualified name) and in total,
for `netcalc diff`: what a pull request changes in shapes, parameters, MACs and
receptive fields. Unchanged layers are left out."""

from __future__ import annotations

from typing import Any

from .ir import Layer
from .report import Report, field_record


def _rf(report: Report, name: str) -> str:
    record = field_record(report.fields.get(name))
    if record is None:
        return "-"
    size = record["size"]
    text = str(size[0]) if len(set(map(str, size))) == 1 else "x".join(map(str, size))
    return text + (" (global)" if record["global"] else "")


def _side(report: Report, layers: dict[str, Layer], name: str) -> dict[str, Any] | None:
    layer = layers.get(name)
    if layer is None:
        return None
    cost = report.costs[name]
    kind = layer.op + (f" (shares {layer.shares})" if layer.shares else "") + ("" if layer.trainable else " (frozen)")
    return {"type": kind, "shape": str(report.shapes[name]), "params": cost.params, "macs": cost.macs,
            "rf": _rf(report, name)}


def _change(old: Any, new: Any) -> str:
    return str(new) if old == new else f"{old} → {new}"


def diff(old: Report, new: Report) -> dict[str, Any]:
    # by name, once: a lookup per layer keeps a diff linear in the layers
    old_layers = {layer.name: layer for layer in old.graph.layers}
    new_layers = {layer.name: layer for layer in new.graph.layers}
    names = list(new_layers) + [name for name in old_layers if name not in new_layers]
    rows = []
    for name in names:
        a, b = _side(old, old_layers, name), _side(new, new_layers, name)
        if a == b:
            continue
        status = "added" if a is None else "removed" if b is None else "changed"
        a, b = a or {}, b or {}
        rows.append({
            "name": name, "status": status, "type": _change(a.get("type", "-"), b.get("type", "-")),
            "shape": _change(a.get("shape", "-"), b.get("shape", "-")),
            "params": b.get("params", 0) - a.get("params", 0), "macs": b.get("macs", 0) - a.get("macs", 0),
            "rf": _change(a.get("rf", "-"), b.get("rf", "-")),
        })
    before, after = old.totals(), new.totals()
    totals = {key: {"old": before[key], "new": after[key], "change": after[key] - before[key]}
              for key in ("layers", "params", "trainable_params", "buffers", "macs", "flops", "activation_bytes")}
    output = {"old": str(old.shapes[old.graph.output]), "new": str(new.shapes[new.graph.output])}
    return {"name": f"{old.graph.name} → {new.graph.name}", "old": old.graph.file, "new": new.graph.file,
            "output": output, "output_rf": {"old": _rf(old, old.graph.output), "new": _rf(new, new.graph.output)},
            "totals": totals, "layers": rows}
