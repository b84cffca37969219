"""Configuration of `netcalc check`, like ruff's and yamllint's: `.netcalc.yaml`, or
`[tool.netcalc]` in pyproject.toml (read with Python 3.11's tomllib), in the current folder
or the nearest parent that has one.

    disable: [stride-drops-input]           # rules not reported
    severity: {linear-on-spatial: error}    # default severities changed
    max_params: 30M                         # default budgets: a spec's check section and
    min_rf: 224                             # the command line win over them

On a layer line, `# netcalc: disable=ID[,ID]` silences those rules for that layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .diagnostics import Severity, Span, did_you_mean
from .parse.common import CHECK_KEYS

INLINE = re.compile(r"#\s*netcalc:\s*disable=([\w,-]+)")


@dataclass(frozen=True, slots=True)
class Config:
    disable: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    budgets: Mapping[str, tuple[Any, Span]] = field(default_factory=dict)
    file: str | None = None


def find_config(start: Path) -> Config:
    """The configuration that applies in `start`; raises ValueError for an invalid one."""
    for folder in (start, *start.parents):
        own = folder / ".netcalc.yaml"
        if own.is_file():
            import yaml

            try:
                return read_config(yaml.safe_load(own.read_text()) or {}, str(own))
            except yaml.YAMLError as exc:
                raise ValueError(f"{own}: {exc}") from None
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            section = _tool_section(pyproject)
            if section is not None:
                return read_config(section, str(pyproject))
    return Config()


def _tool_section(pyproject: Path) -> dict[str, Any] | None:
    try:
        import tomllib
    except ImportError:  # Python 3.10: no TOML reader in the standard library
        return None
    try:
        return tomllib.loads(pyproject.read_text()).get("tool", {}).get("netcalc")
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{pyproject}: {exc}") from None


def read_config(data: Mapping[str, Any], file: str) -> Config:
    from .checks import RULES

    where = Span(file, 1, 1)
    known = ("disable", "severity", *CHECK_KEYS)
    if not isinstance(data, Mapping):
        raise ValueError(f"{file}: expected a mapping of settings (disable, severity, budgets)")
    for key in data:
        if key not in known:
            raise ValueError(f"{file}: unknown key '{key}'" + _hint(key, known))
    listed, levels = data.get("disable", []), data.get("severity", {})
    if not isinstance(listed, list) or not all(isinstance(rule, str) for rule in listed):
        raise ValueError(f"{file}: disable must be a list of rule ids, like [stride-drops-input]")
    if not isinstance(levels, Mapping):
        raise ValueError(f"{file}: severity must map rule ids to error or warning")
    disable = frozenset(listed)
    severity = {}
    for rule, level in levels.items():
        if level not in ("error", "warning"):
            raise ValueError(f"{file}: severity of '{rule}' must be error or warning, not {level!r}")
        severity[rule] = Severity(level)
    for rule in disable | set(severity):
        if rule not in RULES:
            raise ValueError(f"{file}: no rule '{rule}'" + _hint(rule, list(RULES)))
    try:
        budgets = {key: (CHECK_KEYS[key](data[key]), where) for key in CHECK_KEYS if key in data}
    except ValueError as exc:
        raise ValueError(f"{file}: {exc}") from None
    return Config(disable, severity, budgets, file)


def _hint(word: str, choices: Any) -> str:
    hint = did_you_mean(word, list(choices))
    return f"; {hint}" if hint else ""


def inline_disables(source: str) -> dict[int, set[str]]:
    """Line number -> rule ids silenced there by `# netcalc: disable=ID`."""
    found = {}
    for number, line in enumerate(source.splitlines(), start=1):
        match = INLINE.search(line)
        if match:
            found[number] = set(match.group(1).split(","))
    return found
