"""The README tells the truth: its conventions table is the op table's, its example output
is what netcalc prints, and its first commands are the ones CI runs."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.core.ops import OPS
from netcalc.core.ops.registry import conventions_table

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_conventions_table_is_generated_from_the_op_table() -> None:
    assert conventions_table(OPS) in README


def test_example_output_is_current() -> None:
    output = CliRunner().invoke(app, ["summary", "seed_deconv", "--format", "markdown"]).stdout
    table = output.split("\n\n")[0]
    assert table in README


def test_ci_runs_the_readme_commands() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install ".[test]" && pytest' in README
    assert 'python3 -m venv' in ci  # a new environment on every run: new releases break CI when they break users
    assert 'pip install --quiet ".[test,lint]" torch==2.13.0' in ci and ci.rstrip().endswith("pytest")
    assert 'pip install ".[lint]"' in README
