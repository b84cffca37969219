"""Shared test helpers: build a spec from text, and the --update-golden option."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
    from helpers import TORCH_COMPARED

    if TORCH_COMPARED["cases"] or TORCH_COMPARED["saved"]:
        verdict = "all agreed" if exitstatus == 0 else "see the failures above"
        n = TORCH_COMPARED
        terminalreporter.write_line(
            f"torch harness: {n['layers']:,} layers in {n['cases']:,} exported specs compared with PyTorch (shape, "
            f"parameters, buffers per layer), {n['macs']:,} MAC totals with FlopCounterMode, {n['fields']:,} receptive "
            f"fields with gradients, {n['refused']:,} invalid cases refused by both, {n['saved']:,} layers' bytes "
            f"saved for backward with saved_tensors_hooks: {verdict}")
