"""The README and docs/ tell the truth: the conventions table is the op table's, every
console example prints what netcalc prints, every link leads to a page, and the README's
first commands are the ones CI runs."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.core.ops import OPS
from netcalc.core.ops.registry import conventions_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# a console block: `$ netcalc ...` lines, each followed by what it prints
CONSOLE = re.compile(r"```console\n(.*?)```", re.S)


def examples() -> list[tuple[str, str, str]]:
    """(page, command, printed output) for every command a page shows with its output."""
    found = []
    for page in PAGES:
        for block in CONSOLE.findall(page.read_text()):
            for command in re.split(r"^\$ ", block, flags=re.M)[1:]:
                line, _, printed = command.partition("\n")
                if printed:
                    found.append((page.name, line, printed))
    return found


@pytest.mark.parametrize("page, command, printed", examples(), ids=lambda v: v if " " not in v else None)
def test_console_examples_print_what_netcalc_prints(page: str, command: str, printed: str) -> None:
    args = shlex.split(command)
    assert args[0] == "netcalc"
    result = CliRunner().invoke(app, args[1:])
    assert result.exit_code == 0
    assert result.stdout == printed


def test_every_page_has_a_console_example_or_none_is_needed() -> None:
    assert len(examples()) >= 3


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_lead_to_pages(page: Path) -> None:
    for target in re.findall(r"\]\(([^)#:]+)\)", page.read_text()):
        assert (page.parent / target).exists(), f"{page.name} links to {target}"


def test_conventions_table_is_generated_from_the_op_table() -> None:
    assert conventions_table(OPS) in (ROOT / "docs" / "conventions.md").read_text()


def test_ci_runs_the_readme_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install ".[test]" && pytest' in README
    assert "python3 -m venv" in ci  # a new environment on every run: new releases break CI when they break users
    assert 'pip install --quiet ".[test,lint]" torch==2.13.0' in ci and ci.rstrip().endswith("pytest")
    assert 'pip install ".[lint]"' in README
