"""The one door the command line uses: spec in, `Report` out."""

from __future__ import annotations

import re
import stat
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .analysis.cost import Cost, layer_cost
from .analysis.receptive_field import Axes, Field, receptive_fields
from .analysis.shapes import ShapePass
from .build import Builder, unused_layers
from .diagnostics import Diagnostic, Severity, Span, did_you_mean, error, finding, has_errors, sort_key
from .ir import Graph, Input, Layer, Shape
from .parse.document import TOP_KEYS, Document
from .parse.source import MAX_SOURCE_BYTES, SourceError, decode
from .parse.values import parse_input
from .report import Report

if TYPE_CHECKING:
    from .config import Config

YAML_SUFFIXES = (".yaml", ".yml")
ONNX_SUFFIX = ".onnx"


class SpecNotFound(Exception):
    """The spec is neither a readable file nor a built-in spec name."""


def builtin_specs() -> dict[str, Path]:
    """Built-in spec name -> file (the `specs/` folder, installed as netcalc.specs); specs in
    a subfolder are named `folder/stem` (`tf-slim/resnet_v1_50`)."""
    from .. import specs

    # The package's folder rather than importlib.resources, whose import alone costs more than
    # a whole analysis; the specs are plain files in every install pip makes.
    found = {}
    folders = [("", Path(specs.__path__[0]))]
    while folders:
        prefix, folder = folders.pop(0)
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.is_dir() and not entry.name.startswith(("_", ".")):
                folders.append((f"{prefix}{entry.name}/", entry))
            elif entry.suffix in YAML_SUFFIXES + (".net",):
                found[prefix + entry.stem] = entry
    return found


STDIN = "-"  # as a SPEC: read the spec from standard input, as linters do
STDIN_NAME = "<stdin>"
_YAML_KEY = re.compile(rf"^(?:{'|'.join(TOP_KEYS)})\s*:", re.MULTILINE)


class SpecUnreadable(SpecNotFound):
    """The spec exists but is not text netcalc can read: a positioned error."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


# Standard input and pipes can be read once: what they gave, for a command that loads its
# spec twice (convert analyses it, then converts the document), keyed by the stream itself.
_STREAMED: dict[tuple[object, ...], tuple[str, str, str]] = {}


def load(spec: str) -> tuple[str, str, str]:
    """(source text, file name for messages, stem) of a path, `-` (standard input) or a
    built-in spec name."""
    stream = _stream_key(spec)
    if stream is None:
        return _load(spec)
    if stream not in _STREAMED:
        _STREAMED[stream] = _load(spec)
    return _STREAMED[stream]


def _stream_key(spec: str) -> tuple[object, ...] | None:
    if spec == STDIN:
        return (spec, sys.stdin)
    try:
        status = Path(spec).stat()
    except OSError:
        return None
    return (spec, status.st_ino, status.st_mtime_ns) if stat.S_ISFIFO(status.st_mode) else None


def _load(spec: str) -> tuple[str, str, str]:
    if spec == STDIN:
        return _decode(sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1), STDIN_NAME), STDIN_NAME, "stdin"
    path = Path(spec)
    try:
        exists = path.exists()
    except OSError as exc:  # a name the file system refuses (too long): no such file
        raise SpecNotFound(f"no spec file '{spec[:80]}{'...' if len(spec) > 80 else ''}': "
                           f"{exc.strerror or exc}") from None
    if not exists:
        builtin = builtin_specs().get(spec)
        if builtin is None:
            hint = did_you_mean(spec, list(builtin_specs()))
            raise SpecNotFound(f"no spec file '{spec}' and no built-in spec of that name"
                               f"{'; ' + hint if hint else ''} (see `netcalc zoo`)")
        path = builtin
    elif path.is_dir():
        raise SpecNotFound(f"'{spec}' is a directory, not a spec file (`netcalc check {spec}` checks every spec in it)")
    elif not (path.is_file() or stat.S_ISFIFO(path.stat().st_mode)):  # a pipe: `<(generate-spec)`
        raise SpecNotFound(f"'{spec}' is a device or socket, not a spec file")
    file = str(spec if path.name == Path(spec).name else path)
    try:
        with path.open("rb") as handle:
            return _decode(handle.read(MAX_SOURCE_BYTES + 1), file), file, path.stem
    except OSError as exc:
        raise SpecNotFound(f"cannot read '{spec}': {exc.strerror or exc}") from None


def _decode(data: bytes, file: str) -> str:
    try:
        return decode(data, file)
    except SourceError as exc:
        raise SpecUnreadable(exc.diagnostic) from None


def parse(source: str, file: str, stem: str) -> tuple[Document, list[Diagnostic]]:
    # Each reader is imported when a spec needs it: PyYAML's import alone costs more than
    # analysing resnet50, and text specs never need it.
    if is_yaml(source, file):
        from .parse.yaml_spec import parse_yaml as reader
    else:
        from .parse.text_spec import parse_text as reader
    return reader(source, file, stem)


def is_yaml(source: str, file: str) -> bool:
    """By the file's suffix (.yaml/.yml, or .net for text); without one (standard input, a
    pipe such as `<(generate-spec)`, `spec.txt`), YAML when a line starts with one of its
    top-level keys (`input:`, `layers:`), which no text spec line can."""
    suffix = Path(file).suffix.lower()
    if suffix in SPEC_SUFFIXES:
        return suffix in YAML_SUFFIXES
    return _YAML_KEY.search(source) is not None


def source_text(spec: str) -> str:
    """The spec's text (its inline `# netcalc: disable=` comments), "" for an ONNX model."""
    return "" if is_onnx(spec) else load(spec)[0]


def document(spec: str, inputs: Sequence[str] = (), allow_unknown: bool = False) -> Document:
    """The spec as written (for `convert`), or an ONNX model as a spec (`import`)."""
    if is_onnx(spec):
        from .onnx.spec import to_spec

        return to_spec(read_model(spec, inputs, allow_unknown)[0])
    return parse(*load(spec))[0]


def parse_input_option(text: str) -> tuple[str | None, tuple[int, ...], str | None]:
    """`3x512x512`, `NAME=3x512x512` or `ids=128:int64` (the --input option), the type None
    when not written (the spec's stays); raises ValueError."""
    name, sep, shape = text.rpartition("=")
    dims, dtype = parse_input(shape)
    return (name if sep else None), dims, (dtype if ":" in shape else None)


def analyze(spec: str, inputs: Sequence[str] = (), allow_unknown: bool = False) -> Report:
    """`allow_unknown`: an ONNX model's unmapped operators as identity where it can
    (--allow-unknown, `onnx.model.Reader.unknown`)."""
    return _read_and_analyze(spec, inputs, allow_unknown)[0]


def _read_and_analyze(spec: str, inputs: Sequence[str], allow_unknown: bool = False) -> tuple[Report, str]:
    """The report and the source; a spec that cannot even be read (not UTF-8, too large)
    is a report of that one error, with no source. An ONNX model has no source text."""
    if is_onnx(spec):
        return analyze_document(*read_model(spec, inputs, allow_unknown), inputs), ""
    try:
        source, file, stem = load(spec)
    except SpecUnreadable as exc:
        return Report(Graph("", exc.diagnostic.span.file, (), (), ""), {}, {}, (exc.diagnostic,)), ""
    return analyze_source(source, file, stem, inputs), source


def is_onnx(spec: str) -> bool:
    try:
        return spec.lower().endswith(ONNX_SUFFIX) and Path(spec).is_file()
    except OSError:  # a name the file system refuses: reported as a missing spec
        return False


def read_model(spec: str, inputs: Sequence[str] = (), allow_unknown: bool = False) -> tuple[Document, list[Diagnostic]]:
    """An ONNX file as the Document a spec would parse to (see netcalc.core.onnx)."""
    from .onnx.model import read_onnx

    return read_onnx(Path(spec), spec, inputs, allow_unknown)


def analyze_source(source: str, file: str, stem: str = "spec", inputs: Sequence[str] = ()) -> Report:
    return analyze_document(*parse(source, file, stem), inputs)


def analyze_document(doc: Document, diags: list[Diagnostic], inputs: Sequence[str] = ()) -> Report:
    """The analyses of a parsed spec (or a model read into one), with the diagnostics so far."""
    file = doc.file
    declared = _inputs(doc, inputs, diags)
    shapes = ShapePass(declared)
    layers: list[Layer] = []
    builder = Builder(doc, declared, shapes.shape_of)
    too_large = any(d.id == "too-large" for d in diags)  # the parser stopped reading: expand nothing
    if declared and not too_large:
        for layer in builder.expand():
            shapes.add(layer)
            layers.append(layer)
    diags += builder.diags + shapes.diags
    output = builder.output or ""
    if not has_errors(diags) and declared and not output:
        diags.append(_no_layers(doc))
    if not has_errors(diags):
        diags += unused_layers(tuple(layers), builder.outputs or (output,), builder.blocks)
    graph = Graph(doc.name, file, declared, tuple(layers), output, tuple(builder.blocks), doc.checks,
                  builder.outputs or ((output,) if output else ()))
    costs: dict[str, Cost] = {}
    fields: Mapping[str, Field | None] = {}
    axes: Mapping[str, Axes] = {}
    if not has_errors(diags):
        costs = _costs(graph, shapes.shapes)
        fields, axes, field_diags = receptive_fields(graph, shapes.shapes)
        diags += field_diags
    return Report(graph, shapes.shapes, costs, tuple(sorted(diags, key=sort_key)), fields, axes)


def _no_layers(doc: Document) -> Diagnostic:
    if not doc.layers:
        return error("no-layers", "the spec has no layers", doc.span)
    # there are layer lines, but `if` (or a block whose layers are all dropped) left none
    return error("no-layers", "no layer is left: every layer is dropped by `if`", doc.layers[0].span,
                 "the network's output would be its input")


def _inputs(doc: Document, options: Sequence[str], diags: list[Diagnostic]) -> tuple[Input, ...]:
    declared = {d.name: Input(d.name, Shape(d.dims, d.dtype), d.span) for d in doc.inputs}
    for text in options:
        where = Span("--input", 1, 1)
        try:
            name, dims, dtype = parse_input_option(text)
        except ValueError as exc:
            diags.append(error("invalid-input", f"--input {text}: {exc}", where))
            continue
        name = name or (next(iter(declared)) if declared else "input")
        if declared and name not in declared:
            diags.append(error("invalid-input", f"--input {text}: the spec has no input '{name}' "
                               f"(it has {', '.join(declared)})", where))
            continue
        kept = dtype or (declared[name].shape.dtype if name in declared else "float32")  # 400 keeps ids' int64
        declared[name] = Input(name, Shape(dims, kept), where)  # the option, not the file, says it
    if not declared and not has_errors(diags):  # else the missing input is a consequence
        diags.append(error("missing-input", "the spec declares no input shape (add `input: 3x224x224` "
                           "or pass --input)", doc.span))
    diags += [batch_in_input(i) for i in declared.values() if looks_batched(i.shape.dims)]
    return tuple(declared.values())


def looks_batched(dims: tuple[int, ...]) -> bool:
    """1x3x224x224 as torchinfo users type it: a leading 1, then a few channels before the
    larger axes (a real 1-channel volume of depth 3 is rare; a typed batch axis is not)."""
    return len(dims) in (3, 4) and dims[0] == 1 and dims[1] <= 4 < dims[2]


def batch_in_input(i: Input) -> Diagnostic:
    shape, meant = "x".join(map(str, i.shape.dims)), "x".join(map(str, i.shape.dims[1:]))
    label = "input" if i.name == "input" else f"input {i.name}"
    return finding("batch-in-input", f"{label} {shape} is read as 1 channel and {len(i.shape.dims) - 1} spatial axes; "
                   "netcalc's shapes leave the batch axis out", i.span,
                   f"for images of shape {meant}, write {meant} (and --batch N)")


def _costs(graph: Graph, shapes: dict[str, Shape | None]) -> dict[str, Cost]:
    costs = {}
    memo: dict[tuple[object, ...], Cost] = {}  # the rules are pure: one evaluation per distinct layer
    sharing = any(layer.shares for layer in graph.layers)
    ops = {layer.name: layer.op for layer in graph.layers} if sharing else {}
    for layer in graph.layers:
        ins = tuple(shapes[name] for name in layer.inputs)
        shared_op = ops[layer.shares] if layer.shares else None
        # identical layers share one attrs mapping
        key = (layer.op, id(layer.attrs), ins, shared_op, layer.trainable)
        cost = memo.get(key)
        if cost is None:
            cost = memo[key] = layer_cost(layer, ins, shapes[layer.name], shared_op)  # type: ignore[arg-type]
        costs[layer.name] = cost
    return costs


SPEC_SUFFIXES = YAML_SUFFIXES + (".net",)
CHECKED = SPEC_SUFFIXES + (ONNX_SUFFIX,)  # what `check` finds in folders and globs


def spec_files(paths: Sequence[str]) -> list[str]:
    """Files, folders (every .yaml, .yml, .net and .onnx below) and globs, in order, once
    each; raises SpecNotFound for a path that matches nothing."""
    import glob

    found: list[str] = []
    for text in paths:
        path = Path(text)
        if path.is_dir():
            matches = sorted(str(p) for p in path.rglob("*") if p.suffix.lower() in CHECKED and p.is_file())
        elif path.is_file() or text in builtin_specs():
            matches = [text]
        else:
            matches = sorted(m for m in glob.glob(text, recursive=True) if Path(m).suffix.lower() in CHECKED)
        if not matches:
            raise SpecNotFound(f"no spec matches '{text}'")
        found.extend(m for m in matches if m not in found)
    return found


def check_limits(options: dict[str, str | None]) -> dict[str, tuple[object, Span]]:
    """Budgets given on the command line (`max_params="5M"`, `output="1000"`); raises
    ValueError for an unreadable one."""
    from .parse.common import CHECK_KEYS

    where = Span("command line", 1, 1)
    return {key: (CHECK_KEYS[key](value), where) for key, value in options.items() if value is not None}


def check(
    spec: str, options: dict[str, tuple[object, Span]], config: Config | None = None, inputs: Sequence[str] = (),
    allow_unknown: bool = False,
) -> tuple[Report, list[Diagnostic]]:
    """A spec analysed, then its CI rules run (`findings`). Returns the report and every
    diagnostic."""
    report, source = _read_and_analyze(spec, inputs, allow_unknown)
    return report, findings(report, source, options, config)


def findings(
    report: Report, source: str, options: Mapping[str, tuple[object, Span]], config: Config | None = None
) -> list[Diagnostic]:
    """The one check pipeline, for every command that shows findings (`check`, `graph`): the
    report's diagnostics and the CI rules' findings. Budgets: the configuration's defaults,
    then the spec's `check` section, then the command line's. The configuration and the
    spec's inline `# netcalc: disable=ID` silence rules; the configuration sets their
    severity."""
    from dataclasses import replace

    from .checks import run_checks
    from .config import Config, inline_disables, unknown_disables
    from .ids import RULES

    config = config or Config()
    # a budget from the command line or the configuration is the spec's too: its first line
    top = Span(report.graph.file, 1, 1)
    defaults = {key: (value, top) for key, (value, _) in config.budgets.items()}
    limits = {**defaults, **report.graph.checks, **{key: (value, top) for key, (value, _) in options.items()}}
    silenced = inline_disables(source)
    found = unknown_disables(silenced, RULES, report.graph.file)
    invalidating = {id(d) for d in report.diagnostics if d.severity is Severity.ERROR}
    for d in list(report.diagnostics) + run_checks(report, limits):
        if id(d) in invalidating:
            found.append(d)  # it makes the spec invalid: no configuration can silence or soften that
            continue
        if d.id in RULES and (d.id in config.disable or d.id in silenced.get(d.span.line, ((), 0))[0]):
            continue
        found.append(replace(d, severity=config.severity[d.id]) if d.id in config.severity else d)
    return sorted(found, key=sort_key)
