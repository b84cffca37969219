"""The registry of diagnostic ids (core/ids.py) is complete and has nothing extra: every id
the code reports is registered once, with its severity and what it finds, and every
registered id is reported somewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from netcalc.core.ids import IDS, RULES

ROOT = Path(__file__).resolve().parent.parent
# an id handed to a function that makes a diagnostic, an OpError or an ONNX node's Unmapped (id=), or
# named as a rule's ID
MAKERS = (r"\b(?:error|warning|finding|fail|_fail|OpError|self\.fail)\(|\bID = |INTERNAL_ERROR = "
          r"|\bUnmapped\(.*\bid=|\bid: str = ")
REPORTED = re.compile(f'(?:{MAKERS})\\s*"([a-z]+(?:-[a-z]+)*)"')


def reported_ids() -> set[str]:
    found = set()
    for path in [*(ROOT / "core").rglob("*.py"), *(ROOT / "cli").rglob("*.py")]:
        found |= set(REPORTED.findall(path.read_text()))
    return found


def test_every_reported_id_is_registered() -> None:
    assert reported_ids() - set(IDS) == set()


def test_every_registered_id_is_reported() -> None:
    assert set(IDS) - reported_ids() == set()


@pytest.mark.parametrize("known", IDS.values(), ids=lambda k: k.id)
def test_each_id_says_what_it_finds(known) -> None:  # type: ignore[no-untyped-def]
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", known.id)
    assert known.severity in ("error", "warning") and known.summary
    assert known.is_rule == (known.id in RULES)
    if known.is_rule:  # a rule's documentation opens with its id and carries its examples
        assert known.doc.startswith(f"{known.id}: ") and "Failing" in known.doc and "Passing" in known.doc
