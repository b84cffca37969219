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
import sys
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

from .diagnostics import Diagnostic, Severity, Span, did_you_mean, error, finding
from .parse.common import CHECK_KEYS
from .parse.source import SourceError, decode

INLINE = re.compile(r"#\s*netcalc:\s*disable=([\w,-]+)")


@dataclass(frozen=True, slots=True)
class Config:
    disable: frozenset[str] = frozenset()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    budgets: Mapping[str, tuple[Any, Span]] = field(default_factory=dict)
    file: str | None = None


class ConfigError(ValueError):
    """An invalid configuration: `diagnostic` says where and why (id `invalid-config`)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


Locate = Callable[[str], Span]  # `key` or `key/item` -> where the file says it


def find_config(start: Path) -> Config:
    """The configuration that applies in `start`; raises ConfigError for an invalid one."""
    for folder in (start, *start.parents):
        own = folder / ".netcalc.yaml"
        if own.is_file():
            return _yaml_config(_read(own), str(own))
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            text = _read(pyproject)
            section = _tool_section(text, str(pyproject))
            if section is not None:
                return read_config(section, _toml_locator(text, str(pyproject)))
    return Config()


def _read(path: Path) -> str:
    try:
        return decode(path.read_bytes(), str(path))
    except SourceError as exc:
        raise ConfigError(replace(exc.diagnostic, id="invalid-config")) from None
    except OSError as exc:
        _fail(f"cannot read it: {exc.strerror or exc}", Span(str(path), 1, 1))


def _fail(message: str, at: Span, hint: str | None = None) -> NoReturn:
    raise ConfigError(error("invalid-config", message, at, hint))


def _yaml_config(text: str, file: str) -> Config:
    """Read once into nodes, which keep positions, then into values."""
    import yaml

    from .parse.yaml_compose import compose
    from .parse.yaml_spec import mark_span

    try:
        node = compose(text, yaml.SafeLoader)  # bounded: nesting, values, aliases
        data = {} if node is None else yaml.constructor.SafeConstructor().construct_document(node)
    except yaml.YAMLError as exc:
        _fail(f"not YAML: {getattr(exc, 'problem', None) or exc}", mark_span(file, getattr(exc, "problem_mark", None)))
    spans = {}
    for key, value in node.value if isinstance(node, yaml.MappingNode) else ():
        if str(key.value) in spans:
            _fail(f"'{key.value}' is given twice", mark_span(file, key.start_mark))
        spans[str(key.value)] = mark_span(file, key.start_mark)
        for item in _items(value):
            spans[f"{key.value}/{item.value}"] = mark_span(file, item.start_mark)
    return read_config(data, _locator(spans, file))


def _items(node: Any) -> list[Any]:
    """The keys of a mapping node or the entries of a sequence node: where rule ids stand."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        return [key for key, _ in node.value]
    return node.value if isinstance(node, yaml.SequenceNode) else []


def _tool_section(text: str, file: str) -> dict[str, Any] | None:
    if sys.version_info < (3, 11):  # no TOML reader in Python 3.10's standard library
        return None
    import tomllib

    try:
        return tomllib.loads(text).get("tool", {}).get("netcalc")
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+), column (\d+)", str(exc))
        _fail(f"not TOML: {exc}", Span(file, int(at[1]), int(at[2])) if at else Span(file, 1, 1))


def _toml_locator(text: str, file: str) -> Locate:
    """Where [tool.netcalc] (or its [tool.netcalc.severity] table) sets each key: tomllib keeps
    no positions, so the lines are read again; items are found on their key's line."""
    spans, table = {}, None
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"\s*\[\s*tool\.netcalc(?:\.(\w+))?\s*\]", line)
        if header or re.match(r"\s*\[", line):
            table = (header[1] or "") if header else None
            continue
        assignment = re.match(r"(\s*)\"?([\w-]+)\"?\s*=", line)
        if table is None or not assignment:
            continue
        key = f"{table}/{assignment[2]}" if table else assignment[2]
        spans[key] = Span(file, number, len(assignment[1]) + 1)
        for item in re.finditer(r"[\w-]+", line[assignment.end():]):
            spans.setdefault(f"{key}/{item[0]}", Span(file, number, assignment.end() + item.start() + 1))
    return _locator(spans, file)


def _locator(spans: Mapping[str, Span], file: str) -> Locate:
    """The span of `key/item`, else of `key`, else the file's first line."""
    return lambda key: spans.get(key) or spans.get(key.split("/")[0]) or Span(file, 1, 1)


def read_config(data: Mapping[str, Any], locate: Locate) -> Config:
    from .ids import RULES

    file = locate("").file
    known = ("disable", "severity", *CHECK_KEYS)
    if not isinstance(data, Mapping):
        _fail("expected a mapping of settings (disable, severity, budgets)", locate(""))
    for key in data:
        if key not in known:
            _fail(f"unknown key '{key}'", locate(key), did_you_mean(key, list(known)))
    listed, levels = data.get("disable", []), data.get("severity", {})
    if not isinstance(listed, list) or not all(isinstance(rule, str) for rule in listed):
        _fail("disable must be a list of rule ids, like [stride-drops-input]", locate("disable"))
    if not isinstance(levels, Mapping):
        _fail("severity must map rule ids to error or warning", locate("severity"))
    severity = {}
    for rule, level in levels.items():
        if level not in ("error", "warning"):
            _fail(f"severity of '{rule}' must be error or warning, not {level!r}", locate(f"severity/{rule}"))
        severity[rule] = Severity(level)
    for key, rules in (("disable", listed), ("severity", severity)):
        for rule in rules:
            if rule not in RULES:
                _fail(f"no rule '{rule}'", locate(f"{key}/{rule}"), did_you_mean(rule, list(RULES)))
    budgets = {}
    for key in CHECK_KEYS:
        if key in data:
            try:
                budgets[key] = (CHECK_KEYS[key](data[key]), locate(key))
            except ValueError as exc:
                _fail(str(exc), locate(key))
    return Config(frozenset(listed), severity, budgets, file)


def inline_disables(source: str) -> dict[int, tuple[set[str], int]]:
    """Line number -> (rule ids silenced there by `# netcalc: disable=ID`, the column of
    the `#`)."""
    found = {}
    for number, line in enumerate(source.splitlines(), start=1):
        match = INLINE.search(line)
        if match:
            found[number] = (set(match.group(1).split(",")), match.start() + 1)
    return found


def unknown_disables(
    silenced: Mapping[int, tuple[set[str], int]], rules: Collection[str], file: str
) -> list[Diagnostic]:
    """A warning for each id an inline disable names that is no rule: a typo silences nothing."""
    return [
        finding("unknown-rule", f"no rule '{rule_id}' to disable", Span(file, line, col),
                did_you_mean(rule_id, sorted(rules)))
        for line, (ids, col) in silenced.items() for rule_id in sorted(ids - set(rules))
    ]
