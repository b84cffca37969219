"""Scale benchmark: `netcalc summary --format json` as a whole process on generated chains,
branchy DAGs and transformer stacks of 1,000, 10,000 and 100,000 layers (and with --train,
the saved-tensor pass, at 100,000); the default table against csv on the
100,000-layer chain; the refusal of 50 MB specs past the layer limit (time and peak
memory); and `netcalc --help` against `python -c "import typer"`. Prints figures; asserts
nothing.

    python benchmarks/scale.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = (1_000, 10_000, 100_000)


def chain(n: int) -> str:
    return "input 8x32x32\n" + "".join("conv out=8 k=3 p=1\n" if i % 2 == 0 else "relu\n" for i in range(n))


def branchy(n: int) -> str:
    """Residual units of four layers: conv, bn, relu and an add that reads the unit's input."""
    units = n // 4
    return (
        "input: 16x16x16\n"
        "blocks:\n"
        "  unit:\n"
        "    layers:\n"
        "      - conv out=16 k=3 p=1\n"
        "      - bn\n"
        "      - relu\n"
        "      - {add: {}, from: [in, -1]}\n"
        "layers:\n"
        + "".join(f"  - unit name=u{i}\n" for i in range(units))
    )


def transformer(n: int) -> str:
    """Pre-norm transformer layers of fourteen layers each (GPT-2's shape, small): norms,
    q/k/v from one linear, causal attention, the MLP and two residual adds, on 64 tokens."""
    units = n // 14
    return (
        "input: 64:int64\n"
        "blocks:\n"
        "  layer:\n"
        "    layers:\n"
        "      - ln name=ln_1\n"
        "      - linear out=96 name=c_attn\n"
        "      - {slice: {dim: -1, end: 32}, name: q}\n"
        "      - {slice: {dim: -1, start: 32, end: 64}, from: c_attn, name: k}\n"
        "      - {slice: {dim: -1, start: 64}, from: c_attn, name: v}\n"
        "      - {sdpa: {heads: 4, causal: true}, from: [q, k, v]}\n"
        "      - linear out=32 name=c_proj\n"
        "      - {add: {}, from: [in, c_proj], name: x}\n"
        "      - ln name=ln_2\n"
        "      - linear out=128\n"
        "      - gelu approximate=tanh\n"
        "      - linear out=32\n"
        "      - dropout p=0.1\n"
        "      - {add: {}, from: [x, -1]}\n"
        "layers:\n"
        "  - embedding num=1000 dim=32 name=wte\n"
        + "".join(f"  - layer name=h{i}\n" for i in range(units))
    )


def timed(command: list[str], repeat: int) -> tuple[float, str]:
    """The best wall time of `repeat` runs of a whole process, and what it printed."""
    best, out = float("inf"), ""
    for _ in range(repeat):
        start = time.perf_counter()
        result = subprocess.run(command, check=True, capture_output=True, text=True)
        best, out = min(best, time.perf_counter() - start), result.stdout
    return best, out


def measured(command: list[str]) -> tuple[float, int, int]:
    """Wall time, peak resident memory (KB) and exit status of one whole process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status)


def refusals(netcalc: str, folder: Path) -> None:
    """50 MB of `relu` layers, past the 1,000,000-layer limit: refused before expansion."""
    specs = {"text": ("big.net", "input 3x8x8\n" + "relu\n" * 10_000_000),
             "yaml": ("big.yaml", "input: 3x8x8\nlayers:\n" + "  - relu\n" * 5_500_000)}
    for kind, (name, text) in specs.items():
        spec = folder / name
        spec.write_text(text)
        seconds, peak, status = measured([netcalc, "shapes", str(spec), "--format", "csv"])
        print(f"50 MB {kind:4} spec refused (exit {status}): {seconds:5.2f} s, peak {peak / 1024:,.0f} MB")
        spec.unlink()


def setup(doc: str | None) -> tuple[int, str]:
    """The benchmarks' command line (--repeat) and the netcalc to time."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is kept")
    # The netcalc of this interpreter's environment, as the peers run on this interpreter: a PATH
    # lookup may find a shim (pyenv's is a shell script) that would be timed with it.
    beside = Path(sys.executable).with_name("netcalc")
    netcalc = str(beside) if beside.exists() else shutil.which("netcalc")
    if netcalc is None:
        sys.exit("netcalc is not installed: pip install . first")
    return parser.parse_args().repeat, netcalc


def main() -> None:
    repeat, netcalc = setup(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        results: dict[tuple[str, int], float] = {}
        for kind, make, suffix in (("chain", chain, ".net"), ("branchy", branchy, ".yaml"),
                                   ("transformer", transformer, ".yaml")):
            for n in SIZES:
                spec = Path(folder) / f"{kind}{n}{suffix}"
                spec.write_text(make(n))
                results[kind, n] = timed([netcalc, "summary", str(spec), "--format", "json"], repeat)[0]
                print(f"{kind:11} {n:>7,} layers: {results[kind, n]:7.2f} s")
        for kind in ("chain", "branchy", "transformer"):
            print(f"{kind:11} 100k/10k ratio: {results[kind, 100_000] / results[kind, 10_000]:.1f} (linear: 10)")
        for kind, suffix in (("chain", ".net"), ("branchy", ".yaml"), ("transformer", ".yaml")):
            spec = str(Path(folder) / f"{kind}100000{suffix}")
            train = timed([netcalc, "summary", spec, "--format", "json", "--train"], repeat)[0]
            print(f"{kind:11} 100,000 layers --train: {train:7.2f} s: ratio {train / results[kind, 100_000]:.2f}")
        chain100k = str(Path(folder) / "chain100000.net")
        table = timed([netcalc, "summary", chain100k], repeat)[0]
        csv = timed([netcalc, "summary", chain100k, "--format", "csv"], repeat)[0]
        print(f"chain    100,000 layers: table {table:.2f} s, csv {csv:.2f} s: ratio {table / csv:.2f}")
        refusals(netcalc, Path(folder))
    typer_time = timed([sys.executable, "-c", "import typer"], repeat * 3)[0]
    help_time = timed([netcalc, "--help"], repeat * 3)[0]
    print(f"import typer {typer_time:.3f} s, netcalc --help {help_time:.3f} s: ratio {help_time / typer_time:.2f}")


if __name__ == "__main__":
    main()
