"""Receptive fields against PyTorch's gradients, layer by layer: the field size (largest
over a period of neighbouring units) and the jump (the field's shift over that period)."""

from __future__ import annotations

import pytest

from netcalc.core.analysis.receptive_field import period
from netcalc.core.api import analyze_source

from helpers import TORCH_COMPARED, case_spec, op_cases, text_spec

torch = pytest.importorskip("torch")
from torch_field import size_and_jump  # noqa: E402

pytestmark = pytest.mark.torch

SPECS = {
    "seed_rf": "input 1x33x33\nconv out=1 k=3 s=2 p=1 name=conv1\nconv out=1 k=3 s=2 p=1 name=conv2\n",
    "seed_deconv": "input 2x41x41\nconv out=4 k=3 s=1 p=1\nconv out=8 k=3 s=1 p=1 d=3\nconvT out=16 k=3 s=2 p=1 op=0\n",
    "padding": "input 1x96x96\nconv out=2 k=3 d=2 p=same\nconv out=2 k=4 s=2 p=same\nmaxpool k=3 s=2 p=1 ceil=true\n"
               "conv out=2 k=3 p=[[2,0],[0,2]]\npad p=[[1,2],[0,1]]\nconv out=2 k=3 s=2\n",
    "decoder": "input 1x48x48\nconv out=2 k=3 s=2 p=1\nconv out=2 k=3 s=2 p=1\nconvT out=2 k=3 s=2 p=1 op=1\n"
               "upsample scale=2 mode=bilinear\nconv out=2 k=3 p=1\nconvT out=2 k=4 s=2 p=1\nconv out=2 k=3 p=1\n",
    "resample": "input 1x24x24\nupsample scale=1.5\nconv out=2 k=3 p=1\nupsample scale=2 mode=nearest\n"
                "conv out=2 k=3 p=1\navgpool k=2\nconv out=4 k=3 p=1\npixelshuffle r=2\nconv out=1 k=3 p=1\n",
    "adaptive": "input 1x64x64\nconv out=2 k=3 p=1\nadaptiveavgpool out=12\nconv out=2 k=3 p=1\n",
    "mini_unet": """\
input 2x64x64
block double out
  conv out=$out k=3 p=1
  relu
  conv out=$out k=3 p=1
block up out inputs=x,skip
  convT out=$in//2 k=2 s=2 name=up
  concat from=skip,up
  double out=$out
double out=4 name=inc
maxpool k=2 name=p1
double out=8 name=d1
maxpool k=2 name=p2
double out=16 name=d2
up out=8 from=d2,d1 name=u1
up out=4 from=u1,inc name=u2
conv out=1 k=1 name=outc
""",
}


def units_per_period(report, name: str) -> int:  # type: ignore[no-untyped-def]
    """Enough units that every window behind the layer has gone through a whole period."""
    index = next(i for i, layer in enumerate(report.graph.layers) if layer.name == name)
    return max(2, period(report.fields, name, report.graph, index))


def layers_to_check(report):  # type: ignore[no-untyped-def]
    for layer in report.graph.layers:
        f, shape = report.fields[layer.name], report.shapes[layer.name]
        if f is not None and f.local and shape.rank == 3:
            yield layer.name


def case_ids():
    for spec_name, text in SPECS.items():
        report = text_spec(text)
        assert report.ok, [str(d) for d in report.diagnostics]
        for name in layers_to_check(report):
            yield spec_name, name


CASES = list(case_ids())


def assert_field_matches(report, layer: str, skeleton: bool = False) -> None:  # type: ignore[no-untyped-def]
    shape = report.shapes[layer]
    step = units_per_period(report, layer)
    first = max(0, (shape.spatial[0] - step) // 2)
    assert first + step < shape.spatial[0], "the map is too small to measure a whole period"
    sizes, jumps, clipped = size_and_jump(report.graph, dict(report.shapes), layer, first, step, skeleton)
    assert not clipped, "the field reaches the border: use a larger input"
    assert (list(report.fields[layer].size), list(report.fields[layer].jump)) == (sizes, jumps)
    TORCH_COMPARED["fields"] += 1


@pytest.mark.parametrize("spec_name, layer", CASES, ids=[f"{s}:{item}" for s, item in CASES])
def test_field_matches_torch_gradients(spec_name: str, layer: str) -> None:
    assert_field_matches(analyze_source(SPECS[spec_name], "spec.net", spec_name), layer)


# built-in specs at inputs large enough that no measured field reaches the border
BUILTIN_INPUTS = {
    "alexnet": "3x799x799", "mobilenet_v2": "3x768x768", "resnet18": "3x768x768", "resnet34": "3x1024x1024",
    "resnet50": "3x1024x1024", "seed_deconv": "2x48x48", "seed_rf": "1x33x33", "unet": "3x512x512",
    "vgg16": "3x448x448", "tf-slim/alexnet_v2": "3x512x512", "tf-slim/mobilenet_v1": "3x768x768",
    "tf-slim/resnet_v1_50": "3x1024x1024", "tf-slim/vgg_16": "3x512x512",
}
# Not measured: efficientnet_b0 and mobilenet_v3_large (a squeeze-excitation gate makes the
# gradient reach the whole input, while netcalc reports the local path's field), convnext_tiny
# (channels-last H x W x C maps and a LayerNorm over one skeleton channel, whose gradient is 0),
# shufflenet_v2_x1_0 (the skeleton's one channel leaves the second half of the split empty)
# and vit_b_16 (global after the first attention).


def changing_layers(report):  # type: ignore[no-untyped-def]
    """Layers whose field differs from their first input's: elementwise layers repeat it."""
    for name in layers_to_check(report):
        layer = next(item for item in report.graph.layers if item.name == name)
        if len(layer.inputs) > 1 or report.fields[name] != report.fields.get(layer.inputs[0]):
            yield name


@pytest.mark.parametrize("name", sorted(BUILTIN_INPUTS))
def test_builtin_spec_fields_match_torch_gradients(name: str) -> None:
    from netcalc.core.api import analyze

    report = analyze(name, [BUILTIN_INPUTS[name]])
    assert report.ok
    checked = 0
    for layer in changing_layers(report):
        assert_field_matches(report, layer, skeleton=True)
        checked += 1
    assert checked > 0


def enlarged(case: dict) -> dict:
    """The case with every spatial axis a multiple of itself of at least 40, so that the
    measured units lie far from the border (the fields the cases state do not depend on
    the size, and a multiple keeps what divides it)."""
    def larger(shape: str) -> str:
        channels, *spatial = str(shape).split("x")
        return "x".join([channels, *(str(int(n) * -(-40 // int(n))) for n in spatial)])

    return {**case, "input": larger(case["input"])}


# one-input cases: a merge's other inputs lie outside the frame that fields are measured in
FIELD_CASES = [(op, cid, case) for op, cid, case in op_cases() if "rf" in case and "input" in case]


@pytest.mark.parametrize("op, case_id, case", FIELD_CASES, ids=[f"{op}:{cid}" for op, cid, _ in FIELD_CASES])
def test_op_case_fields_match_torch_gradients(op: str, case_id: str, case: dict) -> None:
    report = text_spec(case_spec(enlarged(case)))
    layer = report.graph.layers[-1].name
    step = units_per_period(report, layer)
    first = (report.shapes[layer].spatial[0] - step) // 2
    sizes, jumps, clipped = size_and_jump(report.graph, dict(report.shapes), layer, first, step)
    assert not clipped
    assert ("x".join(map(str, sizes)), "x".join(map(str, jumps))) == (str(case["rf"]), str(case["jump"]))
    TORCH_COMPARED["fields"] += 1
