"""Output formats, one registry for every command: the formats of each kind of output, and
the function that renders each (its module is imported only when it is used).

- `records`: the per-layer documents of the report commands, `rf`, `map`, `conv`, `diff`;
- `findings`: what `check` found;
- `graph`: a picture of the network (`graph`), also chosen by the output file's suffix.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

REGISTRY: dict[str, dict[str, str]] = {
    "records": {"table": "formats.to_table", "plain": "formats.to_plain", "json": "formats.to_json",
                "csv": "formats.to_csv", "markdown": "formats.to_markdown"},
    "findings": {"plain": "diagnostics.to_plain", "human": "diagnostics.to_human", "json": "diagnostics.to_json",
                 "github": "diagnostics.to_github", "sarif": "diagnostics.to_sarif"},
    "graph": {"dot": "graph.to_dot", "mermaid": "graph.to_mermaid", "svg": "graph.to_svg", "html": "graph.to_html"},
}
GRAPH_SUFFIXES = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".svg": "svg",
                  ".html": "html", ".htm": "html"}


def names(kind: str) -> tuple[str, ...]:
    return tuple(REGISTRY[kind])


def problem(kind: str, name: str) -> str | None:
    """Why `name` is no format of `kind`, or None."""
    if name in REGISTRY[kind]:
        return None
    return f"unknown format '{name}' ({', '.join(REGISTRY[kind])})"


def renderer(kind: str, name: str) -> Callable[..., Any]:
    module, _, function = REGISTRY[kind][name].partition(".")
    return getattr(importlib.import_module(f"{__name__}.{module}"), function)
