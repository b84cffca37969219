"""Every diagnostic id netcalc reports, once: its default severity, what it finds, and for
the rules `check` lets a configuration silence or re-grade, the documentation `netcalc
explain` prints (a failing and a passing spec, which the tests run).

Ids are stable and kebab-case; a test requires every id the code reports to be here, and
every id here to be reported somewhere.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DiagnosticId:
    id: str
    severity: str  # "error" or "warning", before any configuration
    summary: str
    doc: str = ""  # for the rules: the explanation with a failing and a passing spec

    @property
    def is_rule(self) -> bool:
        """A rule `check` configures (disable, severity): it has its documentation."""
        return bool(self.doc)


def _rule(id: str, severity: str, doc: str) -> DiagnosticId:
    summary = doc.split("\n\n")[0].split(": ", 1)[1].replace("\n", " ")
    return DiagnosticId(id, severity, summary, doc)


_RULES = (
    _rule("stride-drops-input", "warning", """\
stride-drops-input: a strided window never reads the last rows or columns of its input.

When `(n + padding - k_eff)` is not a multiple of the stride, the last windows stop short:
the rows after them are computed by earlier layers and then ignored (the case the seed
notes warn about). Counted on the real input, not its padding, exactly through each op's
window.

Failing (the last row and column of 8 are never read):

    input 1x8x8
    conv out=1 k=3 s=2

Passing (windows at 0, 2, 4, 6 cover all 9 rows):

    input 1x9x9
    conv out=1 k=3 s=2
"""),
    _rule("kernel-exceeds-input", "error", """\
kernel-exceeds-input: a window larger than its padded input.

PyTorch refuses such a layer, so netcalc reports it as an error of the spec itself
(exit status 2), at the layer, with the sizes.

Failing:

    input 3x8x8
    conv out=4 k=9

Passing:

    input 3x8x8
    conv out=4 k=9 p=1
"""),
    _rule("misaligned-merge", "warning", """\
misaligned-merge: branches merged whose units are not centred on the same input pixels.

At add, mul or concat, each branch's receptive field has a jump and a start (the centre of
its first unit). When they differ, the merge adds up values that look at different places
of the image; netcalc names the branches and the offset in input pixels.

Failing (a 2x2 pool is centred half a pixel off a padded 3x3 stride-2 conv):

    input 4x8x8
    maxpool k=2 name=a
    conv out=4 k=3 s=2 p=1 from=input name=b
    add from=a,b

Passing:

    input 4x8x8
    conv out=4 k=3 s=2 p=1 name=a
    conv out=4 k=3 s=2 p=1 from=input name=b
    add from=a,b
"""),
    _rule("linear-on-spatial", "warning", """\
linear-on-spatial: a linear layer applied to a map's spatial axis.

PyTorch's Linear acts on the last axis only, so on a C x H x W map it mixes the columns of
each row: almost always a missing `flatten` (or a `gap`) before the classifier. A linear
layer on features is not flagged: a token's D (after an embedding, or a permute that puts
positions first) or a channels-last map's C (ConvNeXt's block); which axes hold positions
is followed from the input (docs/receptive-fields.md).

Failing:

    input 512x7x7
    fc out=1000

Passing:

    input 512x7x7
    flatten
    fc out=1000
"""),
    _rule("unused-layer", "warning", """\
unused-layer: a layer whose output reaches no output of the network.

A layer inside a block is reported at the line that uses the block at top level (each use
has its own line, and the layer may be dead in one use only), naming the layer
(`layer1.0.b`) and its line in the block.

Failing (branch `a` is computed and thrown away):

    input 3x8x8
    conv out=3 k=1 name=a
    conv out=3 k=1 from=input name=b

Passing:

    input 3x8x8
    conv out=3 k=1 name=a
    conv out=3 k=1 from=input name=b
    add from=a,b
"""),
    _rule("transposed-size-mismatch", "error", """\
transposed-size-mismatch: a decoder's transposed convolution whose output cannot match
the skip it is merged with.

(n - 1)*s - 2p + d*(k-1) + op + 1 loses the remainder a strided encoder dropped; the
output padding `op` puts it back. netcalc names the `op` that makes the sizes equal, or
says that none can.

Failing (8 -> 4 on the way down, 4 -> 7 on the way up; op=1 gives 8):

    input 8x8x8
    conv out=8 k=3 s=2 p=1
    convT out=8 k=3 s=2 p=1 name=up
    add from=up,input

Passing:

    input 8x8x8
    conv out=8 k=3 s=2 p=1
    convT out=8 k=3 s=2 p=1 op=1 name=up
    add from=up,input
"""),
    _rule("budget-exceeded", "error", """\
budget-exceeded: the network is over a budget of the spec's `check` section or of the
command line (which wins): `max_params`, `max_macs`, `max_flops`, `max_activation_bytes`
(batch 1, float32), `max_train_memory` (`summary --train`'s total: batch 1, float32,
Adam), or under `min_rf` (the output layer's receptive field, every axis).
The message gives the figure and the limit.

Failing:

    input 3x224x224
    conv out=64 k=7 s=2 p=3
    check max_params=5K

Passing:

    input 3x224x224
    conv out=64 k=7 s=2 p=3
    check max_params=10K
"""),
    _rule("unexpected-output", "error", """\
unexpected-output: the network's output shape is not the one the `check` section (or
--expect-output) expects.

Failing:

    input 3x32x32
    gap
    flatten
    check output=10

Passing:

    input 3x32x32
    gap
    flatten
    check output=3
"""),
    _rule("batch-in-input", "warning", """\
batch-in-input: an input shape that starts with the batch axis.

netcalc's shapes leave the batch axis out (`--batch N` sets it), so `1x3x224x224`, as
torchinfo's `input_size` is typed, declares a 3-D volume of one channel, not an image.

Failing:

    input 1x3x224x224
    conv out=64 k=7 s=2 p=3

Passing:

    input 3x224x224
    conv out=64 k=7 s=2 p=3
"""),
)

# the errors a spec can have, and the warnings no configuration governs: id -> what it finds
_SPEC_ERRORS = {
    "yaml-syntax": "the file is not valid YAML (or holds a character YAML refuses)",
    "encoding": "the file is not UTF-8 text",
    "unsafe-tag": "a YAML tag other than the standard scalar, list and mapping ones (`!!python/...`)",
    "syntax": "a line or node of the wrong form: `key=value` expected, a mapping where a list is, spaces around `=`",
    "unknown-key": "a top-level or block key the format does not have",
    "duplicate-key": "a key, header, input or check given twice",
    "invalid-value": "a value that cannot be read: a word for a number, a number past 2^63, a list nested too deep",
    "invalid-name": "a layer or block name that is not letters, digits and _",
    "invalid-input": "an input shape that is not positive integers, at most 4 axes, with a known `:dtype`",
    "missing-input": "no input shape, in the spec or on the command line",
    "unknown-check": "a `check` key that is no budget",
    "unknown-type": "a layer type that is neither an op nor a block",
    "unknown-argument": "an argument the op or block does not have",
    "missing-argument": "an argument the op or block needs",
    "invalid-argument": "an argument of the wrong kind or out of range for its op",
    "duplicate-argument": "an argument given twice (or under two of its names)",
    "duplicate-name": "a layer name used twice in one scope",
    "duplicate-block": "a block defined twice, or named like a layer type",
    "empty-block": "a block with no layers",
    "unknown-reference": "`from` names no earlier layer or input, or reaches before the first layer",
    "invalid-reference": "a `from` item that is neither a name nor -N",
    "forward-reference": "a layer reading a later one (a cycle)",
    "block-cycle": "a block that uses itself",
    "wrong-input-count": "a layer or block given more or fewer inputs than it takes",
    "invalid-share": "`share=` naming no earlier layer, or one of another type or arguments (a tied head: out = num)",
    "invalid-expression": "a `$` expression that cannot be evaluated",
    "too-large": "past a bound: layers, YAML values, a tensor's axis or elements, the file's size",
    "too-deep": "nested past a bound: YAML, expressions, blocks",
    "no-layers": "the spec has no layers, or `if` drops them all",
    "invalid-rank": "an input with the wrong number of axes for its op",
    "groups-mismatch": "groups that do not divide the channels",
    "non-positive-size": "an output size below 1",
    "shape-mismatch": "inputs whose shapes the op cannot combine",
    "wrong-dtype": "integers (token ids, a mask) where the op computes on floats, or floats where it reads indices",
    "onnx-not-installed": "an ONNX model given without the onnx package (pip install \"netcalc[onnx]\")",
    "invalid-onnx": "a file that is no readable ONNX model, or a node reading a value nothing gives",
    "unknown-operator": "an ONNX operator netcalc does not map onto its layers (the node, its type and index)",
    "unsupported-node": "an ONNX node of a mapped operator whose attributes or inputs have no exact layer",
    "symbolic-dimension": "an ONNX input of a symbolic size (`sequence`) not given by --input",
    "invalid-config": "a configuration (`.netcalc.yaml`, `[tool.netcalc]`, an inline disable) netcalc cannot follow",
    "internal-error": "a bug in netcalc, reported by `check` for the file that triggered it",
}
_OTHER_WARNINGS = {
    "unknown-rule": "an inline `# netcalc: disable=` names no rule: it silences nothing",
    "allowed-unknown-operator": "an ONNX operator netcalc does not map, read as identity with --allow-unknown "
                                "(the file declares its output with its input's shape): its costs are not counted",
}

IDS: dict[str, DiagnosticId] = {
    **{d.id: d for d in _RULES},
    **{id: DiagnosticId(id, "error", summary) for id, summary in _SPEC_ERRORS.items()},
    **{id: DiagnosticId(id, "warning", summary) for id, summary in _OTHER_WARNINGS.items()},
}
RULES: dict[str, DiagnosticId] = {d.id: d for d in _RULES}
