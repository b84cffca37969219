"""A text table written line by line: column widths from one pass over the cells, then each
line formatted straight from them. Nothing is ever cut: piped, the table keeps its natural
width; in a terminal too narrow for it, columns are left out (and a line says which) and long
names fold onto several lines. rich's Table measures and wraps every cell, which takes
minutes for 100,000 rows and cuts numbers to `262,…` at 80 columns."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TextIO

# The first column folds down to this width before any other column is left out: a few
# folded names cost less than a missing column.
FOLD_FLOOR = 20
CHUNK = 4096  # lines per write: few calls, little memory


@dataclass(frozen=True, slots=True)
class Grid:
    """A table's content, every cell already text. Column-major, so that a column's width
    is one `max` over it."""

    title: str
    headers: Sequence[str]
    right: Sequence[bool]  # right-aligned (numbers)
    columns: Sequence[Sequence[str]]
    notes: Sequence[tuple[str, str]] = ()  # the footer: (label, value) lines
    elsewhere: str = "a wider terminal"  # where the columns a narrow terminal leaves out are seen


@dataclass(frozen=True, slots=True)
class Box:
    top: str  # left, fill, joint, right
    head: str  # left, joint, right
    rule: str  # below the header: left, fill, joint, right
    row: str  # left, joint, right
    bottom: str


HEAVY_HEAD = Box("┏━┳┓", "┃┃┃", "┡━╇┩", "│││", "└─┴┘")  # rich's default table box
ASCII = Box("+-++", "|||", "|-+|", "|||", "+-++")
PLAIN = Box("    ", "   ", " -  ", "   ", "    ")  # no border: columns apart, dashes under the header


@dataclass(frozen=True, slots=True)
class Terminal:
    """Where the table goes: `width` None is not a terminal (a pipe, a file)."""

    width: int | None = None
    styled: bool = False
    box: Box = field(default=HEAVY_HEAD)


def stdout_terminal() -> Terminal:
    """stdout as rich sees it: FORCE_COLOR, TTY_COMPATIBLE, TERM=dumb and COLUMNS count as
    they do for every rich program; NO_COLOR leaves out bold and italic too."""
    from rich.console import Console

    console = Console()
    box = HEAVY_HEAD if console.encoding.startswith("utf") else ASCII
    if not console.is_terminal:
        return Terminal(None, False, box)
    return Terminal(console.width, console.color_system is not None and not console.no_color, box)


def text_width(text: str) -> int:
    """Terminal cells: one per character but for wide (East Asian) ones."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - text_width(text))
    return gap + text if right else text + gap


def fold(text: str, width: int) -> list[str]:
    """`text` in pieces of at most `width` cells, broken after the last `.`, `/` or `_` that
    fits (module paths: `layer4.2.` / `downsample.0`)."""
    if not text.isascii():
        from rich.cells import chop_cells

        return chop_cells(text, width)
    pieces = []
    while len(text) > width:
        cut = max(text.rfind(sep, 1, width) for sep in "./_") + 1 or width
        pieces.append(text[:cut])
        text = text[cut:]
    return pieces + [text]


def table_width(widths: Iterable[int]) -> int:
    widths = list(widths)
    return sum(widths) + 3 * len(widths) + 1  # "│ " before each cell, " │" after the last


def drop_order(headers: Sequence[str]) -> list[int]:
    """Columns a narrow terminal leaves out first: inputs (a list of names, the widest and
    the least read), then right to left. The first column is the row's name: always kept."""
    rest = list(range(len(headers) - 1, 0, -1))
    return sorted(rest, key=lambda i: headers[i] != "Inputs")


def fit(headers: Sequence[str], widths: Sequence[int], width: int) -> tuple[list[int], int | None]:
    """The columns kept and the width the first folds to (None: not folded)."""
    kept = list(range(len(widths)))
    order = drop_order(headers)
    while True:
        room = width - table_width(widths[i] for i in kept) + widths[0]
        if room >= widths[0]:
            return kept, None
        if room >= min(widths[0], FOLD_FLOOR) or not order:
            return kept, max(room, text_width(headers[0]), 1)
        kept.remove(order.pop(0))


def lines(grid: Grid, terminal: Terminal = Terminal()) -> Iterator[str]:
    """The table, line by line, for `terminal` (by default: a pipe, natural width)."""
    widths = [max(text_width(h), max(map(text_width, column), default=0))
              for h, column in zip(grid.headers, grid.columns, strict=True)]
    kept, folded = list(range(len(widths))), None
    if terminal.width is not None:
        kept, folded = fit(grid.headers, widths, terminal.width)
        widths[0] = folded or widths[0]
    box, shown = terminal.box, [widths[i] for i in kept]
    yield style(grid.title, "3", terminal)  # italic, as rich's table titles
    if box.top.strip():
        yield rule(box.top, shown)
    heads = [style(pad(grid.headers[i], widths[i], grid.right[i]), "1", terminal) for i in kept]
    yield box.head[0] + " " + f" {box.head[1]} ".join(heads) + " " + box.head[2]
    yield rule(box.rule, shown)
    yield from body(grid, kept, widths, folded, box)
    if box.bottom.strip():
        yield rule(box.bottom, shown)
    left_out = [grid.headers[i] for i in range(len(widths)) if i not in kept]
    if left_out:
        yield style(f"Left out to fit the terminal's {terminal.width} columns: {', '.join(left_out)} "
                    f"(shown with {grid.elsewhere}, or piped: | less -S)", "2", terminal)
    yield from footer(grid.notes, terminal.width)


def rule(chars: str, widths: Sequence[int]) -> str:
    return chars[0] + chars[2].join(chars[1] * (w + 2) for w in widths) + chars[3]


def style(text: str, sgr: str, terminal: Terminal) -> str:
    return f"\x1b[{sgr}m{text}\x1b[0m" if terminal.styled and text else text


def body(grid: Grid, kept: list[int], widths: list[int], folded: int | None, box: Box) -> Iterator[str]:
    """The rows. Each line is one `str.format` of a template holding the widths; cells that
    `format` cannot pad (wide characters, folded names) are padded beforehand."""
    slots, columns = [], []
    for i in kept:
        column = grid.columns[i]
        if i == 0 and folded:  # padded piece by piece below
            slots.append("{}")
        elif all(map(str.isascii, column)):
            slots.append(f"{{:{'>' if grid.right[i] else '<'}{widths[i]}}}")
        else:  # `format` counts characters, not terminal cells
            slots.append("{}")
            column = [pad(c, widths[i], grid.right[i]) for c in column]
        columns.append(column)
    template = f"{box.row[0]} " + f" {box.row[1]} ".join(slots) + f" {box.row[2]}"
    if not folded:
        yield from map(template.format, *columns)
        return
    blanks = [" " * widths[i] for i in kept[1:]]
    for row in zip(*columns, strict=True):
        first, *more = fold(row[0], folded)
        yield template.format(pad(first, folded, grid.right[0]), *row[1:])
        for piece in more:
            yield template.format(pad(piece, folded, grid.right[0]), *blanks)


def footer(notes: Sequence[tuple[str, str]], width: int | None) -> Iterator[str]:
    """Label and value per line, values right-aligned; `label: value` when that is too wide."""
    if not notes:
        return
    left = max(text_width(label) for label, _ in notes)
    right = max(text_width(value) for _, value in notes)
    if width is not None and left + 2 + right > width:
        yield from (f"{label}: {value}" for label, value in notes)
        return
    yield from (pad(label, left, False) + "  " + pad(value, right, True) for label, value in notes)


def write(lines: Iterable[str], out: TextIO | None = None) -> None:
    """`lines` to `out` (stdout), a few thousand per write. A reader that stops early
    (`| head`) ends the table, not the run: exit 0, as for the other formats."""
    out = out or sys.stdout
    it = iter(lines)
    try:
        while chunk := list(islice(it, CHUNK)):
            out.write("\n".join(chunk) + "\n")
    except BrokenPipeError:
        # what is still buffered goes nowhere, rather than failing again at exit's flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
