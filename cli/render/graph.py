"""The picture of a network: DOT, Mermaid, SVG (Graphviz's dot) and a self-contained HTML
page, from the core's graph view. One function per format in GRAPH_FORMATS."""

from __future__ import annotations

import html
import shutil
import subprocess
from typing import Any


class GraphvizMissing(Exception):
    pass


def _tree(view: Any) -> dict[tuple[str, ...], list[str]]:
    """Cluster path -> the nodes directly inside it (the top level is the empty path)."""
    members: dict[tuple[str, ...], list[str]] = {(): []}
    for row in view.rows:
        path = view.clusters.get(row.name, ())
        for i in range(1, len(path) + 1):
            members.setdefault(path[:i], [])
        members[path].append(row.name)
    return members


def _details(row: Any, record: dict[str, Any], findings: list[str]) -> str:
    rf = record["rf"]
    parts = [f"{row.name} ({row.type}{' ' + row.window if row.window else ''})", f"shape {row.shape}",
             f"params {row.cost.params:,}", f"MACs {row.cost.macs:,}", f"FLOPs {row.cost.flops:,}"]
    if rf:
        parts.append(f"rf {'x'.join(map(str, rf['size']))}, jump {'x'.join(map(str, rf['jump']))}"
                     + (", global" if rf["global"] else ""))
    parts += [f"finding: {f}" for f in findings]
    return "\n".join(parts)


def to_dot(view: Any, ctx: dict[str, Any]) -> str:
    from netcalc.core.graph_view import label_lines

    records, annotate, blocks = ctx["records"], ctx["annotate"], ctx["blocks"]

    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = [f"digraph {q(ctx['name'])} {{", "  rankdir=TB;",
             '  node [shape=box, style="rounded,filled", fillcolor="#f5f5f5", fontname="Helvetica", fontsize=10];',
             '  edge [color="#666666"];']
    for name, shape in view.inputs:
        lines.append(f'  {q(name)} [shape=ellipse, fillcolor="#dbeafe", label={q(name + chr(10) + shape)}, '
                     f'tooltip={q("input " + shape)}];')
    members = _tree(view)
    rows = {r.name: r for r in view.rows}

    def emit(path: tuple[str, ...], indent: str) -> None:
        for name in members.get(path, []):
            row = rows[name]
            attrs = [f"label={q(chr(10).join(label_lines(row, annotate, records[name]['rf'])))}",
                     f"tooltip={q(_details(row, records[name], view.flagged.get(name, [])))}"]
            if view.joins(row):
                attrs.append("shape=oval")
            if name in view.outputs:
                attrs.append("peripheries=2")
            if name in view.flagged:
                attrs.append('color="#dc2626", penwidth=2')
            # one fill per node, the finding's red first: DOT keeps only the last one written
            fill = "#fee2e2" if name in view.flagged else "#dcfce7" if name in view.outputs else \
                "#fef3c7" if view.joins(row) else None
            if fill:
                attrs.append(f'fillcolor="{fill}"')
            lines.append(f"{indent}{q(name)} [{', '.join(attrs)}];")
        for child in (p for p in members if len(p) == len(path) + 1 and p[: len(path)] == path):
            lines.append(f"{indent}subgraph {q('cluster_' + child[-1])} {{")
            lines.append(f'{indent}  label={q(child[-1] + " (" + blocks.get(child[-1], "block") + ")")}; '
                         'style="rounded,dashed"; color="#9ca3af";')
            emit(child, indent + "  ")
            lines.append(f"{indent}}}")

    emit((), "  ")
    lines += [f"  {q(a)} -> {q(b)};" for a, b in view.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(view: Any, ctx: dict[str, Any]) -> str:
    from netcalc.core.graph_view import label_lines

    ids = {name: f"n{i}" for i, name in enumerate([n for n, _ in view.inputs] + [r.name for r in view.rows])}

    def text(lines: list[str]) -> str:
        return "<br/>".join(html.escape(line, quote=True).replace('"', "#quot;") for line in lines)

    out = ["flowchart TB"]
    for name, shape in view.inputs:
        out.append(f'  {ids[name]}(["{text([name, shape])}"])')
    members = _tree(view)
    rows = {r.name: r for r in view.rows}

    def emit(path: tuple[str, ...], indent: str) -> None:
        for name in members.get(path, []):
            row = rows[name]
            label = text(label_lines(row, ctx["annotate"], ctx["records"][name]["rf"]))
            node = f'(("{label}"))' if view.joins(row) else f'["{label}"]'
            out.append(f"{indent}{ids[name]}{node}")
            if name in view.flagged:
                out.append(f"{indent}class {ids[name]} finding")
            if name in view.outputs:
                out.append(f"{indent}class {ids[name]} output")
        for child in (p for p in members if len(p) == len(path) + 1 and p[: len(path)] == path):
            label = text([child[-1] + " (" + ctx["blocks"].get(child[-1], "block") + ")"])
            out.append(f'{indent}subgraph c_{len(out)} ["{label}"]')
            emit(child, indent + "  ")
            out.append(f"{indent}end")

    emit((), "  ")
    out += [f"  {ids[a]} --> {ids[b]}" for a, b in view.edges]
    out += ["  classDef finding stroke:#dc2626,stroke-width:2px,fill:#fee2e2",
            "  classDef output stroke:#16a34a,stroke-width:2px,fill:#dcfce7"]
    return "\n".join(out) + "\n"


def to_svg(view: Any, ctx: dict[str, Any]) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing("SVG and HTML need Graphviz's `dot` on the PATH: install Graphviz "
                              "(apt-get install graphviz, brew install graphviz), or use --format dot or mermaid")
    result = subprocess.run([dot, "-Tsvg"], input=to_dot(view, ctx), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise GraphvizMissing(f"dot failed: {result.stderr.strip()}")
    return result.stdout


def to_html(view: Any, ctx: dict[str, Any]) -> str:
    svg = to_svg(view, ctx)
    svg = svg[svg.index("<svg"):]  # drop the XML prologue and doctype: inline in the page
    header = "".join(f"<th>{h}</th>" for h in ("Layer", "Type", "Output shape", "Params", "MACs", "RF"))
    body = []
    for row in view.rows:
        rf = ctx["records"][row.name]["rf"]
        size = "x".join(map(str, rf["size"])) if rf else "-"
        body.append(f"<tr><td>{html.escape(row.name)}</td><td>{html.escape(row.type)}</td><td>{row.shape}</td>"
                    f"<td>{row.cost.params:,}</td><td>{row.cost.macs:,}</td><td>{size}</td></tr>")
    notes = "".join(f"<p class=note>{html.escape(n)}</p>" for n in view.notes)
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(ctx['name'])}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 1em; display: flex; gap: 2em; align-items: flex-start; }}
#picture {{ flex: 1 1 60%; overflow: auto; }} #summary {{ flex: 1 1 40%; font-size: 12px; }}
table {{ border-collapse: collapse; }} td, th {{ border-bottom: 1px solid #ddd; padding: 2px 6px; text-align: left; }}
.note {{ color: #92400e; }}
</style></head>
<body><div id="picture">{svg}</div>
<div id="summary"><h2>{html.escape(ctx['name'])}</h2>{notes}
<table><thead><tr>{header}</tr></thead><tbody>{''.join(body)}</tbody></table></div></body></html>
"""


