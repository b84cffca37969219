"""`schema`: the JSON Schema of the YAML spec format."""

from __future__ import annotations

import json

import typer


def schema() -> None:
    """Print a JSON Schema of the YAML spec format, for editors' validation and completion.

    Example: netcalc schema > netcalc.schema.json
    """
    from netcalc.core.schema import spec_schema

    typer.echo(json.dumps(spec_schema(), indent=2))
