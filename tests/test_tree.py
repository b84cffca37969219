"""The tree view: a block use's container row above its own rows, summing them, at every
depth (torchinfo's depth-indexed rows), in the terminal's tables; JSON, CSV and markdown
stay one row per layer, and totals never change."""

from __future__ import annotations

import json

import pytest
from test_cli import assert_golden, netcalc

from netcalc.core.analysis.cost import Cost
from netcalc.core.api import analyze, builtin_specs

from helpers import text_spec

NESTED = """\
input 2x4x4
block inner
  conv out=2 k=1 name=a
  relu name=r
block outer
  inner name=i1
  inner name=i2
conv out=2 k=1 name=stem
outer name=o
linear out=3 name=head
"""


def test_nested_block_uses_by_hand() -> None:
    report = text_spec(NESTED)
    assert report.ok, report.diagnostics
    rows = report.rows(tree=True)
    # each conv: 2*2 weights + 2 biases = 6 params
    assert [(r.name, r.depth, r.container, r.cost.params) for r in rows] == [
        ("stem", 0, False, 6),
        ("o", 0, True, 12),
        ("o.i1", 1, True, 6), ("o.i1.a", 2, False, 6), ("o.i1.r", 2, False, 0),
        ("o.i2", 1, True, 6), ("o.i2.a", 2, False, 6), ("o.i2.r", 2, False, 0),
        ("head", 0, False, 15),
    ]
    # a container's shape and field are its last layer's
    assert rows[1].shape == report.shape("o.i2.r") and rows[1].members == range(1, 5)


def test_nested_block_uses_at_depth_2_fold_below_the_containers() -> None:
    rows = text_spec(NESTED).rows(depth=2, tree=True)
    assert [(r.name, r.depth, r.container) for r in rows] == [
        ("stem", 0, False), ("o", 0, True), ("o.i1", 1, False), ("o.i2", 1, False), ("head", 0, False)]


@pytest.mark.parametrize("name", ["resnet18", "unet", "vit_b_16", "convnext_tiny"])
@pytest.mark.parametrize("depth", [None, 1, 2, 3])
def test_containers_sum_their_rows_and_leave_the_layers_as_they_were(name: str, depth: int | None) -> None:
    report = analyze(name)
    tree, flat = report.rows(depth, tree=True), report.rows(depth)
    assert [r for r in tree if not r.container] == flat
    for i, container in enumerate(tree):
        if container.container:
            inside = [r for r in tree[i + 1:] if not r.container and r.members.start in container.members]
            assert container.cost == sum((r.cost for r in inside), Cost())
            assert all(r.depth > container.depth for r in inside)


def test_every_builtin_keeps_its_totals_in_the_tree() -> None:
    for name in builtin_specs():
        report = analyze(name)
        assert report.as_records(tree=True)["totals"] == report.as_records()["totals"]


def test_the_terminal_tables_show_the_tree_and_the_machine_formats_do_not() -> None:
    plain = netcalc("shapes", "resnet18", "--depth", "2", "-f", "plain").stdout
    assert "\n  layer1  " in plain and "\n    layer1.0  " in plain
    document = json.loads(netcalc("shapes", "resnet18", "--depth", "2", "-f", "json").stdout)
    assert "layer1" not in [layer["name"] for layer in document["layers"]]
    assert "container" not in json.dumps(document)
    for fmt in ("csv", "markdown"):
        assert "layer1," not in netcalc("shapes", "resnet18", "--depth", "2", "-f", fmt).stdout.replace(" ", "")


def test_tree_golden(update_golden: bool) -> None:
    assert_golden("summary_resnet18_tree_depth2.txt", ("summary", "resnet18", "--depth", "2", "-f", "plain"),
                  update_golden)


def test_the_tree_indents_the_name_column_wherever_it_is() -> None:
    lines = netcalc("shapes", "resnet18", "--depth", "2", "--columns", "shape,name", "-f", "plain").stdout.splitlines()
    stage, block = (next(line for line in lines if line.rstrip().endswith(name)) for name in (" layer1", " layer1.0"))
    assert stage.startswith("  64x56x56") and block.startswith("  64x56x56")  # the shapes stay in place
    assert len(block) - len("layer1.0") == len(stage) - len("layer1") + 2  # the name one level in
