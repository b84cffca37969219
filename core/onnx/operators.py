"""ONNX operators onto the op table: one handler per operator type, which reads the node's
attributes and constant inputs and emits the layer PyTorch's module would be (a Conv with
its weight is a `conv`, a Gemm a `linear`), or folds a node whose inputs are all constants
(shape arithmetic: Shape -> Gather -> Concat -> Reshape) into a constant.

A handler raises `Unmapped` for anything it cannot map exactly: a positioned error, never
a wrong number. Attribute defaults are ONNX's (a pool's strides default to 1, not to
its kernel as in PyTorch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ..parse.document import Ref
from .model import READ_LIMIT, Constant, Handler, Node, Reader, Tensor, Unmapped

# --- helpers ------------------------------------------------------------------------


def _windows(r: Reader, n: Node, x: Tensor, kernel: tuple[int, ...]) -> dict[str, Any]:
    """k, s, d and p of a Conv or pool, from ONNX's attributes (pads: all begins, then all ends)."""
    rank = len(kernel)
    strides = tuple(n.attrs.get("strides", (1,) * rank))
    dilations = tuple(n.attrs.get("dilations", (1,) * rank))
    pads = tuple(n.attrs.get("pads", (0,) * (2 * rank)))
    auto_pad = n.attrs.get("auto_pad", "NOTSET")
    if auto_pad == "VALID":
        padding: Any = 0
    elif auto_pad == "SAME_UPPER":
        padding = "same"  # TensorFlow's SAME: the extra pixel after, as netcalc's `same`
    elif auto_pad == "SAME_LOWER":
        padding = [list(_same_lower(size, k, s, d)) for size, k, s, d in
                   zip(x.shape.spatial, kernel, strides, dilations)]
    elif pads[:rank] == pads[rank:]:
        padding = pads[:rank]
    else:
        padding = [[b, e] for b, e in zip(pads[:rank], pads[rank:])]
    return {"k": kernel, "s": strides, "p": padding, "d": dilations}


def _same_lower(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
    return total - total // 2, total // 2


def _weight(r: Reader, n: Node, index: int, what: str) -> Constant:
    found = r.constant(n.inputs[index], n) if len(n.inputs) > index else None
    if found is None:
        raise Unmapped(f"its {what} is computed from the inputs; netcalc maps a {n.op_type} whose {what} is a constant")
    return found


def _present(n: Node, index: int) -> bool:
    return len(n.inputs) > index and bool(n.inputs[index])


def _axis(r: Reader, n: Node, axis: int, source: str) -> int:
    """An ONNX axis (batch first, negative from the end) as a non-negative one."""
    rank = r.rank_with_batch(source, n)
    if not -rank <= axis < rank:
        raise Unmapped(f"axis {axis} is outside a {rank}-axis tensor")
    return axis % rank


def _dim(r: Reader, n: Node, axis: int, source: str) -> int:
    """An ONNX axis as netcalc's `dim` (PyTorch's: the batch is 0), refused where it is the
    batch axis; a full tensor's axes all come after netcalc's batch of 1."""
    axis = _axis(r, n, axis, source)
    if r.tensor(source, n).full:
        return axis + 1
    if axis == 0:
        raise Unmapped("works along the batch axis")
    return axis


# --- convolution, linear ----------------------------------------------------------------


def _kernel_fits(r: Reader, n: Node, w: Constant, out: int) -> None:
    """kernel_shape, where given, is the weight's; a bias has one value per output channel."""
    if len(w.dims) < 3 or tuple(n.attrs.get("kernel_shape", w.dims[2:])) != w.dims[2:]:
        raise Unmapped(f"its weight of shape {list(w.dims)} does not hold the kernel "
                       f"{list(n.attrs.get('kernel_shape', []))}", id="shape-mismatch")
    bias = r.constant(n.inputs[2], n) if _present(n, 2) else None
    if bias is not None and bias.numel != out:
        raise Unmapped(f"its bias has {bias.numel} values for {out} output channels", id="shape-mismatch")


def _fits(w: Constant, reads: int, x: Tensor, what: str) -> None:
    """The weight's input size (`channels`, or the last axis's `features`) is what the tensor
    gives: the file is consistent."""
    given = x.shape.channels if what == "channels" else x.shape.dims[-1]
    if reads != given:
        raise Unmapped(f"its weight of shape {list(w.dims)} reads {reads} {what}, but its input {x.shape} has "
                       f"{given}", id="shape-mismatch")


def conv(r: Reader, n: Node) -> None:
    x, w = r.tensor(n.inputs[0], n), _weight(r, n, 1, "weight")
    _fits(w, w.dims[1] * n.attrs.get("group", 1), x, "channels")
    _kernel_fits(r, n, w, w.dims[0])
    args = {"out": w.dims[0], **_windows(r, n, x, w.dims[2:]),
            "g": n.attrs.get("group", 1), "bias": _present(n, 2)}
    source = _fold_zero_pad(r, n, args)
    r.emit(n, "conv", args, [source], weight=n.inputs[1])


def _fold_zero_pad(r: Reader, n: Node, args: dict[str, Any]) -> str:
    """A zero Pad read only by this Conv is its padding (how PyTorch exports a padding per
    side, or TensorFlow's SAME at a stride): one conv layer, as the spec wrote it."""
    x = r.values[n.inputs[0]]
    if not isinstance(x, Tensor) or r.readers.get(n.inputs[0]) != 1 or not r.entries:
        return n.inputs[0]
    entry = r.entries[-1]
    zeros = entry.type == "pad" and entry.args.get("mode", "zeros") == "zeros"
    if entry.name != x.layer or not zeros or args["p"] == "same":
        return n.inputs[0]
    rank = len(entry.args["p"])
    padding = (args["p"],) * rank if isinstance(args["p"], int) else args["p"]  # auto_pad VALID: 0
    own = padding if isinstance(padding, list) else [[p, p] for p in padding]
    args["p"] = [[b + pb, e + pe] for (b, e), (pb, pe) in zip(entry.args["p"], own)][:rank]
    r.entries.pop()
    r.names.discard(entry.name)
    return r.pad_sources.pop(n.inputs[0])


def conv_transpose(r: Reader, n: Node) -> None:
    x, w = r.tensor(n.inputs[0], n), _weight(r, n, 1, "weight")
    _fits(w, w.dims[0], x, "channels")
    groups = n.attrs.get("group", 1)
    _kernel_fits(r, n, w, w.dims[1] * groups)
    kernel = w.dims[2:]
    args = {"out": w.dims[1] * groups, **_windows(r, n, x, kernel), "g": groups, "bias": _present(n, 2)}
    if not isinstance(args["p"], tuple):
        raise Unmapped("ConvTranspose with padding other than symmetric explicit pads has no nn.ConvTranspose form")
    extra = tuple(n.attrs.get("output_padding", (0,) * len(kernel)))
    if "output_shape" in n.attrs:  # the size asked for, reached by output padding (as PyTorch's output_size)
        wanted = tuple(n.attrs["output_shape"])[-len(kernel):]
        extra = tuple(o - ((i - 1) * s - 2 * p + d * (k - 1) + 1) for o, i, s, p, d, k in
                      zip(wanted, x.shape.spatial, args["s"], args["p"], args["d"], kernel))
    args["op"] = extra
    r.emit(n, "convT", args, [n.inputs[0]])


def gemm(r: Reader, n: Node) -> None:
    if n.attrs.get("transA", 0):
        raise Unmapped("transA=1 transposes the batch into the features: no linear layer does that")
    x, w = r.tensor(n.inputs[0], n), _weight(r, n, 1, "weight (B)")
    if len(x.onnx_dims) != 2 or len(w.dims) != 2:
        raise Unmapped(f"expects a matrix of flat features and a 2-D weight, got {x.shape} and {w.dims}")
    out = w.dims[0] if n.attrs.get("transB", 0) else w.dims[1]
    _fits(w, w.dims[1] if n.attrs.get("transB", 0) else w.dims[0], x, "features")
    if _present(n, 2):
        bias = _weight(r, n, 2, "bias (C)")
        if bias.numel != out:
            raise Unmapped(f"its bias C of shape {list(bias.dims)} is not one per output ({out})")
    r.emit(n, "linear", {"out": out, "bias": _present(n, 2)}, [n.inputs[0]], weight=n.inputs[1])


def matmul(r: Reader, n: Node) -> None:
    a, b = n.inputs[:2]
    weight = r.constant(b, n)
    if weight is not None and len(weight.dims) == 2 and isinstance(r.value(a, n), Tensor):
        _fits(weight, weight.dims[0], r.tensor(a, n), "features")
        tensor = r.emit(n, "linear", {"out": weight.dims[1], "bias": False}, [a], weight=b)
        r.pending_bias[n.outputs[0]] = (len(r.entries) - 1, tensor)
        return
    r.emit(n, "matmul", {}, _same_layout(r, n, [_data(r, n, a, b), _data(r, n, b, a)]))


# --- pools, normalisation --------------------------------------------------------------


def pool(op: str) -> Handler:
    def handler(r: Reader, n: Node) -> None:
        if op == "maxpool" and n.inputs[0] in r.pool_pads:
            _padded_max_pool(r, n)
            return
        x = r.tensor(n.inputs[0], n)
        args = _windows(r, n, x, tuple(n.attrs["kernel_shape"]))
        if isinstance(args["p"], list):
            raise Unmapped("pools take symmetric padding in PyTorch; these pads differ before and after")
        args["ceil"] = bool(n.attrs.get("ceil_mode", 0))
        if op == "avgpool":
            del args["d"]
            if any(d != 1 for d in n.attrs.get("dilations", ())):
                raise Unmapped("a dilated average pool has no PyTorch module")
        r.emit(n, op, args, [n.inputs[0]])
    return handler


def _padded_max_pool(r: Reader, n: Node) -> None:
    """A MaxPool after a Pad of -inf: `p=same` where the sides are TensorFlow's SAME for this
    input (the extra pixel after), the sides themselves where they are symmetric."""
    source, sides = r.pool_pads.pop(n.inputs[0])
    x = r.tensor(source, n)
    args = _windows(r, n, x, tuple(n.attrs["kernel_shape"]))
    if args["p"] != (0,) * len(sides) and args["p"] != 0:
        raise Unmapped("a MaxPool with padding of its own after a Pad of -inf is not mapped")
    same = [list(reversed(_same_lower(size, k, stride, d))) for size, k, stride, d in
            zip(x.shape.spatial, args["k"], args["s"], args["d"])]
    if sides == same:
        args["p"] = "same"
    elif all(b == e for b, e in sides):
        args["p"] = tuple(b for b, _ in sides)
    else:
        raise Unmapped(f"pads {sides} of -inf before a max pool are neither symmetric nor TensorFlow's SAME")
    args["ceil"] = bool(n.attrs.get("ceil_mode", 0))
    r.emit(n, "maxpool", args, [source])


def _learned(r: Reader, n: Node, *indices: int) -> bool:
    """Whether a norm's scale and bias are parameters: initializers (PyTorch's exporter writes
    the ones and zeros of a norm without them as Constant nodes); one learned and the other
    not is no module netcalc describes."""
    learned = {_present(n, i) and bool(getattr(r.constant(n.inputs[i], n), "weight", False)) for i in indices}
    if len(learned) > 1:
        raise Unmapped("a learned scale without a learned bias (or the reverse) is no norm module netcalc describes")
    return learned.pop()


def _per_channel(r: Reader, n: Node, x: Tensor, *indices: int) -> None:
    for i in indices:
        value = r.constant(n.inputs[i], n) if _present(n, i) else None
        if value is not None and value.numel != x.shape.channels:
            raise Unmapped(f"input {i} has {value.numel} values for {x.shape.channels} channels", id="shape-mismatch")


def batch_norm(r: Reader, n: Node) -> None:
    _per_channel(r, n, r.tensor(n.inputs[0], n), 1, 2, 3, 4)
    r.emit(n, "bn", {"eps": n.attrs.get("epsilon", 1e-5), "affine": _learned(r, n, 1, 2)}, [n.inputs[0]])


def instance_norm(r: Reader, n: Node) -> None:
    _per_channel(r, n, r.tensor(n.inputs[0], n), 1, 2)
    r.emit(n, "instancenorm", {"affine": _learned(r, n, 1, 2), "eps": n.attrs.get("epsilon", 1e-5)}, [n.inputs[0]])


def layer_norm(r: Reader, n: Node) -> None:
    axis = _axis(r, n, n.attrs.get("axis", -1), n.inputs[0])
    dims = r.rank_with_batch(n.inputs[0], n) - axis
    normalized = r.tensor(n.inputs[0], n).onnx_dims[axis:]
    for i in (1, 2):
        value = r.constant(n.inputs[i], n) if _present(n, i) else None
        if value is not None and value.numel != _count(normalized):
            raise Unmapped(f"input {i} of shape {list(value.dims)} is not the normalized shape {list(normalized)}",
                           id="shape-mismatch")
    scale, bias = (_present(n, i) and bool(getattr(r.constant(n.inputs[i], n), "weight", False)) for i in (1, 2))
    if bias and not scale:
        raise Unmapped("a learned bias without a learned scale is no nn.LayerNorm")
    # a learned scale alone is nn.LayerNorm(bias=False): the bias left out (opset 17's 2 inputs,
    # as torch.export writes it) or the zeros PyTorch's TorchScript exporter writes as a Constant
    r.emit(n, "ln", {"dims": dims, "affine": scale, "eps": n.attrs.get("epsilon", 1e-5), "bias": bias or not scale},
           [n.inputs[0]])


def _count(dims: tuple[int, ...]) -> int:
    total = 1
    for d in dims:
        total *= d
    return total


def group_norm(r: Reader, n: Node) -> None:
    x, scale = r.tensor(n.inputs[0], n), _weight(r, n, 1, "scale")
    if not _learned(r, n, 1, 2):
        raise Unmapped("a GroupNormalization without learned scale and bias is not mapped yet")
    if scale.numel != x.shape.channels:
        raise Unmapped(f"its scale has {scale.numel} values, one per group (opset 18); nn.GroupNorm has one per "
                       f"channel ({x.shape.channels}), as opset 21 writes it")
    r.emit(n, "gn", {"groups": n.attrs["num_groups"], "eps": n.attrs.get("epsilon", 1e-5)}, [n.inputs[0]])


def lrn(r: Reader, n: Node) -> None:
    r.emit(n, "lrn", {"size": n.attrs["size"], "alpha": n.attrs.get("alpha", 1e-4), "beta": n.attrs.get("beta", 0.75),
                      "k": n.attrs.get("bias", 1.0)}, [n.inputs[0]])


def global_pool(op: str, args: dict[str, Any]) -> Handler:
    def handler(r: Reader, n: Node) -> None:
        r.emit(n, op, dict(args), [n.inputs[0]])
    return handler


def reduce(op: str) -> Handler:
    """ReduceMean/ReduceMax over every spatial axis: a global pool (keepdims=0 flattens it)."""
    def handler(r: Reader, n: Node) -> None:
        x = r.tensor(n.inputs[0], n)
        axes = tuple(n.attrs["axes"]) if "axes" in n.attrs else r.ints(n.inputs[1], n) if _present(n, 1) else ()
        spatial = set(range(2, x.shape.rank + 1))
        if {_axis(r, n, a, n.inputs[0]) for a in axes} != spatial or not spatial:
            raise Unmapped(f"reduces axes {list(axes)}: only a reduction over every spatial axis (a global pool) "
                           "is mapped")
        if n.attrs.get("keepdims", 1):
            r.emit(n, op, {"out": 1} if op != "gap" else {}, [n.inputs[0]])
            return
        pooled = f"{n.outputs[0]}#pooled"
        r.emit(n, op, {"out": 1} if op != "gap" else {}, [n.inputs[0]], output=pooled)
        r.emit(n, "flatten", {}, [pooled])
    return handler


# --- activations ------------------------------------------------------------------------


def activation(op: str, **attrs: tuple[str, Any]) -> Handler:
    """`attrs`: the netcalc argument -> (the ONNX attribute, its default)."""
    def handler(r: Reader, n: Node) -> None:
        r.emit(n, op, {key: n.attrs.get(name, default) for key, (name, default) in attrs.items()}, [n.inputs[0]])
    return handler


def softmax(op: str) -> Handler:
    def handler(r: Reader, n: Node) -> None:
        axis = n.attrs.get("axis", -1)
        r.emit(n, op, {"dim": axis if axis < 0 else _dim(r, n, axis, n.inputs[0])}, [n.inputs[0]])
    return handler


def hard_sigmoid(r: Reader, n: Node) -> None:
    alpha, beta = n.attrs.get("alpha", 0.2), n.attrs.get("beta", 0.5)
    if abs(alpha - 1 / 6) > 1e-6 or beta != 0.5:  # float32's 1/6
        raise Unmapped("only PyTorch's hard sigmoid (alpha 1/6, beta 0.5) is a netcalc layer")
    r.emit(n, "hardsigmoid", {}, [n.inputs[0]])


def clip(r: Reader, n: Node) -> None:
    low = r.array(n.inputs[1], n).item() if _present(n, 1) else n.attrs.get("min")
    high = r.array(n.inputs[2], n).item() if _present(n, 2) else n.attrs.get("max")
    if (low, high) != (0, 6):
        raise Unmapped(f"Clip to [{low}, {high}] is no netcalc layer (ReLU6 is Clip to [0, 6])")
    r.emit(n, "relu6", {}, [n.inputs[0]])


def prelu(r: Reader, n: Node) -> None:
    slope, x = _weight(r, n, 1, "slope"), r.tensor(n.inputs[0], n)
    if slope.numel not in (1, x.shape.channels) or (slope.numel > 1 and slope.dims[0] != x.shape.channels):
        raise Unmapped(f"a slope of shape {list(slope.dims)}: nn.PReLU has one, or one per channel")
    r.emit(n, "prelu", {"per_channel": slope.numel > 1}, [n.inputs[0]])


# --- merges -----------------------------------------------------------------------------


def _data(r: Reader, n: Node, name: str, other: str) -> str:
    """A value read as data: a tensor, or a weight (a `param` layer, with no batch axis)."""
    value = r.value(name, n)
    if isinstance(value, Tensor):
        return name
    if not value.weight:
        raise Unmapped(f"input '{name}' is a constant of {value.numel} element(s), not a learned tensor: a constant "
                       "is mapped only as the other operand of a tensor's Add, Sub (offset), Mul or Div (scale)")
    if (value.origin or name) in r.buffers:
        raise Unmapped(f"input '{name}' is a buffer (the file's signature says so) read as data: netcalc's `param` "
                       "is a learned tensor, and no layer adds or multiplies by a buffer")
    dims = value.dims
    against = r.value(other, n)
    if isinstance(against, Tensor) and not against.full and len(dims) == len(against.onnx_dims):
        if dims[0] != 1:
            raise Unmapped(f"constant '{name}' of shape {list(dims)} varies over the batch axis")
        dims = dims[1:]
    # a learned scalar (one value) is a param of shape 1, which broadcasts as it does
    r.emit(n, "param", {"shape": list(dims) or [1]}, [], output=name, path=r.layer_name(name), weight=name)
    return name


def elementwise(op: str) -> Handler:
    def handler(r: Reader, n: Node) -> None:
        if len(n.inputs) == 2 and op == "add" and _fuse_bias(r, n):
            return
        if len(n.inputs) == 2 and op == "mul" and _fuse_silu(r, n):
            return
        if len(n.inputs) == 2 and _with_constant(r, n, op):
            return
        names = [name for name in n.inputs if name]
        if op in ("sub", "div") and not all(isinstance(r.values.get(name), Tensor) for name in names):
            raise Unmapped(f"{n.op_type} of a learned tensor (an initializer) is not mapped: ONNX does not say "
                           "whether it is a parameter or a buffer (x - running_mean), and either would be counted")
        r.emit(n, op, {}, _same_layout(r, n, [_data(r, n, name, names[1 - i] if len(names) == 2 else names[0])
                                              for i, name in enumerate(names)]))
    return handler


def _with_constant(r: Reader, n: Node, op: str) -> bool:
    """A tensor and a constant that is no parameter (a Constant node, or one the file
    records as lifted): `x + c` and `x - c` add a constant tensor (`offset`, 1 FLOP per
    element), `x * c` and `x / c` multiply by one number (`scale`, 1 FLOP per element).
    What no netcalc op states exactly is refused, never approximated."""
    found = _tensor_and_constant(r, n)
    if found is None:
        return False
    x, c, first = found
    rank, axes = len(r.value(c, n).dims), len(r.tensor(x, n).onnx_dims)  # type: ignore[union-attr]
    if rank > axes:  # torch broadcasts from the right: the result gains axes before the batch's
        raise Unmapped(f"the constant '{c}' has {rank} axes, the tensor {axes}: the result would gain an axis in "
                       "front of the batch axis, which no netcalc layer moves")
    if op == "sub" and first:  # c - x: only 0 - x is one op (a scale by -1)
        if not r.readable(c) or r.array(c, n).any():
            raise Unmapped("a constant minus a tensor (such as 1 - x) is not mapped: netcalc's offset adds a "
                           "constant and its scale multiplies by one, so no one layer computes c - x")
        _uniform_factor(r, n, x, c)  # the shape the zeros broadcast to must be x's
        r.emit(n, "scale", {"by": -1.0}, [x])
        return True
    if op in ("add", "sub"):
        r.emit(n, "offset", {"shape": _offset_dims(r, n, x, c)}, [x])
        return True
    if op == "div" and first:
        raise Unmapped("a constant divided by a tensor (a reciprocal) is not mapped: netcalc has no such layer")
    value = _uniform_factor(r, n, x, c)
    if op == "div" and value == 0:
        raise Unmapped("divides by a constant 0")
    r.emit(n, "scale", {"by": float(f"{(1 / value if op == 'div' else value):.7g}")}, [x])  # float32's digits
    return True


def _tensor_and_constant(r: Reader, n: Node) -> tuple[str, str, bool] | None:
    """(the tensor, the constant that is no weight, whether the constant comes first)."""
    a, b = n.inputs[:2]
    for x, c, first in ((a, b, False), (b, a, True)):
        constant = r.constant(c, n)
        if isinstance(r.values.get(x), Tensor) and constant is not None and not constant.weight:
            return x, c, first
    return None


def _offset_dims(r: Reader, n: Node, x: str, c: str) -> list[int]:
    """The constant's shape as netcalc's `offset` states it: without the batch axis."""
    dims = list(r.value(c, n).dims)  # type: ignore[union-attr]
    while len(dims) > r.tensor(x, n).shape.rank and dims[0] == 1:
        dims.pop(0)  # the batch axis (a full tensor's batch of 1 is netcalc's own)
    return dims or [1]


def _uniform_factor(r: Reader, n: Node, x: str, c: str) -> float:
    """The one value of a constant factor: a scalar, or a tensor of equal values that leaves
    the tensor's shape as it is. Other factors are refused: `scale` takes one number, and a
    fixed tensor of factors has no netcalc op (`mul` with a `param` would count parameters)."""
    values = r.array(c, n).reshape(-1)
    dims, shape = _offset_dims(r, n, x, c), r.tensor(x, n).shape
    fits = len(dims) <= shape.rank and all(d in (1, s) for d, s in zip(reversed(dims), reversed(shape.dims)))
    if not fits:
        raise Unmapped(f"a constant of shape {list(r.value(c, n).dims)} broadcasts {shape} to a larger shape: "  # type: ignore[union-attr]
                       "no netcalc layer states that")
    if values.size == 0 or (values != values[0]).any():
        raise Unmapped(f"{n.op_type} by a constant tensor of shape {list(r.value(c, n).dims)} with different "  # type: ignore[union-attr]
                       "values is not mapped: netcalc's scale multiplies by one number, and no op multiplies by "
                       "a fixed tensor")
    return float(values[0])


def _same_layout(r: Reader, n: Node, names: list[str]) -> list[str]:
    """Inputs of one layout: full tensors made batched where their first axis is the batch
    of 1, else the batched ones made full."""
    tensors = [r.tensor(name, n) for name in names]
    if all(t.full for t in tensors) or not any(t.full for t in tensors):
        return names
    try:
        return [r.as_batched(name, n) for name in names]
    except Unmapped:
        return [r.as_full(name, n) if r.tensor(name, n).shape.batched else name for name in names]


def _fuse_bias(r: Reader, n: Node) -> bool:
    """MatMul + Add of a vector: how exporters write nn.Linear on more than 2-D input."""
    for a, b in (n.inputs, n.inputs[::-1]):
        pending = r.pending_bias.get(a)
        bias = r.constant(b, n)
        if pending is None or bias is None or r.readers.get(a) != 1:
            continue
        index, tensor = pending
        entry = r.entries[index]
        if bias.dims[-1:] != (entry.args["out"],) or bias.numel != entry.args["out"]:
            continue
        r.entries[index] = _with_args(entry, bias=True)
        if bias.origin:  # read again elsewhere, the same tensor is shared, not counted twice
            r.owners.setdefault(bias.origin, _name_of(entry))
        r.values[n.outputs[0]] = tensor
        return True
    return False


def _fuse_silu(r: Reader, n: Node) -> bool:
    """x * sigmoid(x): how exporters write nn.SiLU (the sigmoid's layer becomes the silu)."""
    for x, gate in (n.inputs, n.inputs[::-1]):
        value, source = r.values.get(gate), r.values.get(x)
        if not isinstance(value, Tensor) or not isinstance(source, Tensor) or r.readers.get(gate) != 1:
            continue
        index = next((i for i in range(len(r.entries) - 1, -1, -1) if r.entries[i].name == value.layer), None)
        if index is None:
            continue
        entry = r.entries[index]
        if entry.type == "sigmoid" and entry.sources == (Ref(source.layer),):
            r.entries[index] = replace(entry, type="silu")
            r.values[n.outputs[0]] = value
            return True
    return False


def _name_of(entry: Any) -> str:
    assert entry.name is not None  # the reader names every layer
    return str(entry.name)


def _with_args(entry: Any, **args: Any) -> Any:
    return replace(entry, args={**entry.args, **args})


def concat(r: Reader, n: Node) -> None:
    names = list(n.inputs)
    anchor = next(name for name in names if isinstance(r.value(name, n), Tensor))
    names = _same_layout(r, n, [_data(r, n, name, anchor) for name in names])
    r.emit(n, "concat", {"dim": _dim(r, n, n.attrs["axis"], names[0])}, names)


def erf_gelu(r: Reader, n: Node) -> None:
    """GELU as exporters write it below opset 20: x / sqrt(2) -> Erf -> + 1 -> x * . -> * 0.5.
    The division is already a `scale` layer reading x; the whole chain is one `gelu`."""
    scaled = r.tensor(n.inputs[0], n)
    entry = r.entries[-1] if r.entries else None
    if entry is None or entry.name != scaled.layer or entry.type != "scale" or r.readers.get(n.inputs[0]) != 1 \
            or abs(float(entry.args["by"]) - 0.5 ** 0.5) > 1e-6:
        raise Unmapped("Erf outside GELU's pattern (x / sqrt(2), Erf, + 1, times x, times 0.5) is not mapped",
                       id="unknown-operator")
    x = str(entry.sources[0].name) if entry.sources else ""  # the layer giving what was divided
    source, value = "", n.outputs[0]
    chain: list[Node] = []
    for step in ("Add", "Mul", "Mul"):
        reader = r.only_reader(value)
        if reader is None or reader.op_type != step:
            raise Unmapped("Erf outside GELU's pattern is not mapped", id="unknown-operator")
        other = [name for name in reader.inputs if name != value]
        expected = {"Add": 1.0, "Mul": None}[step] if len(chain) != 2 else 0.5
        if step == "Mul" and len(chain) == 1:  # times x itself
            given = r.values.get(other[0]) if len(other) == 1 else None
            ok = isinstance(given, Tensor) and given.layer == x and given.shape == scaled.shape
            source = other[0]
        else:
            constant = r.constant(other[0], n) if other else None
            ok = constant is not None and constant.numel == 1 and float(r.array(other[0], n).reshape(-1)[0]) == expected
        if not ok:
            raise Unmapped("Erf outside GELU's pattern is not mapped", id="unknown-operator")
        chain.append(reader)
        value = reader.outputs[0]
    r.entries.pop()
    r.names.discard(entry.name)
    r.emit(n, "gelu", {}, [source], output=value)
    r.skipped.update(step.index for step in chain)


# --- recurrence -----------------------------------------------------------------------


def recurrent(op: str, gates: int) -> Handler:
    """An LSTM, GRU or RNN node: one layer, sequence first (layout 0: X is L x batch x F) or
    batch first (layout 1). Y is given as ONNX has it (L x directions x batch x hidden), and
    the final hidden state Y_h where it is read, from Y (see _final_state); the final cell
    state Y_c is refused (no function of the output sequence). A node stacked on another as
    torch writes `num_layers` (see _stacked_on) is one more layer of that one."""
    def handler(r: Reader, n: Node) -> None:
        w = _weight(r, n, 1, "weight W")
        hidden, directions = n.attrs["hidden_size"], 2 if n.attrs.get("direction") == "bidirectional" else 1
        if w.dims[:2] != (directions, gates * hidden):
            raise Unmapped(f"its weight W of shape {list(w.dims)} is not {directions} x {gates * hidden}")
        _initial_states_fit(r, n, directions, hidden)
        if op == "lstm" and len(n.outputs) > 2 and _is_read(r, n.outputs[2]):
            raise Unmapped(f"its final cell state Y_c ('{n.outputs[2]}') is read: netcalc's lstm gives the output "
                           "sequence (and from it the final hidden state Y_h), and the cell state is no function of "
                           "that sequence, so no netcalc layer states it")
        below = _stacked_on(r, n, gates)
        if below is not None:
            _stack(r, n, below)
            return
        batch_first = n.attrs.get("layout", 0) == 1
        sequence = r.drop_batch(n.inputs[0], n, 0 if batch_first else 1)
        args: dict[str, Any] = {"hidden": hidden, "bidirectional": directions == 2, "bias": _present(n, 3)}
        if op == "rnn":
            activation = (n.attrs.get("activations") or ("Tanh",))[0].lower()
            if activation not in ("tanh", "relu"):
                raise Unmapped(f"an RNN with activation {activation} has no nn.RNN")
            args["nonlinearity"] = activation
        if op == "gru" and not n.attrs.get("linear_before_reset", 0):
            raise Unmapped("linear_before_reset=0 is no nn.GRU (PyTorch applies the reset gate after the product)")
        output = f"{n.outputs[0]}#sequence"
        r.emit(n, op, args, [sequence], output=output, weight=n.inputs[1])
        _recurrent_output(r, n, output)
    return handler


def _recurrent_output(r: Reader, n: Node, sequence: str) -> None:
    """Y as ONNX has it, from the layer's output sequence (batch first: netcalc's)."""
    tensor = r.tensor(sequence, n)
    directions, hidden = 2 if n.attrs.get("direction") == "bidirectional" else 1, n.attrs["hidden_size"]
    length = tensor.shape.dims[0]
    onnx_y = [1, length, directions, hidden] if n.attrs.get("layout", 0) == 1 else [length, directions, 1, hidden]
    r.emit(n, "reshape", {"shape": onnx_y}, [r.as_full(sequence, n)], output=n.outputs[0], full=True,
           path=f"{tensor.layer}.output")
    r.recurrences[n.outputs[0]] = tensor.layer
    if len(n.outputs) > 1 and _is_read(r, n.outputs[1]):
        _final_state(r, n, tensor.layer)


def _is_read(r: Reader, value: str) -> bool:
    """Whether a node or the graph's outputs read the (optional) output `value`."""
    return bool(value) and (bool(r.consumers.get(value)) or any(o.name == value for o in r.graph.output))


def _initial_states_fit(r: Reader, n: Node, directions: int, hidden: int) -> None:
    """initial_h and initial_c, where given, are directions x batch x hidden (batch x
    directions x hidden at layout 1): torch.export writes an LSTM with proj_size as a node
    of hidden_size proj whose initial_c keeps the hidden size (the projection's weight
    dropped), a file that contradicts itself and computes nothing."""
    for index, what in ((5, "initial_h"), (6, "initial_c")):
        if not _present(n, index):
            continue
        value = r.value(n.inputs[index], n)
        dims = value.dims if isinstance(value, Constant) else value.onnx_dims
        per_sample = (dims[1], dims[2]) if n.attrs.get("layout", 0) == 1 and len(dims) == 3 else dims[::2]
        if len(dims) != 3 or per_sample != (directions, hidden):
            raise Unmapped(f"its {what} of shape {list(dims)} is not {directions} x batch x {hidden} (directions "
                           "x batch x hidden_size): the file contradicts itself (torch.export writes an LSTM "
                           "with proj_size so, without its projection)", id="shape-mismatch")


def _final_state(r: Reader, n: Node, layer: str) -> None:
    """Y_h, the final hidden state of each direction (directions x batch x H; batch x
    directions x H at layout 1), from Y, the output sequence as ONNX has it: the forward
    direction's last step and the reverse direction's first (ONNX, as PyTorch, keeps the
    reverse direction's outputs in the input's order). Views and a copy: select, and where
    bidirectional, a slice of each direction and their concat. Exact where every sequence
    is the whole length: sequence_lens, where given, must be constants of L."""
    y = r.tensor(n.outputs[0], n)
    batch_first = n.attrs.get("layout", 0) == 1
    time = 1 if batch_first else 0  # Y's axes: L x D x batch x H, or batch x L x D x H
    length = y.onnx_dims[time]
    if _present(n, 4):
        if not r.readable(n.inputs[4]) or any(size != length for size in r.ints(n.inputs[4], n)):
            raise Unmapped(f"its final state Y_h is read with sequence_lens '{n.inputs[4]}': netcalc states it as "
                           f"the last step of the whole sequence ({length}), which it is only where every length "
                           "is that, a constant")
    h = n.outputs[1]
    directions = y.onnx_dims[time + 1]
    if directions == 1:
        r.emit(n, "select", {"dim": _dim(r, n, time, n.outputs[0]), "index": -1}, [n.outputs[0]], output=h,
               path=f"{layer}.h_n")
        return
    # the steps keep the direction axis: D x batch x H (layout 0), batch x D x H (layout 1)
    axis = 1 if batch_first else 0
    parts = []
    for index, (step, name) in enumerate(((-1, "forward"), (0, "reverse"))):
        at = f"{h}#{name}_step"
        r.emit(n, "select", {"dim": _dim(r, n, time, n.outputs[0]), "index": step}, [n.outputs[0]], output=at,
               path=f"{layer}.h_n_{name}_step")
        parts.append(f"{h}#{name}")
        r.emit(n, "slice", {"dim": _dim(r, n, axis, at), "start": index, "end": None if index else 1}, [at],
               output=parts[-1], path=f"{layer}.h_n_{name}")
    r.emit(n, "concat", {"dim": _dim(r, n, axis, parts[0])}, parts, output=h, path=f"{layer}.h_n")


def _stacked_on(r: Reader, n: Node, gates: int) -> Node | None:
    """The node below, where this one is the next layer of one nn.LSTM (GRU, RNN) of
    num_layers, as torch writes it: the same operator, attributes and module, sequence first,
    reading the output of the one below and nothing else: Y (L x 2 x B x H) transposed to
    L x B x 2 x H and reshaped to L x B x 2H where bidirectional, squeezed to L x B x H
    where not; a weight W reading that (directions x gates*H x directions*H), a bias where
    the one below has one. Anything else (a dropout between, another hidden size, a
    reshape read elsewhere) is separate layers, as written."""
    if n.attrs.get("layout", 0) or _present(n, 4):  # batch first, or sequence lengths: as written
        return None
    chain = _links(r, n)
    below = r.producer(chain[-1].inputs[0]) if chain else None
    if below is None or below.op_type != n.op_type or below.attrs != n.attrs or below.scope != n.scope \
            or chain[-1].inputs[0] != below.outputs[0] or below.outputs[0] not in r.recurrences \
            or not r.read_only_by(below.outputs[0], chain[-1]) or _present(below, 3) != _present(n, 3) \
            or any(_is_read(r, state) for state in below.outputs[1:]):  # a lower layer's final states
        return None
    if not _reads_the_layer_below(r, n, below, gates):
        return None
    # the layers since the one below are its output's and the links': they are dropped
    at = _entry_at(r, r.recurrences[below.outputs[0]])
    if any(e.span.line not in {below.index, *(c.index for c in chain)} for e in r.entries[at + 1:]):
        return None
    return below


def _links(r: Reader, n: Node) -> list[Node]:
    """The nodes between a recurrent node and the one below, each read by the next only:
    Squeeze, or Transpose (0, 2, 1, 3) then Reshape where bidirectional; [] where none."""
    link = r.producer(n.inputs[0])
    if link is None or not r.read_only_by(n.inputs[0], n):
        return []
    if n.attrs.get("direction") != "bidirectional":
        return [link] if link.op_type == "Squeeze" else []
    transpose = r.producer(link.inputs[0]) if link.op_type == "Reshape" else None
    if transpose is None or transpose.op_type != "Transpose" or not r.read_only_by(link.inputs[0], link) \
            or tuple(transpose.attrs.get("perm", ())) != (0, 2, 1, 3):
        return []
    return [link, transpose]


def _reads_the_layer_below(r: Reader, n: Node, below: Node, gates: int) -> bool:
    """X is the sequence the node below gives (L x batch of 1 x directions*H), and W and R
    have the shapes nn.LSTM's upper layers have."""
    directions, hidden = 2 if n.attrs.get("direction") == "bidirectional" else 1, n.attrs["hidden_size"]
    x, y = r.value(n.inputs[0], n), r.value(below.outputs[0], n)
    w = r.constant(n.inputs[1], n)
    recurrent_w = r.constant(n.inputs[2], n) if _present(n, 2) else None
    return isinstance(x, Tensor) and isinstance(y, Tensor) and w is not None and recurrent_w is not None \
        and x.onnx_dims == (y.onnx_dims[0], 1, directions * hidden) \
        and w.dims == (directions, gates * hidden, directions * hidden) \
        and recurrent_w.dims == (directions, gates * hidden, hidden)


def _entry_at(r: Reader, layer: str) -> int:
    return next(i for i, e in enumerate(r.entries) if e.name == layer)


def _stack(r: Reader, n: Node, below: Node) -> None:
    """This node as one more layer of the one below (see _stacked_on)."""
    at = _entry_at(r, r.recurrences[below.outputs[0]])
    for entry in r.entries[at + 1:]:
        r.names.discard(_name_of(entry))
    del r.entries[at + 1:]
    entry = r.entries[at]
    r.entries[at] = _with_args(entry, layers=entry.args.get("layers", 1) + 1)
    sequence = f"{n.outputs[0]}#sequence"
    r.values[sequence] = r.values[f"{below.outputs[0]}#sequence"]
    _recurrent_output(r, n, sequence)


# --- layout -----------------------------------------------------------------------------


def flatten(r: Reader, n: Node) -> None:
    if _axis(r, n, n.attrs.get("axis", 1), n.inputs[0]) != 1:
        raise Unmapped("Flatten at an axis other than 1 merges the batch axis or keeps a 2-D result netcalc "
                       "cannot name")
    r.emit(n, "flatten", {}, [n.inputs[0]])


def reshape(r: Reader, n: Node) -> None:
    x = r.tensor(n.inputs[0], n)
    target = list(r.ints(n.inputs[1], n))
    if not n.attrs.get("allowzero", 0):  # 0 copies the input's size at that axis
        target = [x.onnx_dims[i] if size == 0 and i < len(x.onnx_dims) else size for i, size in enumerate(target)]
    if not x.full and target and r.is_batch(target[0]):
        dims = target[1:]
        if len(dims) == 1 and x.shape.rank > 1 and dims[0] in (-1, x.shape.numel):
            r.emit(n, "flatten", {}, [n.inputs[0]])
        else:
            r.emit(n, "reshape", {"shape": dims}, [n.inputs[0]])
        return
    # the batch axis merges into another or moves: the result is full (every ONNX axis)
    r.emit(n, "reshape", {"shape": target}, [r.as_full(n.inputs[0], n)], full=True)


def transpose(r: Reader, n: Node) -> None:
    x = r.tensor(n.inputs[0], n)
    rank = len(x.onnx_dims)
    perm = tuple(n.attrs.get("perm", tuple(reversed(range(rank)))))
    if not x.full and perm[0] == 0:
        r.emit(n, "permute", {"dims": perm}, [n.inputs[0]])
        return
    # the batch axis moves: permute the full tensor, behind netcalc's batch of 1
    r.emit(n, "permute", {"dims": (0, *(p + 1 for p in perm))}, [r.as_full(n.inputs[0], n)], full=True)


def squeeze_unsqueeze(r: Reader, n: Node) -> None:
    x = r.tensor(n.inputs[0], n)
    axes = tuple(n.attrs["axes"]) if "axes" in n.attrs else r.ints(n.inputs[1], n) if _present(n, 1) else None
    dims = list(x.onnx_dims)
    if n.op_type == "Unsqueeze":
        assert axes is not None
        out_rank = len(dims) + len(axes)
        for axis in sorted(a % out_rank for a in axes):
            dims.insert(axis, 1)
        moved = 0 in {a % out_rank for a in axes}
    else:
        drop = {a % len(dims) for a in axes} if axes is not None else {i for i, d in enumerate(dims) if d == 1}
        dims = [d for i, d in enumerate(dims) if i not in drop]
        moved = 0 in drop
    if x.full or moved:
        r.emit(n, "reshape", {"shape": dims}, [r.as_full(n.inputs[0], n)], full=True)
    else:
        r.emit(n, "reshape", {"shape": dims[1:]}, [n.inputs[0]])


def identity(r: Reader, n: Node) -> None:
    r.alias(n, n.inputs[0])


def dropout(r: Reader, n: Node) -> None:
    ratio = r.array(n.inputs[1], n).item() if _present(n, 1) else n.attrs.get("ratio", 0.5)
    r.emit(n, "dropout", {"p": float(ratio)}, [n.inputs[0]])


def pad(r: Reader, n: Node) -> None:
    x = r.tensor(n.inputs[0], n)
    pads = r.ints(n.inputs[1], n) if _present(n, 1) else tuple(n.attrs["pads"])
    rank = x.shape.rank + 1
    if _present(n, 3):
        raise Unmapped("Pad with `axes` is not mapped yet")
    if any(pads[i] or pads[rank + i] for i in (0, 1)) or any(p < 0 for p in pads):
        raise Unmapped(f"pads {list(pads)} pad the batch or channel axis, or crop: no nn padding layer does that")
    value = float(r.array(n.inputs[2], n).reshape(-1)[0]) if _present(n, 2) else 0.0
    reader = r.only_reader(n.outputs[0])
    if value == float("-inf") and reader is not None and reader.op_type == "MaxPool":
        # -inf before a max pool: the pool's own padding (TensorFlow's SAME, as TF-slim's pools)
        r.pool_pads[n.outputs[0]] = (n.inputs[0], [[pads[i], pads[rank + i]] for i in range(2, rank)])
        return
    if value != 0.0:
        raise Unmapped("padding with a value other than 0 (or -inf before a max pool) is not mapped yet")
    mode = {"constant": "zeros", "reflect": "reflect", "edge": "replicate", "wrap": "circular"}[n.attrs.get("mode",
                                                                                                          "constant")]
    sides = [[pads[i], pads[rank + i]] for i in range(2, rank)]
    r.emit(n, "pad", {"p": sides, "mode": mode}, [n.inputs[0]])
    r.pad_sources[n.outputs[0]] = n.inputs[0]


def resize(r: Reader, n: Node) -> None:
    x = r.tensor(n.inputs[0], n)
    rank = x.shape.rank - 1
    scales_at, sizes_at = (2, 3) if n.op_type == "Resize" else (1, None)
    scales = r.array(n.inputs[scales_at], n).reshape(-1).tolist() if _present(n, scales_at) else []
    sizes = list(r.ints(n.inputs[sizes_at], n)) if sizes_at is not None and _present(n, sizes_at) else []
    if not scales and "scales" in n.attrs:  # Upsample before opset 9: an attribute
        scales = list(n.attrs["scales"])
    dims = [r.batch or 1, *x.shape.dims]  # the input as ONNX has it
    axes = _resize_axes(r, n, len(dims))
    if sizes:  # opset 18's axes name the axes sizes give; the others keep theirs
        sizes = _on_axes(n, "sizes", _aspect_sizes(n, dims, axes, sizes), axes, dims)
    elif scales:
        if n.attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
            raise Unmapped("keep_aspect_ratio_policy applies to sizes, not to scales (ONNX's checker refuses both "
                           "together)", id="invalid-onnx")
        scales = _on_axes(n, "scales", scales, axes, [1.0] * len(dims))
    mode = n.attrs.get("mode", "nearest")
    transform = n.attrs.get("coordinate_transformation_mode", "half_pixel")
    names = {"nearest": "nearest", "linear": ("linear", "bilinear", "trilinear")[rank - 1], "cubic": "bicubic"}
    args: dict[str, Any] = {"mode": names[mode], "align_corners": transform == "align_corners"}
    if sizes:
        if len(sizes) != x.shape.rank + 1 or not r.is_batch(sizes[0]) or sizes[1] != x.shape.channels:
            raise Unmapped(f"sizes {list(sizes)} change the batch or channel axis")
        args["size"] = tuple(sizes[2:])
        shrinks = any(s < d for s, d in zip(sizes[2:], dims[2:]))
    elif scales:
        if scales[:2] != [1.0, 1.0]:
            raise Unmapped(f"scales {scales} scale the batch or channel axis")
        spatial = scales[2:]
        args["scale"] = tuple(int(s) if float(s).is_integer() else float(f"{s:.7g}") for s in spatial)  # float32
        shrinks = any(s < 1 for s in spatial)
    else:
        raise Unmapped("neither scales nor sizes is given")
    if n.attrs.get("antialias", 0) and mode != "nearest" and shrinks:
        raise Unmapped("antialias=1 filters a downscale over more taps than nn.Upsample; netcalc's upsample has "
                       "no antialiasing")
    r.emit(n, "upsample", args, [n.inputs[0]])


def _resize_axes(r: Reader, n: Node, rank: int) -> list[int]:
    """The axes a Resize's scales or sizes name (opset 18's `axes`; all by default)."""
    if "axes" not in n.attrs:
        return list(range(rank))
    axes = [int(a) for a in n.attrs["axes"]]
    if any(not -rank <= a < rank for a in axes) or len({a % rank for a in axes}) != len(axes):
        raise Unmapped(f"axes {axes} are outside a {rank}-axis input, or repeated", id="invalid-onnx")
    return [a % rank for a in axes]


def _on_axes(n: Node, what: str, values: list[Any], axes: list[int], whole: list[Any]) -> list[Any]:
    """Values given for `axes` as values for every axis: the others keep `whole`'s."""
    if len(values) != len(axes):
        raise Unmapped(f"{what} has {len(values)} values for {len(axes)} axes", id="invalid-onnx")
    full = list(whole)
    for axis, value in zip(axes, values):
        full[axis] = value
    return full


def _aspect_sizes(n: Node, dims: list[int], axes: list[int], sizes: list[int]) -> list[int]:
    """The sizes `keep_aspect_ratio_policy` (opset 18) makes of the asked ones: one scale for
    every axis named (the least for not_larger, the largest for not_smaller), each size
    that scale times the input's, rounded half up. Where the rounding moves a size, ONNX
    samples at that scale and nn.Upsample(size) at the sizes' own ratio: no netcalc layer."""
    from fractions import Fraction

    policy = n.attrs.get("keep_aspect_ratio_policy", "stretch")
    if policy == "stretch":
        return sizes
    if policy not in ("not_larger", "not_smaller") or len(sizes) != len(axes):
        raise Unmapped(f"keep_aspect_ratio_policy {policy!r} with {len(sizes)} sizes for {len(axes)} axes",
                       id="invalid-onnx")
    ratios = [Fraction(size, dims[axis]) for size, axis in zip(sizes, axes)]
    scale = min(ratios) if policy == "not_larger" else max(ratios)
    exact = [scale * dims[axis] for axis in axes]
    if any(size.denominator != 1 for size in exact):
        raise Unmapped(f"keep_aspect_ratio_policy {policy} scales {[dims[a] for a in axes]} by {scale} to "
                       f"{[float(e) for e in exact]}, which ONNX rounds: it then samples at that scale, "
                       "nn.Upsample(size) at the rounded sizes' ratio, and netcalc's upsample states only the latter")
    return [int(size) for size in exact]


def gather(r: Reader, n: Node) -> None:
    data, indices = r.value(n.inputs[0], n), r.value(n.inputs[1], n)
    if isinstance(data, Constant) and isinstance(indices, Tensor) and len(data.dims) == 2 \
            and n.attrs.get("axis", 0) == 0:
        r.emit(n, "embedding", {"num": data.dims[0], "dim": data.dims[1]}, [n.inputs[1]], weight=n.inputs[0])
        return
    if isinstance(data, Tensor) and isinstance(indices, Constant) and indices.numel == 1 and not indices.dims:
        dim = _dim(r, n, n.attrs.get("axis", 0), n.inputs[0])
        r.emit(n, "select", {"dim": dim, "index": int(r.array(n.inputs[1], n).item())}, [n.inputs[0]])
        return
    raise Unmapped("only an embedding lookup (a weight indexed by ids) or one index of a tensor is mapped")


def slice_(r: Reader, n: Node) -> None:
    if "starts" in n.attrs:  # before opset 10: attributes
        starts, ends = tuple(n.attrs["starts"]), tuple(n.attrs["ends"])
        axes, steps = tuple(n.attrs.get("axes", range(len(starts)))), (1,) * len(starts)
    else:
        starts, ends = r.ints(n.inputs[1], n), r.ints(n.inputs[2], n)
        axes = r.ints(n.inputs[3], n) if _present(n, 3) else tuple(range(len(starts)))
        steps = r.ints(n.inputs[4], n) if _present(n, 4) else (1,) * len(starts)
    source = n.inputs[0]
    for i, (start, end, axis, step) in enumerate(zip(starts, ends, axes, steps)):
        if step < 1:
            raise Unmapped("steps backwards")
        size = r.tensor(source, n).onnx_dims[_axis(r, n, axis, source)]
        axis = _dim(r, n, axis, source)
        last = i == len(starts) - 1
        output = n.outputs[0] if last else f"{n.outputs[0]}#{i}"
        r.emit(n, "slice", {"dim": axis, "start": start, "end": None if end >= size else end, "step": step},
               [source], output=output)
        source = output


def split(r: Reader, n: Node) -> None:
    x = r.tensor(n.inputs[0], n)
    size = x.onnx_dims[_axis(r, n, n.attrs.get("axis", 0), n.inputs[0])]
    axis = _dim(r, n, n.attrs.get("axis", 0), n.inputs[0])
    parts = r.ints(n.inputs[1], n) if _present(n, 1) else tuple(n.attrs.get("split", ()))
    if not parts:
        count = n.attrs.get("num_outputs", len(n.outputs))
        chunk = -(-size // count)
        parts = tuple(min(chunk, size - i * chunk) for i in range(count))
    if sum(parts) != size or len(parts) != len(n.outputs) or min(parts) < 1:
        raise Unmapped(f"splits {size} into {list(parts)} for {len(n.outputs)} outputs", id="shape-mismatch")
    start = 0
    for output, length in zip(n.outputs, parts):
        r.emit(n, "slice", {"dim": axis, "start": start, "end": start + length}, [n.inputs[0]], output=output)
        start += length


def shape(r: Reader, n: Node) -> None:
    import numpy as np

    x = r.tensor(n.inputs[0], n)
    dims = np.array(x.shape.dims if x.full else (r.batch or 1, *x.shape.dims), dtype=np.int64)
    start, end = n.attrs.get("start", 0), n.attrs.get("end", len(dims))
    r.set_constant(n.outputs[0], dims[start:end])


def constant(r: Reader, n: Node) -> None:
    import numpy as np
    from onnx import numpy_helper

    attrs = n.attrs
    if "value" in attrs:
        r.set_constant(n.outputs[0], numpy_helper.to_array(attrs["value"]))
    elif "value_int" in attrs or "value_float" in attrs:
        r.set_constant(n.outputs[0], np.array(attrs.get("value_int", attrs.get("value_float"))))
    elif "value_ints" in attrs or "value_floats" in attrs:
        r.set_constant(n.outputs[0], np.array(attrs.get("value_ints", attrs.get("value_floats"))))
    else:
        raise Unmapped("a Constant of a sparse or string value is not read")


# --- constant folding ---------------------------------------------------------------------


def _fold(compute: Any) -> Handler:
    """A node of constants, computed with numpy (shape arithmetic: small integer tensors). A
    weight stays a weight (the gates of a recurrence reordered by Slice and Concat); one too
    large to read is followed by its shape only, for the operators that only move elements."""
    def handler(r: Reader, n: Node) -> None:
        constants = [r.constant(name, n) for name in n.inputs]
        weight = any(c is not None and c.weight for c in constants)
        # a transpose of a weight is that weight (an nn.Linear's, as exporters write it)
        origin = constants[0].origin if n.op_type in ("Transpose", "Cast") and constants[0] else None
        if all(not name or r.readable(name) for name in n.inputs):
            out = compute(n, *[r.array(name, n) if name else None for name in n.inputs])
            r.values[n.outputs[0]] = Constant(tuple(int(d) for d in out.shape), out, weight, origin)
            return
        dims = _SHAPE_ONLY.get(n.op_type)
        if dims is None:
            raise Unmapped(f"computes with a constant too large to read ({max(c.numel for c in constants if c):,} "
                           "elements)")
        arrays = [r.array(name, n) if r.readable(name) else _placeholder(c.dims) if c is not None else None
                  for name, c in zip(n.inputs, constants)]
        r.values[n.outputs[0]] = Constant(tuple(int(d) for d in dims(n, compute, *arrays)), None, weight, origin)
    return handler


def _placeholder(dims: tuple[int, ...]) -> Any:
    """An array of `dims` that takes no memory (every stride 0): views of it give shapes."""
    return _np().broadcast_to(_np().empty((), dtype=_np().bool_), dims)


def _view_dims(n: Node, compute: Any, *arrays: Any) -> tuple[int, ...]:
    return tuple(compute(n, *arrays).shape)


def _concat_dims(n: Node, compute: Any, *arrays: Any) -> tuple[int, ...]:
    axis = n.attrs["axis"] % arrays[0].ndim
    first = arrays[0].shape
    return (*first[:axis], sum(a.shape[axis] for a in arrays), *first[axis + 1:])


def _gather_dims(n: Node, compute: Any, data: Any, indices: Any) -> tuple[int, ...]:
    axis = n.attrs.get("axis", 0) % data.ndim
    return (*data.shape[:axis], *_np().shape(indices), *data.shape[axis + 1:])


def _shape_only(r: Reader, n: Node) -> None:
    """A weight passed through (an Identity): the same constant."""
    source = r.constant(n.inputs[0], n)
    assert source is not None
    r.values[n.outputs[0]] = source


def _too_many(n: Node) -> Any:
    raise Unmapped(f"computes a constant of more than {READ_LIMIT:,} elements, or none")


def _constant_of_shape(r: Reader, n: Node) -> None:
    """A constant filled with `value` (0.0 by default); one too large to read is its shape."""
    np = _np()
    dims = tuple(int(d) for d in r.ints(n.inputs[0], n))
    if any(d < 0 for d in dims):
        raise Unmapped(f"a constant of shape {list(dims)}")
    value = np.asarray(r.attr_array(n, "value")).reshape(-1) if "value" in n.attrs else np.zeros(1, np.float32)
    if int(np.prod(dims, dtype=object)) > READ_LIMIT:
        r.values[n.outputs[0]] = Constant(dims, None)
    else:
        r.set_constant(n.outputs[0], np.full(dims, value[0], dtype=value.dtype))


def _expand(r: Reader, n: Node) -> None:
    """A constant broadcast to a shape; a weight so expanded (a class token over the batch)
    stays that weight, of the broadcast shape (its values where they can be read)."""
    source = r.constant(n.inputs[0], n)
    assert source is not None
    shape = tuple(max(int(d), 1) for d in r.ints(n.inputs[1], n))
    dims = _np().broadcast_shapes(source.dims, shape)
    if r.readable(n.inputs[0]) and _count(tuple(dims)) <= READ_LIMIT:
        values = _np().broadcast_to(r.array(n.inputs[0], n), dims).copy()
        r.values[n.outputs[0]] = Constant(tuple(dims), values, source.weight)
    else:
        r.values[n.outputs[0]] = Constant(tuple(dims), None, source.weight)


def _np() -> Any:
    import numpy as np

    return np


def _reshape_values(n: Node, x: Any, shape: Any) -> Any:
    target = [x.shape[i] if d == 0 and not n.attrs.get("allowzero", 0) else int(d) for i, d in enumerate(shape)]
    return x.reshape(target)


def _unsqueeze_values(n: Node, x: Any, axes: Any = None) -> Any:
    axes = tuple(n.attrs["axes"]) if axes is None else tuple(int(a) for a in axes.reshape(-1))
    rank = x.ndim + len(axes)
    return _np().expand_dims(x, tuple(sorted(a % rank for a in axes)))


def _squeeze_values(n: Node, x: Any, axes: Any = None) -> Any:
    if axes is None and "axes" not in n.attrs:
        return _np().squeeze(x)
    axes = tuple(n.attrs["axes"]) if axes is None else tuple(int(a) for a in axes.reshape(-1))
    return _np().squeeze(x, tuple(a % x.ndim for a in axes))


# operators that only move elements: a weight too large to read is followed by its shape
_SHAPE_ONLY: dict[str, Callable[..., tuple[int, ...]]] = {
    **{op: _view_dims for op in ("Reshape", "Transpose", "Unsqueeze", "Squeeze", "Slice", "Cast", "Expand")},
    "Concat": _concat_dims,
    "Gather": _gather_dims,
    "Trilu": lambda n, compute, x, k=None: tuple(x.shape),
    # elementwise: the broadcast shape (a causal mask of 1024 x 1024 made by Where)
    **{op: lambda n, compute, *xs: tuple(_np().broadcast_shapes(*(x.shape for x in xs if x is not None)))
       for op in ("Add", "Sub", "Mul", "Div", "Where", "Equal", "Neg", "Sqrt", "Pow")},
}

_LAYOUT: dict[str, Callable[..., Any]] = {
    "Reshape": _reshape_values,
    "Transpose": lambda n, x: x.transpose(n.attrs.get("perm", None)),
    "Unsqueeze": _unsqueeze_values,
    "Squeeze": _squeeze_values,
}


def _slice_values(n: Node, x: Any, starts: Any = None, ends: Any = None, axes: Any = None, steps: Any = None) -> Any:
    if starts is None:  # before opset 10: attributes
        starts, ends, axes = n.attrs["starts"], n.attrs["ends"], n.attrs.get("axes")
    index = [slice(None)] * x.ndim
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    for start, end, axis, step in zip(starts, ends, axes, steps):
        index[int(axis)] = slice(int(start), int(end), int(step))
    return x[tuple(index)]


def _binary(name: str) -> Any:
    def compute(n: Node, a: Any, b: Any) -> Any:
        np = _np()
        if name == "Div" and np.issubdtype(a.dtype, np.integer):
            return a // b
        return {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[name](a, b)
    return compute


FOLDERS: dict[str, Handler] = {
    "Identity": _shape_only,
    "Shape": lambda r, n: r.set_constant(n.outputs[0], _np().array(r.value(n.inputs[0], n).dims  # type: ignore[union-attr]
                                                                   [n.attrs.get("start", 0):n.attrs.get("end")],
                                                                   dtype=_np().int64)),
    "Cast": _fold(lambda n, x: x.astype({1: "float32", 6: "int32", 7: "int64", 9: "bool", 11: "float64"}
                                        .get(n.attrs["to"], x.dtype))),
    "Gather": _fold(lambda n, x, i: _np().take(x, i, axis=n.attrs.get("axis", 0))),
    "Concat": _fold(lambda n, *xs: _np().concatenate(xs, axis=n.attrs["axis"])),
    "Slice": _fold(_slice_values),
    "ConstantOfShape": lambda r, n: _constant_of_shape(r, n),
    "Range": _fold(lambda n, start, limit, delta: _np().arange(start, limit, delta) if delta != 0 and
                   (limit - start) / delta <= READ_LIMIT else _too_many(n)),
    "Equal": _fold(lambda n, a, b: a == b),
    "Where": _fold(lambda n, c, a, b: _np().where(c, a, b)),
    "Expand": lambda r, n: _expand(r, n),
    **{op: _fold(_binary(op)) for op in ("Add", "Sub", "Mul", "Div")},
    "Sqrt": _fold(lambda n, x: _np().sqrt(x)),
    "Pow": _fold(lambda n, x, y: _np().power(x, y)),
    "Neg": _fold(lambda n, x: -x),
    "Mod": _fold(lambda n, a, b: _np().fmod(a, b) if n.attrs.get("fmod", 0) else _np().mod(a, b)),
    "Min": _fold(lambda n, *xs: _np().minimum.reduce(_np().broadcast_arrays(*xs))),
    "Max": _fold(lambda n, *xs: _np().maximum.reduce(_np().broadcast_arrays(*xs))),
    "Floor": _fold(lambda n, x: _np().floor(x)),
    "Ceil": _fold(lambda n, x: _np().ceil(x)),
    **{op: _fold(compute) for op, compute in _LAYOUT.items()},
    "Trilu": _fold(lambda n, x, k=None: (_np().triu if n.attrs.get("upper", 1) else _np().tril)(
        x, 0 if k is None else int(k))),
}


# operators that read their first input with the batch axis first (a full one is made so)
BATCH_FIRST = frozenset({
    "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceMax",
    "BatchNormalization", "InstanceNormalization", "GroupNormalization", "LRN", "PRelu", "Flatten", "Pad", "Resize",
    "Upsample",
})

HANDLERS: dict[str, Handler] = {
    "Conv": conv,
    "ConvTranspose": conv_transpose,
    "Gemm": gemm,
    "MatMul": matmul,
    "MaxPool": pool("maxpool"),
    "AveragePool": pool("avgpool"),
    "GlobalAveragePool": global_pool("gap", {}),
    "GlobalMaxPool": global_pool("adaptivemaxpool", {"out": 1}),
    "ReduceMean": reduce("gap"),
    "ReduceMax": reduce("adaptivemaxpool"),
    "BatchNormalization": batch_norm,
    "InstanceNormalization": instance_norm,
    "LayerNormalization": layer_norm,
    "GroupNormalization": group_norm,
    "LRN": lrn,
    "Relu": activation("relu"),
    "Sigmoid": activation("sigmoid"),
    "Tanh": activation("tanh"),
    "LeakyRelu": activation("leakyrelu", slope=("alpha", 0.01)),
    "Elu": activation("elu", alpha=("alpha", 1.0)),
    "HardSwish": activation("hardswish"),
    "HardSigmoid": hard_sigmoid,
    "Gelu": activation("gelu", approximate=("approximate", "none")),
    "Erf": erf_gelu,
    "Clip": clip,
    "PRelu": prelu,
    "Softmax": softmax("softmax"),
    "LogSoftmax": softmax("logsoftmax"),
    "Add": elementwise("add"),
    "Sum": elementwise("add"),
    "Mul": elementwise("mul"),
    "Div": elementwise("div"),
    "Sub": elementwise("sub"),
    "Concat": concat,
    "LSTM": recurrent("lstm", 4),
    "GRU": recurrent("gru", 3),
    "RNN": recurrent("rnn", 1),
    "Flatten": flatten,
    "Reshape": reshape,
    "Transpose": transpose,
    "Squeeze": squeeze_unsqueeze,
    "Unsqueeze": squeeze_unsqueeze,
    "Identity": identity,
    "Dropout": dropout,
    "Pad": pad,
    "Resize": resize,
    "Upsample": resize,
    "Gather": gather,
    "Slice": slice_,
    "Split": split,
    "Shape": shape,
    "Constant": constant,
}
