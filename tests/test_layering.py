"""One direction of dependency: core never imports the command line, typer or rich;
inside core, `ids`, `diagnostics` and `ir` import nothing else of core but each other, in
that order."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parent.parent / "core"
FORBIDDEN = ("typer", "rich", "netcalc.cli", "click")


def imports(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_does_not_import_the_command_line(path: Path) -> None:
    for module, level in imports(path):
        assert level > 0 or not module.startswith(FORBIDDEN), f"{path.name} imports {module}"
        assert not (level >= 1 and module.startswith("cli")), f"{path.name} imports {module}"


@pytest.mark.parametrize("name, allowed", [("ids.py", set()), ("diagnostics.py", {"ids"}),
                                           ("ir.py", {"diagnostics"})])
def test_ids_diagnostics_and_ir_are_leaves(name: str, allowed: set[str]) -> None:
    relative = [module for module, level in imports(CORE / name) if level > 0]
    assert set(relative) <= allowed


def test_packages_in_pyproject_cover_every_folder() -> None:
    pyproject = (CORE.parent / "pyproject.toml").read_text()
    for init in sorted(CORE.parent.glob("*/**/__init__.py")):
        top = init.relative_to(CORE.parent).parent.parts
        if top[0] in ("core", "cli", "specs"):
            assert '"netcalc.' + ".".join(top) + '"' in pyproject, top
