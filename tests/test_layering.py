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
                                           ("ir.py", {"diagnostics", "dtypes"})])
def test_ids_diagnostics_and_ir_are_leaves(name: str, allowed: set[str]) -> None:
    relative = [module for module, level in imports(CORE / name) if level > 0]
    assert set(relative) <= allowed


def test_packages_in_pyproject_cover_every_folder() -> None:
    pyproject = (CORE.parent / "pyproject.toml").read_text()
    for init in sorted(CORE.parent.glob("*/**/__init__.py")):
        top = init.relative_to(CORE.parent).parent.parts
        if top[0] in ("core", "cli", "specs"):
            assert '"netcalc.' + ".".join(top) + '"' in pyproject, top


# Inside core, the order of the pipeline: a module imports only from its own layer or an
# earlier one (parse -> build -> ir/ops -> analysis -> report -> checks -> api -> python_api).
LAYERS = [
    {"ids", "dtypes"},
    {"diagnostics"},
    {"ir"},
    {"parse"},
    {"ops"},
    {"build"},
    {"analysis"},
    {"report"},
    {"checks", "config", "graph_view", "calculator", "convert", "diff", "export", "schema", "onnx",
     "torchinfo", "fold"},
    {"api"},
    {"python_api"},
]
LAYER_OF = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def part_of(path: Path) -> str:
    relative = path.relative_to(CORE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def imported_parts(path: Path) -> set[str]:
    """The parts of core a module imports (relative imports resolved against its package)."""
    depth = len(path.relative_to(CORE).parts) - 1  # 0 for core/x.py, 1 for core/parse/x.py
    parts = set()
    for module, level in imports(path):
        if level == 0 or level - 1 > depth:
            continue
        if level - 1 < depth:  # within its own package
            parts.add(part_of(path))
            continue
        head = module.split(".")[0] if module else ""
        if head:
            parts.add(head)
    return parts


@pytest.mark.parametrize("path", sorted(p for p in CORE.rglob("*.py") if p.stem != "__init__" or p.parent != CORE),
                         ids=lambda p: str(p.relative_to(CORE)))
def test_core_imports_follow_the_pipeline(path: Path) -> None:
    own = LAYER_OF[part_of(path)]
    for part in imported_parts(path) - {"specs"}:  # `from .. import specs` is the package's data
        assert part in LAYER_OF, f"{path.name} imports core.{part}, which has no layer"
        assert LAYER_OF[part] <= own, f"{path.relative_to(CORE)} (layer {own}) imports {part} (layer {LAYER_OF[part]})"


def test_the_pipeline_check_sees_relative_imports() -> None:
    assert {"build", "report", "parse", "analysis"} <= imported_parts(CORE / "api.py")
    assert imported_parts(CORE / "checks" / "linear_on_spatial.py") == {"diagnostics", "report"}
    assert imported_parts(CORE / "parse" / "text_spec.py") == {"diagnostics", "parse"}
