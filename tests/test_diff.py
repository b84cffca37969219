"""`netcalc diff`: what a change to a spec does, layer by layer and in total."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.core.api import analyze_source
from netcalc.core.diff import diff

OLD = ("input 2x7x7\nconv out=4 k=3 p=1 name=conv1\nconv out=8 k=3 p=1 d=3 name=conv2\n"
       "convT out=16 k=3 s=2 p=1 name=conv3\n")
NEW = OLD.replace("p=1 d=3", "p=2 d=3") + "relu name=act\n"


def test_changes_are_listed_layer_by_layer_and_in_total() -> None:
    records = diff(analyze_source(OLD, "old.net"), analyze_source(NEW, "new.net"))
    rows = {r["name"]: r for r in records["layers"]}
    assert set(rows) == {"conv2", "conv3", "act"}  # conv1 is unchanged
    assert rows["conv2"]["shape"] == "8x3x3 → 8x5x5"
    assert rows["conv2"]["macs"] == 8 * 25 * 4 * 9 - 8 * 9 * 4 * 9
    assert rows["act"]["status"] == "added"
    assert records["output"] == {"old": "16x5x5", "new": "16x9x9"}
    assert records["totals"]["params"]["change"] == 0


def test_markdown_for_a_pull_request(tmp_path: Path) -> None:
    (tmp_path / "old.net").write_text(OLD)
    (tmp_path / "new.net").write_text(NEW)
    runner = CliRunner()
    result = runner.invoke(app, ["diff", str(tmp_path / "old.net"), str(tmp_path / "new.net"), "-f", "markdown"])
    assert result.exit_code == 0
    assert "| conv2 | changed | conv | 8x3x3 → 8x5x5 | 0 | 4,608 | 9 |" in result.stdout
    assert "- MACs: 16,488 → 39,528 (+23,040) (+139.74%)" in result.stdout
    doc = json.loads(runner.invoke(app, ["diff", "resnet18", "resnet34", "-f", "json"]).stdout)
    assert doc["totals"]["params"] == {"old": 11_689_512, "new": 21_797_672, "change": 10_108_160}


def test_diff_shows_sharing_freezing_and_the_trainable_total() -> None:
    from netcalc.core.diff import diff

    from helpers import text_spec

    old = text_spec("input 8\nlinear out=8 name=a\nlinear out=8 name=b\n")
    new = text_spec("input 8\nlinear out=8 name=a trainable=false\nlinear out=8 share=a name=b\n")
    result = diff(old, new)
    assert [(row["name"], row["type"], row["params"]) for row in result["layers"]] == [
        ("a", "linear → linear (frozen)", 0), ("b", "linear → linear (shares a) (frozen)", -72)]
    assert result["totals"]["trainable_params"] == {"old": 144, "new": 0, "change": -144}
