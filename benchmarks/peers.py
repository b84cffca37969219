"""Peer benchmark: netcalc against torchinfo's `summary` and fvcore's `FlopCountAnalysis` on
the same networks, each run as a whole process (import, build and count included, as a user
pays it), in the same run. Prints each tool's best time, its ratio to netcalc, and each
tool's parameters and MACs beside netcalc's. Asserts nothing.

The peers are benchmark-only dependencies: pip install torch==2.13.0 torchinfo fvcore

    python benchmarks/peers.py [--repeat 3]
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from scale import setup, timed  # shared with the scale benchmark (this folder is on the path when run)

SPECS = ["resnet50", "vgg16", "mobilenet_v2", "conv_stack_1000"]
STACK = "input 8x32x32\n" + "conv out=8 k=3 p=1\n" * 1000

PEER = '''
import json, sys, torch
sys.path.insert(0, {folder!r})
from {module} import {cls} as Model
model = Model().eval()
inputs = tuple(torch.rand(1, *shape) for shape in {shapes!r})
params = sum(p.numel() for p in model.parameters())
'''
TORCHINFO = PEER + '''
from torchinfo import summary
stats = summary(model, input_data=list(inputs), verbose=0)
print(json.dumps({{"params": stats.total_params, "macs": stats.total_mult_adds}}))
'''
FVCORE = PEER + '''
from fvcore.nn import FlopCountAnalysis
with torch.no_grad():
    macs = FlopCountAnalysis(model, inputs).unsupported_ops_warnings(False).uncalled_modules_warnings(False).total()
print(json.dumps({{"params": params, "macs": macs}}))
'''


def main() -> None:
    repeat, netcalc = setup(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "conv_stack_1000.net").write_text(STACK)
        print(f"{'spec':16} {'tool':10} {'time':>8} {'ratio':>7} {'params':>14} {'MACs':>16}")
        for name in SPECS:
            spec = str(Path(folder) / "conv_stack_1000.net") if name == "conv_stack_1000" else name
            seconds, out = timed([netcalc, "summary", spec, "--format", "json"], repeat)
            doc = json.loads(out)
            totals = doc["totals"]
            print(f"{name:16} {'netcalc':10} {seconds:8.3f} {1:7.1f} {totals['params']:>14,} {totals['macs']:>16,}")
            module = f"model_{name}"
            code = subprocess.run(
                [netcalc, "export", spec, "--to", "torch"], check=True, capture_output=True, text=True
            ).stdout
            (Path(folder) / f"{module}.py").write_text(code)
            cls = re.search(r"model = (\w+)\(\)", code).group(1)  # the class the file's __main__ runs
            shapes = [tuple(v) for v in doc["input"].values()]
            for tool, template in (("torchinfo", TORCHINFO), ("fvcore", FVCORE)):
                script = template.format(folder=folder, module=module, cls=cls, shapes=shapes)
                try:
                    peer, out = timed([sys.executable, "-c", script], repeat)
                except subprocess.CalledProcessError as exc:
                    print(f"{name:16} {tool:10} failed: {exc.stderr.strip().splitlines()[-1]}")
                    continue
                figures = json.loads(out.strip().splitlines()[-1])
                ratio = peer / seconds
                print(f"{name:16} {tool:10} {peer:8.3f} {ratio:7.1f} {figures['params']:>14,} {figures['macs']:>16,}")


if __name__ == "__main__":
    main()
