"""`graph`: a picture of the network."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..options import AllowUnknown, Depth, Inputs, Spec
from ..render import names
from ._report import fail, load, write

ANNOTATIONS = ("shape", "params", "macs", "rf")


def graph(
    spec: Spec,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="A file; its extension picks the format.")
    ] = None,
    format: Annotated[str | None, typer.Option("--format", "-f", help=", ".join(names("graph")))] = None,
    depth: Depth = None,
    annotate: Annotated[
        str, typer.Option(help="Figures on each node: shape, params, macs, rf (comma separated).")
    ] = "shape",
    input: Inputs = None,
    allow_unknown: AllowUnknown = False,
) -> None:
    """Draw the network: a node per layer (or block at --depth), clusters for blocks.

    Example: netcalc graph resnet18 -o resnet18.svg, or netcalc graph unet --format mermaid
    """
    from netcalc.core.api import findings, source_text
    from netcalc.core.config import ConfigError, find_config
    from netcalc.core.graph_view import build_view

    from ..render import GRAPH_SUFFIXES, renderer
    from ..render.graph import GraphvizMissing

    if output is not None and output.is_dir():
        fail(f"-o {output}: is a directory; name the file to write (graph.svg)")
    chosen = format or (GRAPH_SUFFIXES.get(output.suffix.lower(), "") if output else "dot")
    if not chosen and output is not None:
        fail(f"-o {output}: no format for the suffix '{output.suffix}' (one of {', '.join(GRAPH_SUFFIXES)}; "
             f"or --format {'|'.join(names('graph'))})")
    if chosen not in names("graph"):
        fail(f"unknown format '{format}' ({', '.join(names('graph'))})")
    figures = tuple(a.strip() for a in annotate.split(",") if a.strip())
    if not set(figures) <= set(ANNOTATIONS):
        fail(f"--annotate takes {', '.join(ANNOTATIONS)}")
    report = load(spec, input, allow_unknown)
    try:  # the findings `check` reports, under the same configuration
        found = findings(report, source_text(spec), {}, find_config(Path.cwd()))
    except ConfigError as exc:
        fail(str(exc.diagnostic))
    view = build_view(report, depth, found)
    for note in view.notes:
        typer.echo(f"note: {note}", err=True)
    records = {r["name"]: r for r in report.as_records(depth=view.depth)["layers"]}
    context = {"name": report.graph.name, "records": records, "annotate": figures,
               "blocks": {b.name: b.block for b in report.graph.blocks}}
    try:
        drawn = renderer("graph", chosen)(view, context)
    except GraphvizMissing as exc:
        fail(str(exc))
    write(drawn, output)
