"""`check`'s machine formats escape what their readers would misread (GitHub's workflow
commands, SARIF's URIs), and `human` is in colour in a terminal only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netcalc.cli.app import app
from netcalc.cli.render.diagnostics import artifact_uri, escape_data, escape_property

runner = CliRunner()
WARNS = "input 1x8x8\nconv out=1 k=3 s=2\n"  # stride-drops-input on line 2
PIPED = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "NO_COLOR": None}
YELLOW = "\x1b[33mwarning"


@pytest.mark.parametrize(("text", "data", "prop"), [
    ("specs/a.net", "specs/a.net", "specs/a.net"),
    ("C:/specs/a.net", "C:/specs/a.net", "C%3A/specs/a.net"),
    ("a,b.net", "a,b.net", "a%2Cb.net"),
    ("100%.net", "100%25.net", "100%25.net"),
    ("%3A", "%253A", "%253A"),  # % first, so that an escape is not escaped again
    ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
    ("x::y", "x::y", "x%3A%3Ay"),
])
def test_github_escaping(text: str, data: str, prop: str) -> None:
    assert (escape_data(text), escape_property(text)) == (data, prop)


def test_github_file_property_is_escaped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a,b:c%.net").write_text(WARNS)
    result = runner.invoke(app, ["check", "a,b:c%.net", "-f", "github"])
    assert result.stdout.startswith("::warning file=a%2Cb%3Ac%25.net,line=2,col=1,title=stride-drops-input::")


@pytest.mark.parametrize(("file", "uri"), [
    ("specs/a.net", "specs/a.net"),
    ("specs/my net.yaml", "specs/my%20net.yaml"),
    ("a#b%.net", "a%23b%25.net"),
    ("a:b.net", "a%3Ab.net"),  # not a scheme
    ("dir/ü.net", "dir/%C3%BC.net"),
    ("/srv/specs/my net.net", "file:///srv/specs/my%20net.net"),
])
def test_sarif_uri(file: str, uri: str) -> None:
    if sys.platform == "win32" and file.startswith("/"):
        pytest.skip("a POSIX absolute path")
    assert artifact_uri(file) == uri


def test_sarif_uri_of_a_checked_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("my net#1.net").write_text(WARNS)
    result = runner.invoke(app, ["check", "my net#1.net", "-f", "sarif"])
    location = json.loads(result.stdout)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "my%20net%231.net"


@pytest.mark.parametrize(("env", "coloured"), [
    (PIPED, False),
    ({**PIPED, "FORCE_COLOR": "1", "TERM": "xterm"}, True),
    ({**PIPED, "TTY_COMPATIBLE": "1", "TERM": "xterm"}, True),
    ({**PIPED, "FORCE_COLOR": "1", "TERM": "xterm", "NO_COLOR": "1"}, False),
    ({**PIPED, "FORCE_COLOR": "1", "TERM": "dumb"}, False),
])
def test_human_colour_follows_the_terminal(tmp_path: Path, env: dict[str, str | None], coloured: bool) -> None:
    spec = tmp_path / "w.net"
    spec.write_text(WARNS)
    out = runner.invoke(app, ["check", str(spec), "-f", "human"], env=env).stdout
    assert (YELLOW in out) is coloured
    assert "warning" in out and "stride-drops-input" in out


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
def test_human_is_in_colour_in_a_real_terminal(tmp_path: Path) -> None:
    import pty

    spec = tmp_path / "w.net"
    spec.write_text(WARNS)
    env = {k: v for k, v in os.environ.items() if k not in PIPED} | {"TERM": "xterm"}
    leader, follower = pty.openpty()
    with os.fdopen(leader, "rb") as terminal:
        process = subprocess.run([sys.executable, "-m", "netcalc", "check", str(spec), "-f", "human"],
                                 stdout=follower, env=env, timeout=60)
        os.close(follower)
        out = read_all(terminal)
    assert process.returncode == 0 and YELLOW.encode() in out


def read_all(terminal) -> bytes:  # type: ignore[no-untyped-def]
    """What a pseudo-terminal holds; Linux raises EIO at its end once the writer closed."""
    chunks = []
    while True:
        try:
            chunk = terminal.read1(4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)
