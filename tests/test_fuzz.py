"""Fuzzing: seeded mutations of the built-in specs and the op cases. Whatever the mutation,
netcalc answers (a report, or positioned errors), never raises, never hangs, and `-o` never
leaves a partial file.

The suite runs FUZZ_SPECS mutations (seeded, the same every run); for more:

    python tests/test_fuzz.py --count 200000 --seed 7
"""

from __future__ import annotations

import random
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from netcalc.core.api import analyze_source, builtin_specs, load
from netcalc.core.checks import run_checks

from helpers import case_spec, op_cases

FUZZ_SPECS = 10_000
HANG_SECONDS = 20  # per spec: a guard against hangs, far above any real spec's time
# built-ins small enough to mutate thousands of times in CI time (unet's YAML is slower)
SEEDS = ("seed_rf", "seed_deconv", "alexnet", "vgg16", "resnet18", "mobilenet_v2", "tf-slim/vgg_16")
HOSTILE = ["[", "]", "(", ")", "{", "}", "$", "=", ",", ":", "#", "-", "*", "&", "!", "|", ">", "'", '"', "\t",
           "\n", "\n  ", "x", "0", "-1", "99999999999999999999", "1e308", "nan", "$in", "$i", "//", "**", "é",
           "\u2028", "\x00", "from=", "name=", "repeat=", "if=", "- ", "&a ", "*a", "!!python/object "]


def sources() -> list[tuple[str, str]]:
    """(file name, text) of every spec the fuzzer mutates."""
    found = []
    for name in SEEDS:
        text, file, _ = load(name)
        found.append((Path(file).name, text))
    found += [(f"{op}-{case_id}.net", case_spec(case)) for op, case_id, case in op_cases()]
    return found


def mutate(text: str, rng: random.Random) -> str:
    """One to three edits: insert, delete, replace a token or a number, duplicate or drop
    a line, cut the file short."""
    for _ in range(rng.randint(1, 3)):
        where = rng.randrange(len(text) + 1)
        edit = rng.randrange(7)
        if edit == 0:
            text = text[:where] + rng.choice(HOSTILE) + text[where:]
        elif edit == 1:
            text = text[:where] + text[where + rng.randint(1, 8):]
        elif edit == 2:
            text = _replace_number(text, rng)
        elif edit in (3, 4):
            lines = text.splitlines(keepends=True) or [""]
            i = rng.randrange(len(lines))
            lines[i:i + 1] = [lines[i]] * (2 if edit == 3 else 0)
            text = "".join(lines)
        elif edit == 5:
            text = text[:where]
        else:
            text = text[:where] + rng.choice(HOSTILE) * rng.randint(2, 200) + text[where:]
    return text


def _replace_number(text: str, rng: random.Random) -> str:
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    if not digits:
        return text
    i = rng.choice(digits)
    return text[:i] + rng.choice(["0", "1", "-3", "2147483648", "9" * 30, "1.5", "07"]) + text[i + 1:]


def mutations(count: int, seed: int) -> Iterator[tuple[str, str]]:
    rng = random.Random(seed)
    pool = sources()
    for _ in range(count):
        file, text = rng.choice(pool)
        yield file, mutate(text, rng)


class Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Hang


def outcome(file: str, text: str) -> str:
    """'ok', 'findings' or 'invalid', as `netcalc check` would exit; raises on a bug."""
    report = analyze_source(text, file, "fuzz")
    if not report.ok:
        assert all(d.span.line >= 1 and d.span.col >= 1 for d in report.diagnostics)
        return "invalid"
    report.as_records()
    found = run_checks(report, dict(report.graph.checks))
    return "findings" if any(d.severity.value == "error" for d in found) else "ok"


def run(count: int, seed: int) -> dict[str, int]:
    """Outcome -> how many; raises AssertionError naming the first spec that crashed or hung."""
    counts = {"ok": 0, "findings": 0, "invalid": 0}
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for n, (file, text) in enumerate(mutations(count, seed)):
            signal.alarm(HANG_SECONDS)
            try:
                counts[outcome(file, text)] += 1
            except Hang:
                raise AssertionError(f"mutation {n} (seed {seed}) of {file} hung:\n{text[:2000]}") from None
            except Exception as exc:
                raise AssertionError(f"mutation {n} (seed {seed}) of {file} raised {exc!r}:\n{text[:2000]}") from exc
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    return counts


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="the hang guard needs SIGALRM")
def test_ten_thousand_mutated_specs_never_crash_or_hang() -> None:
    counts = run(FUZZ_SPECS, seed=2026)
    assert sum(counts.values()) == FUZZ_SPECS
    # the mutations reach every outcome: the fuzzer is not only feeding the parser garbage
    assert all(counts.values()), counts


def test_output_file_is_never_partial(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`-o` writes the whole output or nothing: for a spec that fails, no file appears."""
    from typer.testing import CliRunner

    from netcalc.cli.app import app

    runner = CliRunner()
    for n, (file, text) in enumerate(mutations(200, seed=11)):
        spec = tmp_path / f"{n}-{file}"
        spec.write_text(text)
        for args in (["convert", str(spec), "--to", "yaml"], ["export", str(spec), "--to", "torch"]):
            out = tmp_path / f"{n}-out"
            result = runner.invoke(app, [*args, "-o", str(out)])
            assert result.exit_code in (0, 2), (args, result.output, text)
            assert out.exists() == (result.exit_code == 0), (args, result.output)
            if out.exists():
                out.unlink()


def test_every_source_is_valid_before_mutation() -> None:
    assert {name for name in SEEDS} <= set(builtin_specs())
    for file, text in sources():
        assert outcome(file, text) in ("ok", "findings", "invalid")


if __name__ == "__main__":
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    start = time.perf_counter()
    totals = run(options.count, options.seed)
    seconds = time.perf_counter() - start
    print(f"{options.count:,} mutated specs in {seconds:.1f} s ({options.count / seconds:,.0f}/s): {totals}")
    sys.exit(0)
