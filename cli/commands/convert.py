"""`convert`: a spec from one syntax to the other; `import`: an ONNX model as a spec."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ..options import AllowUnknown, Inputs, Spec
from ._report import fail, load, write


class Syntax(str, Enum):
    yaml = "yaml"
    text = "text"


def convert(
    spec: Spec,
    to: Annotated[Syntax, typer.Option(help="The syntax to write.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="A file to write (default: stdout).")] = None,
    input: Inputs = None,
    allow_unknown: AllowUnknown = False,
) -> None:
    """Convert a spec between YAML and text: blocks, expressions, repeats and checks kept.

    Example: netcalc convert resnet18 --to text -o resnet18.net
    """
    from netcalc.core.api import document
    from netcalc.core.convert import WRITERS

    load(spec, input, allow_unknown)  # a spec is converted only once it is valid: exit 2 with its errors otherwise
    write(WRITERS[to.value](document(spec, input or (), allow_unknown)), output)


def import_(
    model: Spec,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="A file to write (default: stdout).")] = None,
    to: Annotated[Syntax | None, typer.Option(help="The syntax to write (default: by the suffix of -o, else yaml).")]
    = None,
    input: Inputs = None,
    allow_unknown: AllowUnknown = False,
) -> None:
    """Write an ONNX model as a spec: one layer per node, named by its module path, modules
    as blocks (identical ones shared, chains of them repeated).

    Example: netcalc import resnet18.onnx -o resnet18.yaml
    """
    from netcalc.core.api import document, is_onnx
    from netcalc.core.convert import WRITERS

    if not is_onnx(model):
        fail(f"'{model}' is not an .onnx file (`netcalc convert` converts a spec between syntaxes)")
    load(model, input, allow_unknown)  # a model is imported only once it reads: exit 2 with its errors otherwise
    syntax = to.value if to is not None else "text" if output is not None and output.suffix == ".net" else "yaml"
    write(WRITERS[syntax](document(model, input or (), allow_unknown)), output)
