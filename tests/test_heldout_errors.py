"""Held-out invalid v2 specs (tests/heldout/bad/), written from the contract alone: each is
refused with the expected diagnostic id on the offending line. No torch needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from netcalc.core.api import analyze

HELDOUT = Path(__file__).resolve().parent / "heldout"
BAD = HELDOUT / "bad"

# file -> (diagnostic id, line of the offending entry)
CASES = [
    pytest.param("relu_on_ids.net", "wrong-dtype", 3, id="relu-on-int64-ids"),
    pytest.param("gru_on_ids.yaml", "wrong-dtype", 5, id="gru-on-ids-through-identity"),
    pytest.param("embedding_on_floats.yaml", "wrong-dtype", 4, id="embedding-on-floats"),
    pytest.param("mha_heads.net", "invalid-argument", 4, id="mha-heads-not-dividing-E"),
    pytest.param("sdpa_kv_heads.net", "invalid-argument", 6, id="sdpa-kv-heads-not-dividing-heads"),
    pytest.param("reshape_count.yaml", "shape-mismatch", 5, id="reshape-count-mismatch"),
    pytest.param("permute_not_perm.net", "invalid-argument", 3, id="permute-not-a-permutation"),
    pytest.param("share_args.yaml", "invalid-share", 6, id="share-with-different-arguments"),
    pytest.param("output_nothing.net", "unknown-reference", 4, id="output-naming-nothing"),
    pytest.param("lstm_proj.yaml", "invalid-argument", 4, id="lstm-proj-not-below-hidden"),
    pytest.param("tied_head_features.net", "invalid-share", 6, id="tied-head-on-other-features"),
    pytest.param("share_in_features.net", "invalid-share", 4, id="share-a-linear-on-other-in-features"),
    pytest.param("share_in_channels.net", "invalid-share", 4, id="share-a-conv-on-other-in-channels"),
]


@pytest.mark.parametrize("filename, diag_id, line", CASES)
def test_heldout_bad_spec_is_refused(filename: str, diag_id: str, line: int) -> None:
    report = analyze(str(BAD / filename))
    assert not report.ok
    errors = [(d.id, d.span.line) for d in report.diagnostics]
    assert (diag_id, line) in errors, errors


def test_every_bad_spec_is_listed() -> None:
    listed = {p.values[0] for p in CASES}
    assert listed == {p.name for p in BAD.iterdir()}


VALID = [pytest.param(p.name, id=p.name) for p in sorted(HELDOUT.iterdir()) if p.is_file()]


@pytest.mark.parametrize("filename", VALID)
def test_heldout_valid_spec_passes_check(filename: str) -> None:
    # encoder.yaml, kvdims.net and multidim.net carry `check: output` as a list, one shape per output
    done = subprocess.run([sys.executable, "-m", "netcalc", "check", filename], cwd=HELDOUT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 error(s)" in done.stdout
