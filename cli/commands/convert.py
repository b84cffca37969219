"""`convert`: a spec from one syntax to the other."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..options import Spec
from ._report import load, write


class Syntax(str, Enum):
    yaml = "yaml"
    text = "text"


def convert(
    spec: Spec,
    to: Annotated[Syntax, typer.Option(help="The syntax to write.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="A file to write (default: stdout).")] = None,
) -> None:
    """Convert a spec between YAML and text: blocks, expressions, repeats and checks kept.

    Example: netcalc convert resnet18 --to text -o resnet18.net
    """
    from netcalc.core.api import document
    from netcalc.core.convert import WRITERS

    load(spec, None)  # a spec is converted only once it is valid: exit 2 with its errors otherwise
    write(WRITERS[to.value](document(spec)), output)
