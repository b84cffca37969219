"""The picture's content for `netcalc graph`: nodes (layers, or block instances folded at a
depth), the edges between them, the block clusters, and the layers a finding names. Large
graphs fold to the deepest depth that keeps at most NODE_LIMIT nodes; a graph flat beyond
that keeps its first and last layers around an elision node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .diagnostics import Diagnostic
from .ops import LOOKUP
from .report import Report, Row

NODE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class View:
    rows: list[Row]
    edges: list[tuple[str, str]]
    inputs: list[tuple[str, str]]  # (name, shape)
    outputs: tuple[str, ...]  # the rows holding the network's outputs
    clusters: dict[str, tuple[str, ...]]  # row name -> the block instances around it, outermost first
    flagged: dict[str, list[str]]  # row name -> the finding ids on it
    depth: int | None
    elided: int = 0
    notes: list[str] = field(default_factory=list)

    def joins(self, row: Row) -> bool:
        """Is the node a merge of branches (drawn as a junction)? Folded blocks never are."""
        op = LOOKUP.get(row.type)
        return op is not None and op.merges


def build_view(report: Report, depth: int | None, findings: list[Diagnostic]) -> View:
    notes = []
    if depth is None and len(report.graph.layers) > NODE_LIMIT:
        depth = _fitting_depth(report)
        notes.append(f"{len(report.graph.layers):,} layers: folded to depth {depth} to stay under {NODE_LIMIT} nodes")
    rows = report.rows(depth)
    owner = _owners(report, depth)
    edges: dict[tuple[str, str], None] = {}
    for layer in report.graph.layers:
        for source in layer.inputs:
            edge = (owner.get(source, source), owner[layer.name])
            if edge[0] != edge[1]:
                edges[edge] = None
    elided = 0
    if len(rows) > NODE_LIMIT:
        keep = {r.name for r in rows[: NODE_LIMIT // 2] + rows[-(NODE_LIMIT // 2 - 1):]}
        elided = len(rows) - len(keep)
        rows = [r for r in rows if r.name in keep]
        notes.append(f"{elided:,} top-level layers not drawn between the first and the last ones")
    drawn = {r.name for r in rows} | {i.name for i in report.graph.inputs}
    kept_edges = [e for e in edges if e[0] in drawn and e[1] in drawn]
    clusters = {}
    for layer in report.graph.layers:
        name = owner[layer.name]
        path = layer.block_path if depth is None else layer.block_path[: max(depth - 1, 0)]
        clusters[name] = tuple(p for p in path if p != name)
    spans: dict[tuple[int, int], list[str]] = {}
    for layer in report.graph.layers:
        spans.setdefault((layer.span.line, layer.span.col), []).append(owner[layer.name])
    flagged: dict[str, list[str]] = {}
    for d in findings:
        for name in spans.get((d.span.line, d.span.col), []):
            flagged.setdefault(name, []).append(d.id)
    inputs = [(i.name, str(i.shape)) for i in report.graph.inputs]
    outputs = tuple(owner.get(name, "") for name in report.graph.outputs)
    return View(rows, kept_edges, inputs, outputs, clusters, flagged, depth, elided, notes)


def _owners(report: Report, depth: int | None) -> dict[str, str]:
    """Layer name -> the node it is drawn in."""
    if depth is None:
        return {layer.name: layer.name for layer in report.graph.layers}
    return {
        layer.name: (layer.name if len(layer.block_path) < depth else layer.block_path[depth - 1])
        for layer in report.graph.layers
    }


def _fitting_depth(report: Report) -> int:
    deepest = max((len(layer.block_path) for layer in report.graph.layers), default=0)
    for depth in range(deepest, 0, -1):
        if len(_nodes_at(report, depth)) <= NODE_LIMIT:
            return depth
    return 1


def _nodes_at(report: Report, depth: int) -> set[str]:
    return set(_owners(report, depth).values())


def label_lines(row: Row, annotate: tuple[str, ...], record: dict[str, Any]) -> list[str]:
    """What a node says: name, type and key arguments, then the figures asked for."""
    shares = f"shares {row.shares}" if row.shares else ""  # one module drawn twice: say whose
    lines = [row.name, " ".join(part for part in (row.type, row.window, shares) if part)]
    figures = {
        "shape": str(row.shape),
        "params": f"{row.cost.params:,} params",
        "macs": f"{row.cost.macs:,} MACs",
        # a flat input has no axis to have a field on
        "rf": f"rf {record['size'][0]} j {record['jump'][0]}" if record and record["size"] else "",
    }
    lines += [figures[key] for key in annotate if figures.get(key)]
    return lines
