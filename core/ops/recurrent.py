"""Recurrent layers: `lstm`, `gru`, `rnn` (nn.LSTM/GRU/RNN, batch_first): the output
sequence of every step.

The three differ, for counting, only in how many gates a step computes (lstm 4, gru 3,
rnn 1) and in the elementwise work that combines them, so one rule set serves all three.
Per layer and direction, with H the hidden size and r = proj if proj > 0 else H (what a
direction outputs and feeds back into itself):

    weight_ih  gates*H x in    weight_hh  gates*H x r    bias_ih, bias_hh  gates*H each
    weight_hr  proj x H        (lstm with proj only)

where `in` is the input's features for the first layer and directions*r after it.

A step reads its own input and the state the previous step left, which read the one
before: a unidirectional layer's step t reads the whole prefix 0..t, a bidirectional one
the whole sequence. Either way its output is global along the sequence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ir import Shape
from ..parse.document import MAX_LAYERS
from .registry import (
    BOOLEAN,
    INTEGER,
    POSITIVE,
    Attr,
    Attrs,
    Kind,
    OpError,
    Reach,
    Shapes,
    Weights,
    choice,
    op,
    prefix_reach,
    table,
    whole_reach,
)
from .saved import Grads, Saved, positions_first

# elementwise FLOPs per hidden unit and step beyond the gate sums, as PyTorch's cells
# (aten/src/ATen/native/RNN.cpp) compute them; each activation counts 1, as the activation ops do
_LSTM_WORK = 9  # sigmoid i, f, o and tanh g (4); c = f*c + i*g (3); h = o * tanh(c) (2)
_GRU_WORK = 7  # sigmoid r, z (2); n = tanh(.. + r * hn) (2); h = n + z * (h - n) (3)
_RNN_WORK = 1  # the nonlinearity


def _read_non_negative(value: Any) -> int:
    n: int = INTEGER.read(value)
    if n < 0:
        raise ValueError
    return n


_NON_NEGATIVE = Kind("a non-negative integer", _read_non_negative, {"type": "integer", "minimum": 0})


def _directions(a: Attrs) -> int:
    return 2 if a["bidirectional"] else 1


def _fed_back(a: Attrs) -> int:
    """r: what a direction outputs at each step and reads back at the next."""
    return a.get("proj", 0) or a["hidden"]


def _shape(a: Attrs, ins: Shapes) -> Shape:
    x = ins[0]
    if x.rank != 2:
        raise OpError("invalid-rank", f"expects a sequence L x F (length, features), got {x}")
    if a["layers"] > MAX_LAYERS:  # each is a layer of the network: the spec's own bound
        raise OpError("too-large", f"layers={a['layers']} stacks more than {MAX_LAYERS:,} layers")
    proj = a.get("proj", 0)
    if proj >= a["hidden"]:  # nn.LSTM refuses it: a projection must make the state smaller
        raise OpError("invalid-argument", f"proj={proj} must be smaller than hidden={a['hidden']}")
    return Shape((x.dims[0], _directions(a) * _fed_back(a)))


def _matrix_weights(gates: int, a: Attrs, ins: Shapes) -> int:
    """The elements of weight_ih, weight_hh and weight_hr over every layer and direction:
    each takes part in one multiply-accumulate per step, so this is also one step's MACs."""
    hidden, r, proj = a["hidden"], _fed_back(a), a.get("proj", 0)

    def per_direction(inputs: int) -> int:
        return gates * (inputs + r) * hidden + proj * hidden

    # the first layer reads the features, each later one the directions' outputs side by
    # side; in closed form, since `layers` may be as large as a spec can write
    later = per_direction(_directions(a) * r)
    return _directions(a) * (per_direction(ins[0].dims[-1]) + (a["layers"] - 1) * later)


def _params(gates: int) -> Callable[[Attrs, Shapes], Weights]:
    def count(a: Attrs, ins: Shapes) -> Weights:
        biases = 2 * gates * a["hidden"] if a["bias"] else 0
        return Weights(_matrix_weights(gates, a, ins) + a["layers"] * _directions(a) * biases)

    return count


def _macs(gates: int) -> Callable[[Attrs, Shapes, Shape], int]:
    return lambda a, ins, out: ins[0].dims[0] * _matrix_weights(gates, a, ins)


def _other_flops(gates: int, work: int) -> Callable[[Attrs, Shapes, Shape], int]:
    """Per step, layer and direction and hidden unit: the sum of the input and state
    products for each gate, the two biases for each gate, and the cell's elementwise work."""

    def count(a: Attrs, ins: Shapes, out: Shape) -> int:
        per_unit = gates + (2 * gates if a["bias"] else 0) + work
        return ins[0].dims[0] * a["layers"] * _directions(a) * a["hidden"] * per_unit

    return count


def _macs_rule(gates: int, proj: bool = False) -> str:
    if proj:
        return (f"L x per layer and direction ({gates} x (inputs + r) x hidden + proj x hidden), r = proj or hidden, "
                "inputs = features, then directions x r")
    return (f"L x per layer and direction {gates} x (inputs + hidden) x hidden, "
            "inputs = features, then directions x hidden")


def _flops_rule(gates: int, work: int, what: str) -> str:
    return (f"L x layers x directions x hidden x ({gates} (input + state products) "
            f"+ {2 * gates} if bias (the two biases) + {work} ({what}))")


def _torch(cls: str, extra: Callable[[Attrs], str]) -> Callable[[Attrs, Shapes], str]:
    """The exporter's sequence-only subclass (HEADER: forward returns the output sequence)."""
    return lambda a, ins: (
        f"{cls}({ins[0].dims[-1]}, {a['hidden']}, num_layers={a['layers']}, bias={a['bias']}, "
        f"batch_first=True, bidirectional={a['bidirectional']}{extra(a)})"
    )


_COMMON = {
    "hidden": Attr(POSITIVE, aliases=("hidden_size",)),
    "layers": Attr(POSITIVE, 1, aliases=("num_layers",)),
    "bidirectional": Attr(BOOLEAN, False),
    "bias": Attr(BOOLEAN, True),
}

_SEQUENCE = ("Input L x F, output L x (proj or hidden)*directions (the final states are not outputs). "
             "A unidirectional layer reads the whole prefix of the sequence, a bidirectional one all of it: "
             "global along the sequence.")

# what a cell keeps per step and hidden unit, beyond the state it reads: lstm its 4 gates,
# the previous cell state and tanh of the new one; gru 6 (the gates, their products); rnn
# only its new state (which the next step reads: the same tensor)
_STEP_KEPT = {4: 6, 3: 6, 1: 0}


def _saves(gates: int) -> Callable[[Attrs, Shapes, Shape, Grads], tuple[Saved, ...]]:
    """PyTorch's per-step implementation (aten/src/ATen/native/RNN.cpp; oneDNN's fused LSTM,
    the CPU default where it applies, keeps an opaque workspace instead). For the weights'
    gradients: each direction of the first layer folds the input it moved positions first
    (a copy unless it is stored so: a recurrence's output), each later layer the previous
    one's output; per step, the state it reads (r, the initial one zeros of all layers),
    with proj the state before the projection. For the input's, what the cell keeps
    (_STEP_KEPT; rnn its new state)."""

    def saves(a: Attrs, ins: Shapes, out: Shape, g: Grads) -> tuple[Saved, ...]:
        if not g.any:
            return ()
        length = ins[0].dims[0]
        hidden, r, layers, directions = a["hidden"], _fed_back(a), a["layers"], _directions(a)
        if not g.weights:  # frozen: only what the input's gradient reads
            per_step = _STEP_KEPT[gates] * hidden + (hidden if gates == 1 else 0)
            return (Saved(elements=layers * directions * length * per_step),)
        inputs = (Saved(0, folded=1, moved=True),) * directions
        later = (Saved(elements=length * directions * r),) * (layers - 1)
        per_step = r + _STEP_KEPT[gates] * hidden + (hidden if a.get("proj") else 0)
        steps = Saved(elements=layers * directions * (length * per_step + (hidden if gates == 1 else 0)))
        return inputs + later + (steps,)

    return saves


def _recurrent_reach(a: Attrs, ins: Shapes, out: Shape) -> Reach:
    """One direction reads the prefix (causal); both directions, the whole sequence."""
    return (whole_reach if a["bidirectional"] else prefix_reach)(a, ins, out)


OPS = table(
    op("lstm", "LSTM (nn.LSTM, batch_first), 4 gates; proj (proj_size) projects the state. " + _SEQUENCE, _shape,
       attrs={**_COMMON, "proj": Attr(_NON_NEGATIVE, 0, aliases=("proj_size",))},
       count_params=_params(4), count_macs=_macs(4), macs_rule=_macs_rule(4, proj=True),
       other_flops=_other_flops(4, _LSTM_WORK),
       flops_rule=_flops_rule(4, _LSTM_WORK, "4 gate activations, c = f·c + i·g, h = o·tanh(c)"),
       receptive_field=_recurrent_reach, saves=_saves(4), output_strides=positions_first,
       torch_module=_torch("LSTM", lambda a: f", proj_size={a['proj']}")),
    op("gru", "GRU (nn.GRU, batch_first), 3 gates. " + _SEQUENCE, _shape,
       attrs=_COMMON,
       count_params=_params(3), count_macs=_macs(3), macs_rule=_macs_rule(3),
       other_flops=_other_flops(3, _GRU_WORK),
       flops_rule=_flops_rule(3, _GRU_WORK, "2 sigmoids, r·hn, tanh, h = n + z·(h - n)"),
       receptive_field=_recurrent_reach, saves=_saves(3), output_strides=positions_first,
       torch_module=_torch("GRU", lambda a: "")),
    op("rnn", "Elman RNN (nn.RNN, batch_first), 1 gate, nonlinearity tanh or relu. " + _SEQUENCE, _shape,
       attrs={**_COMMON, "nonlinearity": Attr(choice("tanh", "relu"), "tanh")},
       count_params=_params(1), count_macs=_macs(1), macs_rule=_macs_rule(1),
       other_flops=_other_flops(1, _RNN_WORK),
       flops_rule=_flops_rule(1, _RNN_WORK, "the nonlinearity"),
       receptive_field=_recurrent_reach, saves=_saves(1), output_strides=positions_first,
       torch_module=_torch("RNN", lambda a: f", nonlinearity={a['nonlinearity']!r}")),
)
