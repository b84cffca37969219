"""`netcalc graph`: golden DOT and Mermaid, Graphviz parses the DOT, the SVG has one node
per layer, HTML is self-contained, large graphs fold."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.core.api import analyze_source
from netcalc.core.graph_view import NODE_LIMIT, build_view

GOLDEN = Path(__file__).resolve().parent / "golden"
runner = CliRunner()
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")

CASES = {
    "graph_seed_deconv.dot": ("seed_deconv", "--annotate", "shape,params,rf"),
    "graph_seed_deconv.mmd": ("seed_deconv", "--format", "mermaid"),
    "graph_unet_depth2.dot": ("unet", "--depth", "2", "--annotate", "shape,rf"),
    "graph_unet_depth2.mmd": ("unet", "--depth", "2", "--format", "mermaid"),
}


@pytest.mark.parametrize("golden", sorted(CASES))
def test_golden(golden: str, update_golden: bool) -> None:
    result = runner.invoke(app, ["graph", *CASES[golden]])
    assert result.exit_code == 0, result.output
    if update_golden:
        (GOLDEN / golden).write_text(result.stdout)
    assert result.stdout == (GOLDEN / golden).read_text()


@needs_dot
@pytest.mark.parametrize("golden", [g for g in sorted(CASES) if g.endswith(".dot")])
def test_dot_parses_with_graphviz(golden: str) -> None:
    result = subprocess.run(["dot", "-Tcanon"], input=(GOLDEN / golden).read_text(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@needs_dot
def test_svg_has_one_node_per_layer(tmp_path: Path) -> None:
    out = tmp_path / "r18.svg"
    assert runner.invoke(app, ["graph", "resnet18", "-o", str(out)]).exit_code == 0
    assert out.read_text().count('class="node"') == 69 + 1  # layers and the input


@needs_dot
def test_html_is_self_contained_with_a_table_and_tooltips(tmp_path: Path) -> None:
    out = tmp_path / "unet.html"
    assert runner.invoke(app, ["graph", "unet", "-o", str(out)]).exit_code == 0
    page = out.read_text()
    assert page.count('class="node"') == 67 + 1 and page.count("<tr><td>") == 67
    assert "<title>up1.concat_1 (concat)" in page or "up1.concat_1 (concat)" in page
    assert not re.search(r"(src|href)=\"https?:", page)


def test_missing_graphviz_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["graph", "seed_rf", "-o", str(tmp_path / "x.svg")], env={"PATH": str(tmp_path)})
    assert result.exit_code == 2 and "install Graphviz" in result.stderr


def test_findings_are_highlighted() -> None:
    result = runner.invoke(app, ["graph", "resnet18", "--depth", "2"])
    highlighted = [line for line in result.stdout.splitlines() if "#dc2626" in line and "->" not in line]
    assert len(highlighted) == 3  # layer2.0, layer3.0, layer4.0: their downsample drops a row


@pytest.mark.slow
def test_100k_layers_fold_under_the_node_limit() -> None:
    spec = "input: 4x16x16\nblocks:\n  unit:\n    layers:\n      - conv out=4 k=3 p=1\n      - relu\n" \
           "layers:\n  - unit repeat=50000 name=body\n"
    report = analyze_source(spec, "big.yaml")
    view = build_view(report, None, [])
    assert len(view.rows) <= NODE_LIMIT and view.notes
    flat = analyze_source("input 4x8x8\n" + "relu\n" * 100_000, "flat.net")
    view = build_view(flat, None, [])
    assert len(view.rows) < NODE_LIMIT and view.elided == 100_000 - len(view.rows)


BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.browser
@pytest.mark.skipif(BROWSER is None, reason="no headless browser installed")
@needs_dot
def test_html_opens_in_a_headless_browser(tmp_path: Path) -> None:
    out = tmp_path / "unet.html"
    assert runner.invoke(app, ["graph", "unet", "-o", str(out)]).exit_code == 0
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([BROWSER, *flags, "--dump-dom", out.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert dom.stdout.count('class="node"') == 67 + 1  # the page as the browser built it


def test_graph_and_check_agree_under_a_configuration(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A rule the configuration disables paints nothing red: graph runs check's pipeline."""
    (tmp_path / "s.net").write_text("input 512x7x7\nfc out=10\n")  # linear-on-spatial on the output
    monkeypatch.chdir(tmp_path)
    flagged = runner.invoke(app, ["graph", "s.net"]).stdout
    (tmp_path / ".netcalc.yaml").write_text("disable: [linear-on-spatial]\n")
    quiet = runner.invoke(app, ["graph", "s.net"]).stdout
    assert "#dc2626" in flagged and "#dc2626" not in quiet


def test_a_flagged_output_node_has_one_fill_the_findings_red(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "s.net").write_text("input 512x7x7\nfc out=10\n")
    monkeypatch.chdir(tmp_path)
    (node,) = [line for line in runner.invoke(app, ["graph", "s.net"]).stdout.splitlines() if '"fc_1" [' in line]
    assert node.count("fillcolor") == 1 and 'fillcolor="#fee2e2"' in node and "peripheries=2" in node


def test_every_output_is_drawn_as_one() -> None:
    from test_wiring import TWO_HEADS

    from netcalc.cli.render.graph import to_mermaid
    from netcalc.core.graph_view import build_view

    from helpers import yaml_spec

    report = yaml_spec(TWO_HEADS)
    view = build_view(report, None, [])
    assert view.outputs == ("head", "aux")
    records = {r["name"]: r for r in report.as_records()["layers"]}
    context = {"name": "two", "records": records, "annotate": (), "blocks": {}}
    assert to_mermaid(view, context).count(" output\n") == 2


def test_a_shared_layer_says_whose_module_it_calls() -> None:
    from netcalc.cli.render.graph import to_mermaid
    from netcalc.core.graph_view import build_view

    from helpers import text_spec

    report = text_spec("input 8\nlinear out=8 name=a\nlinear out=8 share=a name=b\n")
    records = {r["name"]: r for r in report.as_records()["layers"]}
    drawn = to_mermaid(build_view(report, None, []), {"name": "g", "records": records, "annotate": (), "blocks": {}})
    assert 'n2["b<br/>linear shares a"]' in drawn
