"""A JSON Schema of the YAML spec format, for editors' validation and completion
(`netcalc schema`). Generated from the op table, so every layer type and argument is in
it. Any value may also be a `$` expression inside a block; layer lines (strings) are
checked by netcalc itself, not by the schema."""

from __future__ import annotations

from typing import Any

from .dtypes import TENSOR_BYTES
from .ops import LOOKUP
from .parse.common import CHECK_KEYS

EXPRESSION = {"type": "string", "pattern": r"\$"}
SHAPE = {"anyOf": [{"type": "string", "pattern": r"^\d[\d_]*(x\d[\d_]*){0,3}$"},
                   {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "maxItems": 4},
                   {"type": "integer", "minimum": 1}]}
COUNT = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": r"^\d[\d_]*(\.\d+)?\s*[KMGkmg]?$"}]}
_DTYPES = "|".join(TENSOR_BYTES)
INPUT = {"anyOf": [*SHAPE["anyOf"], {"type": "string", "pattern": rf"^\d[\d_]*(x\d[\d_]*){{0,3}}:({_DTYPES})$"}]}
NAMES = {"anyOf": [{"type": ["string", "integer"]}, {"type": "array", "items": {"type": ["string", "integer"]}}]}


def _arguments(name: str) -> dict[str, Any]:
    opdef = LOOKUP[name]
    properties = {}
    for key, attr in opdef.attrs.items():
        for spelling in (key, *attr.aliases):
            properties[spelling] = {"anyOf": [dict(attr.kind.schema), EXPRESSION], "description": attr.kind.expected}
    return {"type": ["object", "null"], "properties": properties, "additionalProperties": False,
            "description": opdef.doc}


def spec_schema() -> dict[str, Any]:
    reserved = {"name": {"type": ["string", "integer"]}, "from": NAMES,
                "repeat": {"anyOf": [{"type": "integer", "minimum": 1}, EXPRESSION]},
                "if": {"anyOf": [{"type": "boolean"}, EXPRESSION]}, "share": {"type": "string"},
                "trainable": {"anyOf": [{"type": "boolean"}, EXPRESSION]}}
    entry = {"anyOf": [
        {"type": "string", "description": "a layer line, TYPE key=value ..., or a bare type"},
        {"type": "object", "minProperties": 1,
         "properties": {**reserved, **{name: _arguments(name) for name in sorted(LOOKUP)}},
         "additionalProperties": {"type": ["object", "null"], "description": "a block, used like a layer type"}},
    ]}
    layers = {"type": "array", "items": entry}
    block = {"anyOf": [layers, {"type": "object", "additionalProperties": False, "properties": {
        "args": {"type": ["object", "null"]},
        "inputs": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "layers": layers}}]}
    outputs = {"anyOf": [SHAPE, {"type": "array", "items": SHAPE, "minItems": 1}]}  # one shape, or one per output
    checks = {key: (outputs if key == "output" else COUNT) for key in CHECK_KEYS}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "netcalc architecture spec (v2)",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string"},
            "input": {"anyOf": [INPUT, {"type": "object", "additionalProperties": INPUT}]},
            "output": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
            "blocks": {"type": "object", "additionalProperties": block},
            "layers": layers,
            "check": {"type": "object", "additionalProperties": False, "properties": checks},
        },
    }
