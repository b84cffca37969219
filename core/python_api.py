"""The Python API: `netcalc.analyze(spec)` and `netcalc.analyze_text(text)` return a
`Summary`, what `netcalc summary` shows, as Python objects (`rows`, `totals`), as the JSON
document `netcalc summary --format json` prints (`to_json`, `to_dict`), as a pandas
DataFrame (`to_dataframe`) and as an HTML table in Jupyter (`_repr_html_`).

Every figure is the core's: the records of `Report.as_records` (batch and dtype applied
there, exactly as for the command line). This module checks arguments, raises the errors a
caller catches, and lays the records out; it computes nothing. The totals footer is the
command line's own (`report.totals_footer`); the other layouts mirror its renderers
(`cli/render/formats.py`), which the core may not import, and the tests hold them equal to
`netcalc summary`'s JSON, markdown cells and stderr lines."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Any, TypeAlias

from . import api
from .analysis.training import OPTIMIZER_STATES, Training
from .diagnostics import Diagnostic, Severity, did_you_mean
from .dtypes import DTYPE_BYTES
from .fold import fold_batchnorm
from .report import Report, human, totals_footer

__all__ = ["ReceptiveField", "Row", "SpecError", "SpecNotFound", "Summary", "Totals", "analyze", "analyze_text"]

# A shape as the command line's --input takes it ("3x512x512", "ids=128:int64"), as
# integers ((3, 512, 512)), several of them, or input name -> shape.
InputShapes: TypeAlias = "str | Sequence[int] | Sequence[str] | Mapping[str, str | Sequence[int]] | None"

TEXT_FILE = "<string>"  # what messages call a spec given as text


class SpecError(ValueError):
    """The spec is invalid (or an `input=` shape cannot be read): every problem found, not
    just the first, each positioned in the spec.

    `messages` are the lines `netcalc` prints on stderr (`spec.yaml:3:5: error: ... [id]`),
    `diagnostics` the same problems as values (`id`, `severity`, `message`, `hint`, and
    `span` with `file`, `line`, `col`), warnings included; `errors` only the errors."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        self.messages: list[str] = [diagnostic_line(d) for d in self.diagnostics]
        super().__init__("\n".join(self.messages))

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    def __reduce__(self) -> tuple[type[SpecError], tuple[tuple[Diagnostic, ...]]]:
        return (type(self), (self.diagnostics,))


class SpecNotFound(FileNotFoundError):
    """The spec is neither a readable file nor a built-in spec name (the message says which,
    with a did-you-mean for a misspelt built-in)."""


@dataclass(frozen=True, slots=True)
class ReceptiveField:
    """A layer's receptive field on the input, per spatial axis (docs/receptive-fields.md):
    `size`, `jump` (effective stride), `start` (centre of the first unit's field) and
    `padding` (effective padding), exact: integers, or Fractions after a transposed conv.
    `is_global`: the field covers the whole input whatever its size (after a global pool, a
    flatten, attention); `prefix`: it is global along a causal sequence (position i reads 0..i)."""

    size: tuple[int | Fraction, ...]
    jump: tuple[int | Fraction, ...]
    start: tuple[int | Fraction, ...]
    padding: tuple[int | Fraction, ...]
    is_global: bool
    prefix: bool = False

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ReceptiveField:
        def exact(values: Sequence[int | str]) -> tuple[int | Fraction, ...]:
            return tuple(Fraction(v) if isinstance(v, str) else v for v in values)  # "1/2" in JSON

        return cls(exact(record["size"]), exact(record["jump"]), exact(record["start"]), exact(record["padding"]),
                   bool(record["global"]), bool(record.get("prefix", False)))


@dataclass(frozen=True, slots=True)
class Row:
    """One row of the summary: a layer, or (with `depth=`) a block folded into one row with
    its summed figures. The keys of a layer in the JSON document (docs/json.md), as
    attributes. `shape` excludes the batch axis; `macs`, `flops` and `activation_bytes`
    include the batch size; `line`/`col` locate the layer in the spec."""

    name: str
    type: str
    inputs: tuple[str, ...]
    shape: tuple[int, ...]
    params: int
    trainable_params: int
    buffers: int
    macs: int
    flops: int
    activation_bytes: int
    window: str  # a windowed layer's kernel, stride and padding (`k3 s2 p1`), else ""
    rf: ReceptiveField | None  # None: the layer does not read the first input
    depth: int  # enclosing blocks (or folded levels with depth=)
    line: int
    col: int
    dtype: str = "float32"  # the output's element type: int64 for token ids
    shares: str | None = None  # the layer whose module (or tied weight) it calls again
    saved_bytes: int | None = None  # with train=: what autograd saves for backward (docs/training-memory.md)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Row:
        rf = record["rf"]
        return cls(record["name"], record["type"], tuple(record["inputs"]), tuple(record["shape"]), record["params"],
                   record["trainable_params"], record["buffers"], record["macs"], record["flops"],
                   record["activation_bytes"], record["window"], None if rf is None else ReceptiveField.from_record(rf),
                   record["depth"], record["line"], record["col"], record.get("dtype", "float32"),
                   record.get("shares"), record.get("saved_bytes"))


@dataclass(frozen=True, slots=True)
class Totals:
    """The sums over every layer (whatever the depth): the `totals` of the JSON document.
    Counts of parameters and buffers are per model; `macs`, `flops` and the activation and
    input bytes include the batch size; bytes are at the summary's dtype. The KV cache of
    causal attention is None for a network without one."""

    layers: int
    params: int
    trainable_params: int
    non_trainable_params: int
    buffers: int
    macs: int
    flops: int
    input_bytes: int
    activation_bytes: int
    param_bytes: int
    buffer_bytes: int
    total_bytes: int
    kv_cache_bytes_per_token: int | None = None
    kv_cache_bytes: int | None = None
    # with train= (docs/training-memory.md); None without
    saved_activation_bytes: int | None = None
    recomputed_bytes: int | None = None  # with checkpoint=
    master_param_bytes: int | None = None
    master_buffer_bytes: int | None = None
    gradient_bytes: int | None = None
    optimizer_state_bytes: int | None = None
    train_memory_bytes: int | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, int]) -> Totals:
        # keys the core adds later (never renamed, docs/json.md) are in to_dict() until named here
        return cls(**{name: record[name] for name in cls.__dataclass_fields__ if name in record})


class Summary:
    """What `analyze` and `analyze_text` return: the analysed network at one batch size,
    dtype and depth. Attributes: `name`, `file`, `input` (name -> shape), `output` (the
    shape of the output layer, `output_layer`), `outputs` (every output: name -> shape),
    `batch`, `dtype`, `depth`, `rows`, `totals`, `fields` (name -> receptive field),
    `diagnostics` and `warnings` (what a valid spec was warned about). Not built directly."""

    def __init__(self, report: Report, batch: int, dtype: str, depth: int | None,
                 training: Training | None = None) -> None:
        self._report = report
        self._records = report.as_records(batch, dtype, depth, training=training)
        records = self._records
        self.name: str = records["name"]
        self.file: str = report.graph.file
        self.input: dict[str, tuple[int, ...]] = {name: tuple(dims) for name, dims in records["input"].items()}
        self.input_dtypes: dict[str, str] = {name: records.get("input_dtypes", {}).get(name, "float32")
                                             for name in self.input}
        self.output: tuple[int, ...] = tuple(records["output"])
        self.output_layer: str = records["output_layer"]
        self.outputs: dict[str, tuple[int, ...]] = (
            {name: tuple(dims) for name, dims in records["outputs"].items()} if "outputs" in records
            else {self.output_layer: self.output}
        )
        self.batch: int = batch
        self.dtype: str = dtype
        self.depth: int | None = depth
        self.totals: Totals = Totals.from_record(records["totals"])
        self.diagnostics: tuple[Diagnostic, ...] = report.diagnostics
        self.warnings: list[str] = [diagnostic_line(d) for d in report.diagnostics]

    @cached_property
    def rows(self) -> tuple[Row, ...]:
        """One per layer, in the spec's order; with `depth=`, deeper layers folded into their block."""
        return tuple(Row.from_record(record) for record in self._records["layers"])

    @cached_property
    def fields(self) -> dict[str, ReceptiveField | None]:
        """Row name -> its receptive field (None where a row does not read the first input)."""
        return {row.name: row.rf for row in self.rows}

    @cached_property
    def _by_name(self) -> dict[str, Row]:
        return {row.name: row for row in self.rows}

    def row(self, name: str) -> Row:
        """The row of that name (a layer, or at `depth=` a folded block); KeyError otherwise."""
        try:
            return self._by_name[name]
        except KeyError:
            hint = did_you_mean(name, list(self._by_name))
            raise KeyError(f"no row '{name}' in {self.name}" + (f"; {hint}" if hint else "")) from None

    def to_dict(self) -> dict[str, Any]:
        """The JSON document as Python values (a new copy on every call; docs/json.md)."""
        return self._report.as_records(self.batch, self.dtype, self.depth)

    def to_json(self) -> str:
        """The document `netcalc summary --format json` prints, with the same options, character
        for character: one line per top-level key and per layer."""
        import json

        records = self._records
        lines = [f"  {json.dumps(key)}: {json.dumps(value)}" for key, value in records.items() if key != "layers"]
        layers = ",\n".join(f"    {json.dumps(layer)}" for layer in records["layers"])
        lines.append(f'  "layers": [\n{layers}\n  ]' if layers else '  "layers": []')
        return "{\n" + ",\n".join(lines) + "\n}\n"

    def to_dataframe(self) -> Any:
        """A pandas DataFrame, one row per row of the summary and a column per attribute of
        `Row` (`rf` as `rf.size`, `rf.jump`, `rf.start`, `rf.padding`, `rf.global`, per-axis
        tuples). Needs pandas, which netcalc does not install."""
        import importlib

        try:
            pandas = importlib.import_module("pandas")  # no stubs needed: netcalc does not depend on it
        except ImportError as exc:
            raise ImportError("Summary.to_dataframe() needs pandas, which netcalc does not install: "
                              "pip install pandas") from exc
        return pandas.DataFrame.from_records([_flat(row) for row in self.rows], columns=DATAFRAME_COLUMNS)

    def _repr_html_(self) -> str:
        """Jupyter's display: the summary table and its totals, as `netcalc summary` shows them."""
        from html import escape

        rows = self.rows
        shown: list[Row | None] = list(rows)
        if len(rows) > MAX_HTML_ROWS:  # a notebook cell is no place for 100,000 rows
            half = MAX_HTML_ROWS // 2
            shown = [*rows[:half], None, *rows[-half:]]
        left = "text-align:left"
        right = "text-align:right"
        out = [f'<div class="netcalc-summary"><p><strong>{escape(_title(self._records))}</strong></p>']
        if self.warnings:
            out.append("<ul>" + "".join(f"<li><code>{escape(w)}</code></li>" for w in self.warnings) + "</ul>")
        out.append("<table><thead><tr>" + "".join(
            f'<th style="{right if key not in TEXT_COLUMNS else left}">{escape(header)}</th>'
            for key, header in SUMMARY_COLUMNS) + "</tr></thead><tbody>")
        for row in shown:
            if row is None:
                out.append(f'<tr><td colspan="{len(SUMMARY_COLUMNS)}" style="{left}">… '
                           f"{len(rows) - 2 * (MAX_HTML_ROWS // 2):,} rows left out here "
                           "(<code>rows</code>, <code>to_dataframe()</code> and <code>to_json()</code> hold them "
                           "all)</td></tr>")
                continue
            cells = summary_cells(row)
            out.append("<tr>" + "".join(
                f'<td style="{left};padding-left:{0.5 + row.depth}em">{escape(text)}</td>' if key == "name" else
                f'<td style="{right if key not in TEXT_COLUMNS else left}">{escape(text)}</td>'
                for (key, _), text in zip(SUMMARY_COLUMNS, cells)) + "</tr>")
        out.append("</tbody></table><table><tbody>")
        out += [f'<tr><th style="{left}">{escape(label)}</th><td style="{right}">{escape(text)}</td></tr>'
                for label, text in totals_footer(self._records)]
        out.append("</tbody></table></div>")
        return "\n".join(out)

    def __str__(self) -> str:
        """The summary as a plain text table with its totals, for print()."""
        headers = [header for _, header in SUMMARY_COLUMNS]
        cells = [["  " * row.depth + text if key == "name" else text
                  for (key, _), text in zip(SUMMARY_COLUMNS, summary_cells(row))] for row in self.rows]
        widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
        keys = [key for key, _ in SUMMARY_COLUMNS]

        def line(texts: Sequence[str]) -> str:
            return "  ".join(t.ljust(w) if k in TEXT_COLUMNS else t.rjust(w)
                             for k, t, w in zip(keys, texts, widths)).rstrip()

        lines = [_title(self._records), *self.warnings, line(headers), "  ".join("-" * w for w in widths)]
        lines += [line(r) for r in cells]
        lines += [f"{label}: {text}" for label, text in totals_footer(self._records)]
        return "\n".join(lines)

    def __repr__(self) -> str:
        t = self.totals
        shapes = ", ".join(f"{name} {_shape(dims, self.input_dtypes[name])}" for name, dims in self.input.items())
        warned = f"; {len(self.warnings)} warning(s)" if self.warnings else ""
        folded = f", depth {self.depth}" if self.depth is not None else ""
        return (f"<netcalc.Summary {self.name}: {shapes} -> {_shape(self.output)}; {t.layers:,} layers, "
                f"{t.params:,} params, {human(t.macs)} MACs; batch {self.batch}, {self.dtype}{folded}{warned}>")


def analyze(spec: str | os.PathLike[str], *, input: InputShapes = None, batch: int = 1, dtype: str = "float32",
            depth: int | None = None, train: str | None = None, grad_dtype: str | None = None,
            checkpoint: str | None = None, allow_unknown: bool = False, fold_bn: bool = False) -> Summary:
    """The summary of a spec file (YAML or text), a built-in spec name (`resnet50`), or an
    ONNX model (`model.onnx`, with the onnx package), as `netcalc summary SPEC` gives it.

    `input` overrides the spec's input shape (`"3x512x512"`, `(3, 512, 512)`, a list of
    `"NAME=SHAPE"` or a mapping name -> shape); `batch` multiplies MACs, FLOPs and activation
    bytes; `dtype` (float32, float16, bfloat16, int8, float64) sizes the bytes; `depth`
    folds rows nested deeper into their block, as `--depth` does; `train` (an optimizer:
    sgd, sgd-momentum, adam, adamw) adds the training memory, as `--train --optimizer` does
    (each row's `saved_bytes`, the totals' training figures), `grad_dtype` the gradients'
    type, `checkpoint` a block type run under activation checkpointing (`--checkpoint`);
    `allow_unknown` reads an ONNX model's unmapped operators as `--allow-unknown` does;
    `fold_bn` folds each BatchNorm after a convolution into it, as `--fold-bn` does.
    Raises SpecNotFound, SpecError, and ValueError or TypeError for an argument out of range
    or of the wrong type."""
    _check_options(batch, dtype, depth)
    training = _training(train, grad_dtype, dtype, checkpoint)
    inputs = _input_options(input)
    path = _spec_path(spec)
    try:
        report = api.analyze(path, inputs, allow_unknown)
    except api.SpecNotFound as exc:
        raise SpecNotFound(str(exc)) from None
    if not report.ok:  # raised here: the user's traceback ends at the call they wrote
        raise SpecError(report.diagnostics)
    return _summary(report, batch, dtype, depth, training, fold_bn)


def analyze_text(text: str, *, input: InputShapes = None, batch: int = 1, dtype: str = "float32",
                 depth: int | None = None, file: str = TEXT_FILE, train: str | None = None,
                 grad_dtype: str | None = None, checkpoint: str | None = None, fold_bn: bool = False) -> Summary:
    """The summary of a spec given as a string, YAML or the text syntax (YAML when a line
    starts with a top-level key such as `input:` or `layers:`). `file` names the spec in
    messages, and by its suffix (.yaml, .yml, .net) says which syntax it is; a spec without
    `name:` is named after it ("spec" for the default). Other arguments as for `analyze`."""
    if not isinstance(text, str):
        raise TypeError(f"analyze_text() takes the spec's text as a str, not {type(text).__name__}")
    _check_options(batch, dtype, depth)
    training = _training(train, grad_dtype, dtype, checkpoint)
    inputs = _input_options(input)
    stem = "spec" if file == TEXT_FILE else os.path.splitext(os.path.basename(file))[0]
    report = api.analyze_source(text, file, stem, inputs)
    if not report.ok:
        raise SpecError(report.diagnostics)
    return _summary(report, batch, dtype, depth, training, fold_bn)


def _summary(report: Report, batch: int, dtype: str, depth: int | None, training: Training | None,
             fold_bn: bool) -> Summary:
    """The Summary of a valid report; ValueError for training settings the network cannot
    take (`Training.problem`), or training a network folded for inference."""
    if training is not None and fold_bn:
        raise ValueError("fold_bn=True is the network as deployed, for inference: training keeps its BatchNorms")
    _check_training(report, training, dtype)
    return Summary(fold_batchnorm(report) if fold_bn else report, batch, dtype, depth, training)


def _training(optimizer: str | None, grad_dtype: str | None, dtype: str, checkpoint: str | None) -> Training | None:
    """The `train=`, `grad_dtype=` and `checkpoint=` arguments, checked as the command line
    checks them."""
    if not optimizer:  # train=None or train=False: no training
        if grad_dtype is not None or checkpoint is not None:
            given = "grad_dtype=" if grad_dtype is not None else "checkpoint="
            raise ValueError(f"{given} needs train= (an optimizer)")
        return None
    if optimizer not in OPTIMIZER_STATES:
        raise ValueError(f"train={optimizer!r} is not one of {', '.join(OPTIMIZER_STATES)}")
    if grad_dtype is not None and grad_dtype not in DTYPE_BYTES:
        raise ValueError(f"grad_dtype {grad_dtype!r} is not one of {', '.join(DTYPE_BYTES)}")
    return Training(optimizer, grad_dtype, checkpoint)


def _check_training(report: Report, training: Training | None, dtype: str) -> None:
    """The core's check of the training settings against the network (`Training.problem`)."""
    if training is None:
        return
    problem = training.problem(dtype, report.graph)
    if problem is not None:
        setting, why = problem
        given = {"dtype": dtype, "grad_dtype": training.grad_dtype, "checkpoint": training.checkpoint}[setting]
        raise ValueError(f"{setting}={given!r}: {why}")


def _spec_path(spec: str | os.PathLike[str]) -> str:
    if not isinstance(spec, (str, os.PathLike)):
        raise TypeError(f"analyze() takes a spec file, a built-in spec name or a path, not {type(spec).__name__}")
    path = os.fspath(spec)
    if not isinstance(path, str):
        raise TypeError("analyze() takes a path as str, not bytes")
    if "\n" in path:
        raise SpecNotFound("analyze() takes a spec file or a built-in spec name, and this looks like a spec's "
                           "text: use netcalc.analyze_text(text)")
    return path


def _check_options(batch: int, dtype: str, depth: int | None) -> None:
    """The command line's bounds on --batch, --dtype and --depth."""
    if isinstance(batch, bool) or not isinstance(batch, int):
        raise TypeError(f"batch must be an int, not {type(batch).__name__}")
    if batch < 1:
        raise ValueError(f"batch must be at least 1, not {batch}")
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"dtype {dtype!r} is not one of {', '.join(DTYPE_BYTES)}")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int)):
        raise TypeError(f"depth must be an int or None, not {type(depth).__name__}")
    if depth is not None and depth < 1:
        raise ValueError(f"depth must be at least 1 (1: top-level layers and blocks), not {depth}")


def _input_options(shapes: InputShapes) -> tuple[str, ...]:
    """The `input=` argument as the command line's --input values, which the core reads
    (and reports, positioned at `--input`, when it cannot)."""
    if shapes is None:
        return ()
    if isinstance(shapes, str):
        return (shapes,)
    if isinstance(shapes, Mapping):
        return tuple(f"{name}={_shape_text(shape)}" for name, shape in shapes.items())
    if isinstance(shapes, Sequence) and shapes and all(isinstance(s, str) for s in shapes):
        return tuple(str(s) for s in shapes)
    return (_shape_text(shapes),)  # type: ignore[arg-type]


def _shape_text(shape: str | Sequence[int]) -> str:
    if isinstance(shape, str):
        return shape
    if isinstance(shape, Sequence) and shape and all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
        return "x".join(str(d) for d in shape)
    raise TypeError(f"an input shape is a str such as '3x224x224' or a sequence of ints such as (3, 224, 224), "
                    f"not {shape!r}")


# What the layouts show, mirroring `netcalc summary` (cli/commands/report.py's SUMMARY and
# cli/render/formats.py); the tests compare the cells with the markdown format's.
SUMMARY_COLUMNS = (("name", "Layer"), ("type", "Type"), ("shape", "Output shape"), ("params", "Params"),
                   ("buffers", "Buffers"), ("macs", "MACs"), ("flops", "FLOPs"),
                   ("activation_bytes", "Activation bytes"), ("rf.size", "RF"), ("rf.jump", "Jump"))
TEXT_COLUMNS = ("name", "type", "shape")
MAX_HTML_ROWS = 500
DATAFRAME_COLUMNS = ("name", "type", "inputs", "shape", "dtype", "params", "trainable_params", "buffers", "macs",
                     "flops", "activation_bytes", "window", "rf.size", "rf.jump", "rf.start", "rf.padding",
                     "rf.global", "depth", "line", "col", "shares")


def _flat(row: Row) -> tuple[object, ...]:
    rf = row.rf
    fields = (None,) * 5 if rf is None else (rf.size, rf.jump, rf.start, rf.padding, rf.is_global)
    return (row.name, row.type, row.inputs, row.shape, row.dtype, row.params, row.trainable_params, row.buffers,
            row.macs, row.flops, row.activation_bytes, row.window, *fields, row.depth, row.line, row.col, row.shares)


def summary_cells(row: Row) -> list[str]:
    """The row's cells in SUMMARY_COLUMNS, as the command line's tables write them."""
    return [row.name, f"{row.type} (shares {row.shares})" if row.shares else row.type,
            _shape(row.shape, row.dtype), *(f"{v:,}" for v in (row.params, row.buffers, row.macs, row.flops,
                                                               row.activation_bytes)),
            _per_axis(row.rf.size if row.rf else None), _per_axis(row.rf.jump if row.rf else None)]


def _shape(dims: Sequence[int], dtype: str = "float32") -> str:
    return "x".join(map(str, dims)) + ("" if dtype == "float32" else f":{dtype}")


def _per_axis(values: Sequence[int | Fraction] | None) -> str:
    """One figure when the axes agree (`7`), else one per axis (`7x3`); `-` for none."""
    if values is None:
        return "-"
    return str(values[0]) if len(set(map(str, values))) == 1 else "x".join(map(str, values))


def _title(records: Mapping[str, Any]) -> str:
    typed = records.get("input_dtypes", {})
    shapes = ", ".join(f"{name} {_shape(dims, typed.get(name, 'float32'))}" for name, dims in records["input"].items())
    return f"{records['name']}: {shapes}"


def diagnostic_line(d: Diagnostic) -> str:
    """`file:line:col: severity: message; hint [id]`, as the command line prints it."""
    text = f"{d.span}: {d.severity.value}: {d.message}"
    if d.hint:
        text += f"; {d.hint}"
    return f"{text} [{d.id}]"
