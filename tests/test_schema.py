"""`netcalc schema`: every built-in spec, in YAML, validates; mistakes do not."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.core.api import builtin_specs, load, parse
from netcalc.core.convert import to_yaml

jsonschema = pytest.importorskip("jsonschema")
SCHEMA = json.loads(CliRunner().invoke(app, ["schema"]).stdout)


@pytest.mark.parametrize("name", sorted(builtin_specs()))
def test_builtin_specs_validate(name: str) -> None:
    source, file, stem = load(name)
    text = source if file.endswith((".yaml", ".yml")) else to_yaml(parse(source, file, stem)[0])
    jsonschema.validate(yaml.safe_load(text), SCHEMA)


MAPPING_FORMS = ("input: 3x32x32\nlayers:\n  - {conv: {out: 8, k: 3x3, p: [[1, 1], [1, 1]]}, name: a}\n"
                 "  - {maxpool: {k: 2, p: same}}\n")


def test_mapping_forms_validate() -> None:
    jsonschema.validate(yaml.safe_load(MAPPING_FORMS), SCHEMA)


@pytest.mark.parametrize("bad", [
    "input: 3x32x32\nlayers:\n  - {conv: {out: -1, k: 3}}\n",           # a negative channel count
    "input: 3x32x32\nlayers:\n  - {conv: {out: 8, kernal: 3}}\n",        # a misspelled argument
    "input: 3x32x32\nlayerz: [relu]\n",                                  # a misspelled key
    "input: 3x32x32\nlayers: [relu]\ncheck: {max_params: lots}\n",       # an unreadable budget
])
def test_mistakes_do_not_validate(bad: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(bad), SCHEMA)
