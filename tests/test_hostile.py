"""Hostile input: every malformed spec is a positioned error (exit 2), never a traceback, a
hang or an answer that depends on the installed PyYAML; a bug is `internal error`, exit 3."""

from __future__ import annotations

import sys

import pytest
import yaml
from typer.testing import CliRunner

from netcalc.cli import app as cli_app
from netcalc.cli.app import app
from netcalc.core.parse import yaml_spec as yaml_reader

from helpers import errors, text_spec, yaml_spec

runner = CliRunner()

DEEP = 5000  # past libyaml's own nesting limit (which some PyYAML releases enforce) and the stack

# (case id, file name, spec, the errors as (id, line, col))
POSITIONED = [
    ("yaml-top-level-list", "spec.yaml", "- relu\n", [("syntax", 1, 1)]),
    ("yaml-top-level-scalar", "spec.yaml", "hello\n", [("syntax", 1, 1)]),
    ("yaml-top-level-number", "spec.yaml", "42\n", [("syntax", 1, 1)]),
    # 32 levels: the spec and `layers` take two, the 31st bracket opens level 33 at column 35
    ("yaml-deep-flow-list", "spec.yaml", "input: 3x8x8\nlayers:\n  - " + "[" * DEEP + "]" * DEEP + "\n",
     [("too-deep", 3, 35)]),
    # 500 deep inside a layer's arguments: reported where the value goes too deep, not at 1:1
    # (spec, layers, the layer's mapping and `{` are four levels; the first `[` is at col 17,
    # the 29th, level 33, at col 45)
    ("yaml-deep-argument", "spec.yaml", "input: 3x8x8\nlayers:\n  - conv: {out: " + "[" * 500 + "x" + "]" * 500 + "}\n",
     [("too-deep", 3, 45)]),
    ("yaml-billion-laughs", "spec.yaml", "input: 3x8x8\n" + "".join(
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}" if i else "relu"] * 10) + "]\n" for i in range(9)) + "layers: *a8\n",
     [("too-large", 8, 10)]),  # a0..a5 hold 1.2 million values, a6's first *a5 another 1.1 million
    ("yaml-alias-reported-where-used", "spec.yaml", "input: 3x8x8\nx: &a\n  - conv out=4 k=foo\nlayers: *a\n",
     [("unknown-key", 2, 1), ("invalid-argument", 4, 9)]),
    ("yaml-undefined-alias", "spec.yaml", "input: 3x8x8\nlayers: *nope\n", [("yaml-syntax", 2, 9)]),
    ("yaml-two-documents", "spec.yaml", "input: 3x8x8\n---\ninput: 3x8x8\n", [("yaml-syntax", 2, 1)]),
    # null is a value the kinds refuse, never a layer silently left out
    ("yaml-null-argument", "spec.yaml",
     "input: 3x8x8\nlayers:\n  - relu name=a\n  - {conv: {out: 4, k: 3, bias: null}}\n  - relu from=a\n",
     [("invalid-argument", 4, 27)]),
    ("yaml-null-in-list", "spec.yaml", "input: 3x8x8\nlayers:\n  - {conv: {out: 4, k: 3, p: [3, null]}}\n",
     [("invalid-argument", 3, 27)]),
    ("yaml-null-repeat", "spec.yaml", "input: 3x8x8\nlayers:\n  - {relu: {}, repeat: null}\n",
     [("invalid-value", 3, 24)]),
    # YAML 1.1 would read these as hex, sexagesimal and a boolean: read as on a layer line
    ("yaml-0x1-is-0-by-1", "spec.yaml", "input: 3x8x8\nlayers:\n  - {conv: {out: 4, k: 3, p: 0x1}}\n", []),
    ("yaml-sexagesimal", "spec.yaml", "input: 3x8x8\nlayers:\n  - {conv: {out: 1:30, k: 3}}\n",
     [("invalid-value", 3, 18)]),
    ("yaml-yes-is-no-boolean", "spec.yaml", "input: 3x8x8\nlayers:\n  - {conv: {out: 4, k: 3, bias: yes}}\n",
     [("invalid-argument", 3, 27)]),
    ("text-bad-value-is-not-also-missing", "spec.net", "input 3x8x8\nconv out=4 k=3#c\n", [("invalid-value", 2, 12)]),
    ("yaml-complex-key", "spec.yaml", "input: 3x8x8\n? [a, b]\n: 1\nlayers:\n  - relu\n", [("syntax", 2, 3)]),
    # what YAML refuses as a repeated key, the text syntax refuses too
    ("text-two-input-lines", "spec.net", "input 3x8x8\ninput 1x4x4\nrelu\n", [("duplicate-key", 2, 7)]),
    ("text-input-named-twice", "spec.net", "input img=3x8x8 img=1x8x8\nrelu\n", [("duplicate-key", 1, 17)]),
    ("text-two-name-lines", "spec.net", "name a\nname b\ninput 3x8x8\nrelu\n", [("duplicate-key", 2, 1)]),
    ("text-check-twice", "spec.net", "input 3x8x8\nrelu\ncheck max_params=1\ncheck max_params=2\n",
     [("duplicate-key", 4, 7)]),
    ("text-block-argument-twice", "spec.net", "input 3x8x8\nblock b x=1 x=2\n  relu\nb\n",
     [("duplicate-argument", 2, 13)]),
    ("text-block-input-twice", "spec.net", "input 3x8x8\nblock b inputs=y,y\n  relu\nb from=input,input\n",
     [("duplicate-name", 2, 9)]),
    # a block with no layers would make its uses vanish
    ("text-empty-block", "spec.net", "input 3x8x8\nblock b\nb\nrelu\n", [("empty-block", 2, 1)]),
    ("yaml-empty-block", "spec.yaml", "input: 3x8x8\nblocks:\n  b: {layers: []}\nlayers: [b, relu]\n",
     [("empty-block", 3, 3)]),
    ("text-every-layer-dropped", "spec.net", "input 3x8x8\nblock b f=true\n  relu if=$f\nb f=false\n",
     [("no-layers", 4, 1)]),
    ("text-full-width-digit", "spec.net", "input 3x8x8\nconv out=\uff14 k=3\n", [("invalid-value", 2, 6)]),
    ("text-empty-from", "spec.net", "input 3x8x8\nconv out=4 k=3 from=\n", [("syntax", 2, 16)]),
    # block and escaped scalars: every token at the scalar, never past its line
    ("yaml-folded-scalar", "spec.yaml", "input: 3x8x8\nlayers:\n  - >\n    conv out=4 k=3\n    s=0\n",
     [("invalid-argument", 3, 5)]),
    ("yaml-escaped-quoted", "spec.yaml", 'input: 3x8x8\nlayers:\n  - "conv\\tout=4 k=3 s=0"\n',
     [("invalid-argument", 3, 5)]),
    ("yaml-quoted", "spec.yaml", 'input: 3x8x8\nlayers:\n  - "conv out=4 k=3 s=0"\n', [("invalid-argument", 3, 21)]),
    ("yaml-line-continued", "spec.yaml", "input: 3x8x8\nlayers:\n  - conv out=4 k=3\n      s=x p=1\n",
     [("invalid-argument", 4, 7)]),
    ("yaml-deep-from", "spec.yaml", "input: 3x8x8\nlayers:\n  - {relu: {}, from: [[a]]}\n", [("syntax", 3, 23)]),
    ("text-deep-parentheses", "spec.net", "input 3x8x8\nconv out=" + "(" * 100_000 + "1+1" + ")" * 100_000 + " k=1\n",
     [("invalid-expression", 2, 6)]),
    ("text-deep-unary", "spec.net", "input 3x8x8\nconv out=" + "-" * 100_000 + "1+1 k=1\n",
     [("invalid-expression", 2, 6)]),
    ("text-huge-literal-in-expression", "spec.net", "input 3x8x8\nconv out=" + "9" * 100_000 + "+1 k=1\n",
     [("invalid-expression", 2, 6)]),
]


@pytest.mark.parametrize("file, spec, expected", [c[1:] for c in POSITIONED], ids=[c[0] for c in POSITIONED])
def test_hostile_spec_is_a_positioned_error(file: str, spec: str, expected: list) -> None:
    report = yaml_spec(spec, file) if file.endswith(".yaml") else text_spec(spec, file)
    assert errors(report) == expected


def test_yaml_mapping_and_layer_line_read_0x1_alike() -> None:
    mapping = yaml_spec("input: 3x8x8\nlayers:\n  - {conv: {out: 4, k: 3, p: 0x1}}\n")
    line = yaml_spec("input: 3x8x8\nlayers:\n  - conv out=4 k=3 p=0x1\n")
    assert str(mapping.shapes["conv_1"]) == str(line.shapes["conv_1"]) == "4x6x8"


def test_an_error_message_quoting_a_huge_value_stays_short() -> None:
    report = text_spec("input 3x8x8\nconv out=" + "(" * 100_000 + "1+1" + ")" * 100_000 + " k=1\n")
    assert max(len(d.message) for d in report.diagnostics) <= 400


@pytest.mark.parametrize("loader", ["libyaml", "pure-python"])
def test_nesting_limit_does_not_depend_on_pyyaml(loader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """libyaml (when PyYAML has it) stops at its own depth; the pure-Python loader runs out
    of stack: both are netcalc's `too-deep`, at the same place."""
    if loader == "pure-python":
        monkeypatch.setattr(yaml_reader, "_Loader", yaml.SafeLoader)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML without libyaml")
    spec = "input: 3x8x8\nlayers:\n  - " + "[" * DEEP + "]" * DEEP + "\n"
    assert errors(yaml_spec(spec)) == [("too-deep", 3, 35)]


def test_check_reports_every_other_file_when_one_is_broken(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a_list.yaml").write_text("- relu\n")
    (tmp_path / "b_scalar.yaml").write_text("hello\n")
    (tmp_path / "c_good.net").write_text("input 3x8x8\nconv out=4 k=3\n")
    (tmp_path / "d_parens.net").write_text("input 3x8x8\nconv out=" + "(" * 100_000 + "1+1" + ")" * 100_000 + " k=1\n")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["check", "."])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    files = [line.split(":")[0] for line in result.output.splitlines()[:-1]]
    assert files == ["a_list.yaml", "b_scalar.yaml", "d_parens.net"]
    assert result.output.splitlines()[-1] == "4 spec(s) checked: 3 error(s), 0 warning(s)"


def _crash(*args: object, **kwargs: object) -> None:
    raise RuntimeError("forced failure")


def test_an_unexpected_exception_is_an_internal_error_with_exit_3(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import netcalc.core.api

    monkeypatch.setattr(netcalc.core.api, "analyze", _crash)
    monkeypatch.setattr(sys, "argv", ["netcalc", "shapes", "seed_rf"])
    monkeypatch.delenv("NETCALC_DEBUG", raising=False)
    with pytest.raises(SystemExit) as stop:
        cli_app.main()
    assert stop.value.code == 3
    err = capsys.readouterr().err
    assert err.startswith("error: internal error: RuntimeError: forced failure\n")
    assert "Please report it" in err and "Traceback" not in err


def test_check_reports_a_crash_in_one_file_and_checks_the_others(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import netcalc.core.api

    real = netcalc.core.api.analyze_source

    def crash_on_b(source: str, file: str, *args: object) -> object:
        if file.endswith("b.net"):
            raise RuntimeError("forced failure")
        return real(source, file, *args)  # type: ignore[arg-type]

    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.net").write_text("input 3x8x8\nconv out=4 k=3 k=3\n")
    monkeypatch.setattr(netcalc.core.api, "analyze_source", crash_on_b)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NETCALC_DEBUG", raising=False)
    result = runner.invoke(app, ["check", "."])
    assert result.exit_code == 3
    ids = [(line.split(":")[0], line.rsplit("[", 1)[1]) for line in result.output.splitlines()[:-1]]
    assert ids == [("a.net", "duplicate-argument]"), ("b.net", "internal-error]"), ("c.net", "duplicate-argument]")]


def test_version() -> None:
    from netcalc import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"netcalc {__version__}\n"


# (case id, spec text, the errors as (id, line, col)): mistakes reported once, as what they are
SPACED_EQUALS = [
    ("spaces-both-sides", "input 3x8x8\nconv out = 4 k=3\n", [("syntax", 2, 6)]),
    ("space-before", "input 3x8x8\nconv out =4 k=3\n", [("syntax", 2, 6)]),
    ("space-after-and-another", "input 3x8x8\nconv out= 4 k = 3\n", [("syntax", 2, 6), ("syntax", 2, 13)]),
]


# (case id, spec text, errors): one error each, nothing reported missing that was written
MISSING_VALUES = [
    ("no-value-before-a-pair", "input 3x8x8\nconv out= k=3\n", [("syntax", 2, 6)]),
    ("doubled-equals", "input 3x8x8\nconv out==4 k=3\n", [("invalid-value", 2, 6)]),
    ("parentheses-alone-are-an-expression", "input 3x8x8\nconv out=((4)) k=1\n", []),
]


@pytest.mark.parametrize("spec, expected", [c[1:] for c in MISSING_VALUES], ids=[c[0] for c in MISSING_VALUES])
def test_a_value_written_wrong_is_one_error(spec: str, expected: list) -> None:
    assert errors(text_spec(spec)) == expected


@pytest.mark.parametrize("spec, expected", [c[1:] for c in SPACED_EQUALS], ids=[c[0] for c in SPACED_EQUALS])
def test_spaces_around_equals_are_one_error_that_says_so(spec: str, expected: list) -> None:
    report = text_spec(spec)
    assert errors(report) == expected
    assert "spaces around '='" in report.diagnostics[0].message


def invoke(*args: str, stdin: str | bytes | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=stdin)


def test_dash_reads_the_spec_from_stdin_in_either_syntax() -> None:
    text = invoke("shapes", "-", "-f", "csv", stdin="input 3x8x8\nconv out=4 k=3\n")
    yaml_text = invoke("shapes", "-", "-f", "csv", stdin="input: 3x8x8\nlayers:\n  - conv out=4 k=3\n")
    assert text.exit_code == yaml_text.exit_code == 0
    assert text.stdout == yaml_text.stdout == "name,type,inputs,shape\nconv_1,conv,input,4x6x6\n"
    broken = invoke("shapes", "-", stdin="input: 3x8x8\nlayers:\n  - conv out=4\n")
    assert broken.exit_code == 2
    assert broken.stderr.startswith("<stdin>:3:5: error: layer 'conv_1': 'conv' needs argument 'k'")


def test_a_spec_that_is_not_utf8_is_a_positioned_error(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.yaml").write_bytes(b"input: 3x8x8\nlayers:\n  - r\xc3\xa9lu \xff\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("shapes", "bad.yaml")
    assert result.exit_code == 2
    # the column counts characters, not bytes: "  - ", r, e-acute, l, u and a space are 9
    assert result.stderr == "bad.yaml:3:10: error: byte 0xff is not UTF-8: netcalc reads UTF-8 text [encoding]\n"


def test_a_configuration_that_is_not_utf8_is_a_positioned_error(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".netcalc.yaml").write_bytes(b"disable: [x\xff]\n")
    (tmp_path / "a.net").write_text("input 3x8x8\nrelu\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "a.net")
    assert result.exit_code == 2
    assert result.stderr.endswith(".netcalc.yaml:1:12: error: byte 0xff is not UTF-8: netcalc reads UTF-8 text "
                                  "[invalid-config]\n")


@pytest.mark.parametrize("spec, message", [
    ("specs", "error: 'specs' is a directory, not a spec file (`netcalc check specs` checks every spec in it)\n"),
    ("/dev/null", "error: '/dev/null' is a device or socket, not a spec file\n"),
    ("resnet5", "error: no spec file 'resnet5' and no built-in spec of that name; did you mean 'resnet50'? "
                "(see `netcalc zoo`)\n"),
])
def test_a_spec_that_is_no_file_says_what_it_is(spec: str, message: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "specs").mkdir()
    monkeypatch.chdir(tmp_path)
    result = invoke("shapes", spec)
    assert (result.exit_code, result.stderr) == (2, message)


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes are POSIX")
def test_a_named_pipe_is_read_like_a_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import threading

    fifo = tmp_path / "spec.net"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=("input 3x8x8\nrelu\n",))
    writer.start()
    result = invoke("shapes", str(fifo), "-f", "csv")
    writer.join()
    assert (result.exit_code, result.stdout) == (0, "name,type,inputs,shape\nrelu_1,relu,input,3x8x8\n")


def test_input_with_a_batch_axis_is_warned_about() -> None:
    report = text_spec("input 1x3x224x224\nrelu\n")
    assert [(d.id, d.span.line, d.span.col, d.hint) for d in report.diagnostics] == [
        ("batch-in-input", 1, 7, "for images of shape 3x224x224, write 3x224x224 (and --batch N)")]
    assert text_spec("input 1x64x128x128\nrelu\n").diagnostics == ()  # a one-channel volume of depth 64


def test_a_spec_past_the_layer_limit_is_refused_before_it_is_expanded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from netcalc.core.parse import text_spec as text_reader

    monkeypatch.setattr(text_reader, "MAX_LAYERS", 3)
    report = text_spec("input 3x8x8\nblock b\n  relu\n  relu\nrelu\nb\nrelu\n")
    assert errors(report) == [("too-large", 6, 1)]  # `b`, the fourth layer line, counting the block's
    assert report.graph.layers == ()


def test_convert_reads_standard_input_once() -> None:
    result = invoke("convert", "-", "--to", "yaml", stdin="input 3x8x8\nconv out=4 k=3\n")
    assert result.exit_code == 0
    assert result.stdout == "name: stdin\ninput: 3x8x8\nlayers:\n- conv out=4 k=3\n"


@pytest.mark.parametrize("annotate", ["shape", "rf", "shape,params,macs,rf"])
def test_graph_of_a_flat_input(annotate: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "flat.yaml"
    spec.write_text("input: 3\nlayers:\n  - linear out=4\n")
    result = invoke("graph", str(spec), "--annotate", annotate)
    assert result.exit_code == 0 and '"linear_1"' in result.stdout


@pytest.mark.skipif(not __import__("os").path.exists("/dev/full"), reason="no /dev/full")
def test_output_that_cannot_be_written_is_exit_2_not_a_bug() -> None:
    import subprocess

    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "netcalc", "shapes", "seed_rf"], stdout=full,
                              stderr=subprocess.PIPE, text=True, check=False)
    assert (done.returncode, done.stderr) == (2, "error: cannot write the output: No space left on device\n")


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os

    target = tmp_path / "model.py"
    target.write_text("the previous export\n")

    def full_disk(source: str, destination: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    result = invoke("export", "seed_rf", "--to", "torch", "-o", str(target))
    assert (result.exit_code, result.stderr) == (2, f"error: cannot write {target}: No space left on device\n")
    assert target.read_text() == "the previous export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.py"]  # no temporary file left


@pytest.mark.parametrize("config", ["disable: [kernel-exceeds-input]\n",
                                    "severity: {kernel-exceeds-input: warning}\n"])
def test_configuration_cannot_hide_what_makes_a_spec_invalid(config: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / ".netcalc.yaml").write_text(config)
    (tmp_path / "s.net").write_text("input 3x8x8\nconv out=4 k=99  # netcalc: disable=kernel-exceeds-input\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "s.net")
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0].startswith("s.net:2:1: error: layer 'conv_1' (conv) on 3x8x8: the window")
    assert result.stdout.splitlines()[-1] == "1 spec(s) checked: 1 error(s), 0 warning(s)"


@pytest.mark.parametrize("data", [b"\xef\xbb\xbfinput 3x8x8\nrelu\n", b"input 3x8x8\rrelu\r",
                                  b"input 3x8x8\r\nrelu\r\n"])
def test_text_specs_with_a_bom_or_any_line_ending(data: bytes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "s.net"
    spec.write_bytes(data)
    result = invoke("shapes", str(spec), "-f", "csv")
    assert (result.exit_code, result.stdout) == (0, "name,type,inputs,shape\nrelu_1,relu,input,3x8x8\n")


def test_a_character_yaml_refuses_is_reported_where_it_stands() -> None:
    assert errors(yaml_spec("input: 3x8x8\nlayers:\n  - re\x00lu\n")) == [("yaml-syntax", 3, 7)]


def test_an_input_option_is_reported_at_the_option_not_the_file() -> None:
    result = invoke("shapes", "seed_rf", "--input", "1x2147483649x1")
    assert result.exit_code == 2 and result.stderr.startswith("--input:1:1: error: input 'input' 1x2147483649x1")


def test_yaml_suffix_in_capitals_is_yaml(tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "SPEC.YAML"
    spec.write_text("input: 3x8x8\nlayers: [relu]\n")
    assert invoke("shapes", str(spec), "-f", "csv").stdout == "name,type,inputs,shape\nrelu_1,relu,input,3x8x8\n"
    assert invoke("check", str(tmp_path)).stdout.endswith("1 spec(s) checked: 0 error(s), 0 warning(s)\n")


def test_a_pixel_off_the_map_says_so() -> None:
    result = invoke("map", "seed_rf", "--layer", "conv2", "--pixel", "5,5")
    assert (result.exit_code, result.stderr) == (2, "error: 5,5 is not an input pixel: the map is 5x5\n")


def test_an_inline_disable_of_no_rule_is_a_warning(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "s.net").write_text("input 3x8x8\nconv out=1 k=3 s=2  # netcalc: disable=stride-drops-input,bogus\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "s.net")
    assert result.stdout == ("s.net:2:21: warning: no rule 'bogus' to disable [unknown-rule]\n"
                             "1 spec(s) checked: 0 error(s), 1 warning(s)\n")


@pytest.mark.parametrize("name, text", [
    ("spec.txt", "input: 3x8x8\nlayers: [relu]\n"),
    ("spec.txt", "input 3x8x8\nrelu\n"),
    ("63", "input: 3x8x8\nlayers: [relu]\n"),  # /dev/fd/63, as <(generate-spec) names it
])
def test_a_spec_without_a_known_suffix_is_read_in_the_syntax_it_is_written_in(name: str, text: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / name
    spec.write_text(text)
    assert invoke("shapes", str(spec), "-f", "csv").stdout == "name,type,inputs,shape\nrelu_1,relu,input,3x8x8\n"


def test_control_characters_in_messages_are_escaped() -> None:
    (message,) = [d.message for d in text_spec("input 3x8x8\nre\x00lu\n").diagnostics]
    assert message == "unknown layer type 're\\x00lu'"


@pytest.mark.parametrize("value, written", [(None, "null"), (True, "true"), ((5, 3), "5x3"), ([1, (0, 1)], "[1, 0x1]"),
                                            ("same", "'same'"), (1.5, "1.5")])
def test_messages_quote_values_as_a_spec_writes_them(value: object, written: str) -> None:
    from netcalc.core.ops.registry import as_written

    assert as_written(value) == written


def test_rf_refuses_back_to_front_options_front_to_back() -> None:
    result = invoke("rf", "seed_rf", "--layer", "conv1")
    assert (result.exit_code, result.stderr) == (
        2, "error: --layer and --size go with --from-back (front to back, every layer is shown)\n")


def test_a_spec_past_the_size_bound_is_refused_unread(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from netcalc.core.parse import source

    monkeypatch.setattr(source, "MAX_SOURCE_BYTES", 2**20)  # the bound is 256 MiB; 1 MiB shows the rule
    spec = tmp_path / "big.net"
    spec.write_text("input 3x8x8\n" + "relu\n" * 2**18)  # 1.25 MiB
    result = invoke("shapes", str(spec))
    assert (result.exit_code, result.stderr) == (2, f"{spec}:1:1: error: the file is larger than 1 MiB [too-large]\n")


def test_a_spec_name_too_long_for_the_file_system_is_a_missing_spec() -> None:
    from typer.testing import CliRunner

    from netcalc.cli.app import app

    result = CliRunner().invoke(app, ["summary", "a" * 5000])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no spec file 'aaaa") and "File name too long" in result.stderr
