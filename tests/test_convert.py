"""`netcalc convert`: lossless both ways for every built-in spec."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.core.api import analyze_source, builtin_specs, load, parse
from netcalc.core.convert import WRITERS

SUFFIX = {"text": ".net", "yaml": ".yaml"}


def graph(report):  # type: ignore[no-untyped-def]
    layers = [
        (layer.name, layer.op, dict(layer.attrs), layer.inputs, layer.block_path) for layer in report.graph.layers
    ]
    return report.graph.name, layers, {k: v for k, (v, _) in report.graph.checks.items()}


@pytest.mark.parametrize("target", ["text", "yaml"])
@pytest.mark.parametrize("name", sorted(builtin_specs()))
def test_round_trip(name: str, target: str) -> None:
    source, file, stem = load(name)
    original = analyze_source(source, file, stem)
    written = WRITERS[target](parse(source, file, stem)[0])
    converted = analyze_source(written, "converted" + SUFFIX[target], stem)
    assert converted.ok and graph(converted) == graph(original)
    again = WRITERS[target](parse(written, "converted" + SUFFIX[target], stem)[0])
    assert again == written


def test_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "seed.yaml"
    result = runner.invoke(app, ["convert", "seed_rf", "--to", "yaml", "-o", str(out)])
    assert result.exit_code == 0
    assert out.read_text().startswith("name: seed_rf\ninput: 1x5x5\nlayers:\n- conv out=1 k=3 s=2 p=1 name=conv1\n")
    text = runner.invoke(app, ["convert", str(out), "--to", "text"])
    assert text.stdout.splitlines()[:3] == ["name seed_rf", "input 1x5x5", ""]
    bad = tmp_path / "bad.net"
    bad.write_text("input 1x5x5\ncnov out=1\n")
    assert runner.invoke(app, ["convert", str(bad), "--to", "yaml"]).exit_code == 2
