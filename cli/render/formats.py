"""Records -> output, one function per format in FORMATS. Every number comes from the
core's records (`Report.as_records`, `report.from_back`); nothing is computed here but the
layout."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netcalc.core.report import human, totals_footer

from . import table
from .table import Grid

HEADERS = {
    "name": "Layer",
    "type": "Type",
    "inputs": "Inputs",
    "input_shapes": "Input shape",
    "params_percent": "Param %",
    "trainable": "Trainable",
    "shape": "Output shape",
    "params": "Params",
    "buffers": "Buffers",
    "macs": "MACs",
    "flops": "FLOPs",
    "activation_bytes": "Activation bytes",
    "saved_bytes": "Saved for backward",
    "window": "Window",
    "kernel": "Kernel",
    "rf.size": "RF",
    "rf.jump": "Jump",
    "rf.start": "Start",
    "rf.padding": "Eff. padding",
    "rf.global": "Global",
    "region": "Region",
    "input": "Input",
    "output": "Output",
    "formula": "Formula",
    "effective_kernel": "Effective kernel",
    "rf": "RF",
    "jump": "Jump",
    "unused": "Unused input rows",
    "unit": "Unit",
    "start": "First pixel",
    "end": "Last pixel",
    "centre": "Centre",
    "clipped": "Clipped to the image",
    "pixel": "Pixel",
    "units": "Units seeing it",
    "nearest": "Nearest centre",
    "status": "Change",
}
TEXT_COLUMNS = ("name", "type", "inputs", "input_shapes", "shape", "window", "kernel", "trainable", "region", "formula",
                "status")
LISTS = ("inputs", "input_shapes")  # cells that join several values with ", "


@dataclass(frozen=True, slots=True)
class View:
    columns: tuple[str, ...]
    footer: str = "totals"  # a key of FOOTERS
    chosen: tuple[str, ...] = ()  # the names picked with --columns: JSON layers keep only theirs, CSV heads them


def lookup(record: Mapping[str, Any], key: str) -> Any:
    """A record's value; `rf.size` reads inside the `rf` object."""
    head, _, rest = key.partition(".")
    value = record.get(head)
    if key == "shape" and "dtype" in record:  # token ids, masks: `128:int64`
        return f"{cell(key, value)}:{record['dtype']}"
    if key == "rf.global" and value and record["rf"].get("prefix"):  # causal: what it reads is the prefix
        return "prefix"
    if key == "type" and "shares" in record:  # torchinfo's "(recursive)", saying with whom
        return f"{value} (shares {record['shares']})"
    return lookup(value, rest) if rest and isinstance(value, Mapping) else (None if rest else value)


def cell(key: str, value: Any) -> str:
    if key in ("trainable", "params_percent"):  # torchinfo's: True/False/Partial/--, 0.08%
        return "--" if value is None else f"{value:.2f}%" if key == "params_percent" else str(value).capitalize()
    if value is None:
        return "-"
    if key in ("shape", "region"):
        return value if isinstance(value, str) else "x".join(map(str, value))
    if key in ("clipped", "units"):
        return f"{value[0]}..{value[1]}"
    if key == "inputs":
        return ", ".join(value)
    if key == "input_shapes":
        return ", ".join(cell("shape", shape) for shape in value) or "-"
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, list):  # per-axis figures: one when the axes agree
        return str(value[0]) if len(set(map(str, value))) == 1 else "x".join(map(str, value))
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def to_json(records: dict[str, Any], view: View) -> str:
    """One line per top-level key and per layer: readable, and encoded by json's C encoder
    (json's `indent` falls back to pure Python, seconds for 100,000 layers). With columns
    picked (`--columns`), each layer keeps the keys of those columns only (`rf` and `jump`:
    the `rf` object), the rest of the document whole."""
    if view.chosen:
        keep = {k.partition(".")[0] for k in view.columns}
        records = {**records, "layers": [{k: v for k, v in layer.items() if k in keep} for layer in records["layers"]]}
    fields = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in records.items() if key != "layers"]
    layers = ",\n".join(f"    {json.dumps(layer)}" for layer in records["layers"])
    fields.append(f'  "layers": [\n{layers}\n  ]' if layers else '  "layers": []')
    return "{\n" + ",\n".join(fields) + "\n}\n"


def to_csv(records: dict[str, Any], view: View) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(view.chosen or view.columns)
    for layer in records["layers"]:
        writer.writerow([cell(k, lookup(layer, k)).replace(",", "") if k not in LISTS else cell(k, layer[k])
                         for k in view.columns])
    return out.getvalue()


def to_markdown(records: dict[str, Any], view: View) -> str:
    lines = ["| " + " | ".join(HEADERS[k] for k in view.columns) + " |",
             "|" + "|".join("---" if k in TEXT_COLUMNS else "---:" for k in view.columns) + "|"]
    for layer in records["layers"]:
        lines.append("| " + " | ".join(cell(k, lookup(layer, k)) for k in view.columns) + " |")
    notes = FOOTERS[view.footer](records)
    if notes:
        lines.append("")
        lines += [f"- {label}: {text}" for label, text in notes]
    return "\n".join(lines) + "\n"


def rf_footer(records: Mapping[str, Any]) -> list[tuple[str, str]]:
    named = records.get("output_layer")  # the spec's (first) output, which need not be the last layer
    output = next((r for r in records["layers"] if r["name"] == named), records["layers"][-1])
    rf = output["rf"]
    if rf is not None and rf.get("prefix"):
        return [("Output layer", f"{output['name']}: global, causal: each position reads the whole prefix "
                                 "(the last position, the whole input)")]
    if rf is None or rf["global"]:
        return [("Output layer", f"{output['name']}: its field is the whole input (global)")]
    k, s, p = (cell("", rf[key]) for key in ("size", "jump", "padding"))
    return [("Output layer", f"{output['name']}: field {k}, jump {s}, effective padding {p}"),
            ("Equivalent convolution", f"k={k} s={s} p={p}")]


def regions_footer(records: Mapping[str, Any]) -> list[tuple[str, str]]:
    note = [("Layer", records["note"])] if records.get("note") else []
    return note + [("Window", f"{records['size']} unit(s) of {records['layer']}; regions in units of each layer's "
                              "output, not clipped to the map")]


def diff_footer(records: Mapping[str, Any]) -> list[tuple[str, str]]:
    lines = [("Output", f"{records['output']['old']} → {records['output']['new']}"),
             ("Output receptive field", f"{records['output_rf']['old']} → {records['output_rf']['new']}")]
    for key, t in records["totals"].items():
        share = f" ({t['change'] / t['old']:+.2%})" if t["old"] else ""
        label = {"macs": "MACs", "flops": "FLOPs"}.get(key, key.replace("_", " ").capitalize())
        lines.append((label, f"{t['old']:,} → {t['new']:,} ({t['change']:+,}){share}"))
    return lines


def torchinfo_footer(records: Mapping[str, Any]) -> list[tuple[str, str]]:
    """torchinfo's lines by its rules (--memory torchinfo), under netcalc's own."""
    if "torchinfo" not in records:
        return []
    from netcalc.core.torchinfo import torchinfo_lines

    return [(f"torchinfo: {label}", text) for label, text in torchinfo_lines(records["torchinfo"])]


FOOTERS: dict[str, Callable[[Mapping[str, Any]], list[tuple[str, str]]]] = {
    "diff": diff_footer,
    "none": lambda records: [],
    "totals": lambda records: totals_footer(records) + torchinfo_footer(records),
    "rf": rf_footer,
    "regions": regions_footer,
}


def title(records: Mapping[str, Any]) -> str:
    inputs, target = records.get("input"), records.get("layer")
    typed = {k: f":{v}" for k, v in records.get("input_dtypes", {}).items()}
    subject = ", ".join(f"{k} {cell('shape', v)}{typed.get(k, '')}" for k, v in inputs.items()) if inputs else \
        (f"back from {target}" if target else "")
    return f"{records['name']}: {subject}" if subject else records["name"]


def table_grid(records: dict[str, Any], view: View) -> Grid:
    """The records as the text table's cells, a column at a time."""
    layers = records["layers"]
    columns = [[cell(k, lookup(layer, k)) for layer in layers] for k in view.columns]
    if "name" in view.columns and any(layer.get("depth") for layer in layers):  # a block's rows sit under it
        at = view.columns.index("name")
        columns[at] = ["  " * layer.get("depth", 0) + name for layer, name in zip(layers, columns[at], strict=True)]
    return Grid(title(records), [HEADERS[k] for k in view.columns], [k not in TEXT_COLUMNS for k in view.columns],
                columns, FOOTERS[view.footer](records), elsewhere="--format csv or a wider terminal")


def to_table(records: dict[str, Any], view: View) -> str:
    """The table at its natural width, as piped."""
    return "".join(line + "\n" for line in table.lines(table_grid(records, view)))


def to_plain(records: dict[str, Any], view: View) -> str:
    """The table without borders or colour, ASCII where the records are: for logs, `diff`
    and `grep`."""
    terminal = table.Terminal(box=table.PLAIN)
    return "".join(line.rstrip() + "\n" for line in table.lines(table_grid(records, view), terminal))


def emit(fmt: str, records: dict[str, Any], view: View) -> None:
    if fmt == "table":  # streamed, and fitted to the terminal when there is one
        table.write(table.lines(table_grid(records, view), table.stdout_terminal()))
    else:
        from . import renderer

        sys.stdout.write(renderer("records", fmt)(records, view))


def zoo_table(specs: Mapping[str, Path]) -> None:
    from netcalc.core.api import analyze

    rows = []
    for name in specs:
        report = analyze(name)
        if not report.ok:
            rows.append((name, "?", "invalid", "", "", ""))
            continue
        rec = report.as_records()
        t = rec["totals"]
        rows.append((name, ", ".join(cell("shape", v) for v in rec["input"].values()), cell("shape", rec["output"]),
                     cell("", t["layers"]), cell("", t["params"]), human(t["macs"])))
    headers = ("Name", "Input", "Output", "Layers", "Params", "MACs")
    grid = Grid("Built-in specs", headers, [h not in ("Name", "Input", "Output") for h in headers],
                [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in headers])
    table.write(table.lines(grid, table.stdout_terminal()))
