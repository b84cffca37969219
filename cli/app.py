"""The `netcalc` command. Commands import the core and rich only when they run, so that
`netcalc --help` costs little more than importing typer."""

from __future__ import annotations

import gc

import typer

from .commands import check, conv, convert, diff, export, graph, map, report, rf, schema, zoo

app = typer.Typer(
    name="netcalc",
    help="Inspect a neural-network architecture from a spec file: shapes, parameters, MACs/FLOPs, memory.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help: rich's help renderer alone costs more than typer
)
for command in (report.shapes, report.params, report.flops, report.summary, rf.rf, map.map, conv.conv, check.check, check.explain, convert.convert, diff.diff, export.export, graph.graph, schema.schema, zoo.zoo):
    app.command()(command)


def main() -> None:
    # A run is short and builds one large, acyclic object graph: the cyclic collector would
    # only traverse it again and again (a third of the time on 100,000 layers).
    gc.disable()
    app()
