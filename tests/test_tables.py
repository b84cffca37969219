"""The `table` format: piped, the natural width; in a narrow terminal, columns left out and
names folded, never a number or a name cut (no `…`); the same cells as markdown."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.cli.render.table import Grid, Terminal, fit, fold, lines
from netcalc.core.api import analyze, builtin_specs

GOLDEN = Path(__file__).resolve().parent / "golden"
runner = CliRunner()
# rich's switches, unset so that the run is piped whatever the environment of the tests
PIPED = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "NO_COLOR": None, "COLUMNS": None}


def netcalc(*args: str, **env: str | None) -> str:
    result = runner.invoke(app, list(args), env={**PIPED, **env})
    assert result.exit_code == 0, result.output
    return result.stdout


def terminal(columns: int) -> dict[str, str]:
    """A terminal `columns` wide, without styles (NO_COLOR), as rich reads the environment."""
    return {"TTY_COMPATIBLE": "1", "NO_COLOR": "1", "COLUMNS": str(columns)}


def body(text: str) -> list[list[str]]:
    """The table's body rows, cells stripped (depth indentation and padding)."""
    rows = [line for line in text.splitlines() if line.startswith("│")]
    return [[c.strip() for c in row.split("│")[1:-1]] for row in rows]


def header(text: str) -> list[str]:
    row = next(line for line in text.splitlines() if line.startswith("┃"))
    return [c.strip() for c in row.split("┃")[1:-1]]


def reference(*args: str) -> tuple[list[str], list[list[str]]]:
    """The header and the rows of the plain format, the same rows as the table's (the
    tree's container rows too): the reference cells, cut where its rule of dashes is."""
    lines = netcalc(*args, "--format", "plain").splitlines()
    rule = next(i for i, line in enumerate(lines) if line.lstrip().startswith("---"))
    spans = [m.span() for m in re.finditer(r"-+", lines[rule])]
    rows = [lines[rule - 1]] + list(itertools.takewhile(lambda line: line.startswith(" "), lines[rule + 1:]))
    cells = [[line[start:end + 1].strip() if i else line[:end + 1].strip() for i, (start, end) in enumerate(spans)]
             for line in rows]
    return cells[0], cells[1:]


GOLDEN_CASES = {
    "summary_seed_deconv.txt": ("summary", "seed_deconv"),
    "rf_seed_rf.txt": ("rf", "seed_rf", "--format", "table"),
}


@pytest.mark.parametrize("golden", sorted(GOLDEN_CASES))
def test_golden_table(golden: str, update_golden: bool) -> None:
    out = netcalc(*GOLDEN_CASES[golden])
    if update_golden:
        (GOLDEN / golden).write_text(out, encoding="utf-8")
    assert out == (GOLDEN / golden).read_text(encoding="utf-8")


def test_piped_resnet50_summary_shows_every_cell_in_full() -> None:
    out = netcalc("summary", "resnet50")
    names = [layer["name"] for layer in json.loads(netcalc("summary", "resnet50", "-f", "json"))["layers"]]
    heads, rows = reference("summary", "resnet50")
    assert "…" not in out
    assert header(out) == heads and body(out) == rows
    blocks = {block.name for block in analyze("resnet50").graph.blocks}  # the tree's container rows
    assert [row[0] for row in body(out) if row[0] not in blocks] == names


@pytest.mark.parametrize("columns", ["40", "80", "200"])
def test_piped_output_ignores_columns(columns: str) -> None:
    assert netcalc("summary", "resnet50", COLUMNS=columns) == netcalc("summary", "resnet50")


@pytest.mark.parametrize("args", [
    ("summary", "resnet50"),
    ("summary", "tf-slim/resnet_v1_50", "--depth", "2"),
    ("shapes", "unet"),
    ("flops", "mobilenet_v2", "--batch", "8"),
    ("rf", "tf-slim/mobilenet_v1"),
    ("diff", "resnet18", "resnet34"),
])
@pytest.mark.parametrize("columns", [12, 30, 60, 100])
def test_a_narrow_terminal_leaves_out_columns_and_folds_names_but_cuts_nothing(args: tuple[str, ...],
                                                                                  columns: int) -> None:
    out = netcalc(*args, **terminal(columns))
    heads, rows = reference(*args)
    shown = header(out)
    kept = [heads.index(h) for h in shown]
    table = [line for line in out.splitlines() if line and line[0] in "┏┃┡│└"]
    assert "…" not in out and "\x1b" not in out
    assert all(len(line) <= max(columns, 4 + len("Layer")) for line in table)
    if len(shown) < len(heads):
        assert f"Left out to fit the terminal's {columns} columns: " + ", ".join(
            h for h in heads if h not in shown) in out
    # every kept column shows every cell whole; the first column's pieces join to the names
    cells = body(out)
    assert "".join(row[0] for row in cells) == "".join(row[0] for row in rows)
    for position, column in enumerate(kept[1:], start=1):
        assert [row[position] for row in cells if row[position]] == [row[column] for row in rows if row[column]]


def test_zoo_names_are_full_piped_and_in_a_narrow_terminal() -> None:
    names = list(builtin_specs())
    assert [row[0] for row in body(netcalc("zoo"))] == names
    assert "".join(row[0] for row in body(netcalc("zoo", **terminal(16)))) == "".join(names)


@pytest.mark.parametrize(("env", "styled"), [
    (PIPED, False),
    ({"TTY_COMPATIBLE": "1", "TERM": "xterm", "COLUMNS": "200"}, True),
    ({"FORCE_COLOR": "1", "TERM": "xterm", "COLUMNS": "200"}, True),
    ({"TTY_COMPATIBLE": "1", "TERM": "xterm", "COLUMNS": "200", "NO_COLOR": "1"}, False),
])
def test_styles_only_in_a_terminal(env: dict[str, str | None], styled: bool) -> None:
    out = netcalc("summary", "seed_rf", **env)
    assert ("\x1b[1mLayer" in out) is styled and ("\x1b" in out) is styled


@pytest.mark.parametrize(("text", "width", "pieces"), [
    ("conv1", 10, ["conv1"]),
    ("layer4.2.downsample.0", 10, ["layer4.2.", "downsample", ".0"]),
    ("features.3.conv.1.0", 12, ["features.3.", "conv.1.0"]),
    ("tf-slim/resnet_v1_50", 10, ["tf-slim/", "resnet_v1_", "50"]),
    ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
    ("層層層", 4, ["層層", "層"]),  # two cells each
])
def test_fold(text: str, width: int, pieces: list[str]) -> None:
    assert fold(text, width) == pieces


@pytest.mark.parametrize(("headers", "widths", "width", "kept", "folded"), [
    (("Layer", "Type", "Params"), (10, 4, 9), 33, [0, 1, 2], None),  # natural width: 10+4+9 + 3*3+1
    (("Layer", "Type", "Params"), (10, 4, 9), 32, [0, 1], None),  # rightmost left out
    (("Layer", "Type", "Params"), (10, 4, 9), 12, [0], 8),  # the name alone, folded
    (("Layer", "Type", "Params"), (10, 4, 9), 3, [0], 5),  # never narrower than its header
    (("Layer", "Type", "Inputs", "Output shape"), (5, 4, 30, 12), 40, [0, 1, 3], None),  # inputs first
    (("Layer", "Params"), (40, 9), 40, [0, 1], 24),  # names fold to 20 before a column goes
    (("Layer", "Params"), (40, 9), 32, [0], 28),
])
def test_fit(headers: tuple[str, ...], widths: tuple[int, ...], width: int, kept: list[int],
             folded: int | None) -> None:
    assert fit(headers, widths, width) == (kept, folded)


def test_wide_characters_keep_the_columns_aligned() -> None:
    grid = Grid("t", ["Layer", "Params"], [False, True], [["層1", "conv"], ["1,000", "7"]])
    assert list(lines(grid))[4:6] == ["│ 層1   │  1,000 │", "│ conv  │      7 │"]  # 層 is two cells wide


def test_a_long_table_has_one_line_per_row() -> None:
    n = 100_000
    grid = Grid("t", ["Layer", "MACs"], [False, True], [[f"relu_{i}" for i in range(n)], ["0"] * n])
    out = list(lines(grid, Terminal(width=None)))
    assert len(out) == n + 5 and out[-2] == "│ relu_99999 │    0 │"


def test_a_reader_that_stops_early_is_not_an_error(tmp_path: Path) -> None:
    spec = tmp_path / "long.net"
    spec.write_text("input 3x8x8\n" + "relu\n" * 20_000)  # megabytes of table: more than a pipe holds
    process = subprocess.Popen([sys.executable, "-m", "netcalc", "summary", str(spec)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env={k: v for k, v in os.environ.items() if k not in PIPED})
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().decode().startswith("long: input 3x8x8")
    process.stdout.close()  # `| head -1`
    assert process.wait(timeout=60) == 0 and process.stderr.read() == b""
