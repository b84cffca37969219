"""Document -> text or YAML, for `netcalc convert`: the spec as written (blocks, `$`
expressions, repeats and checks kept), so that converting back gives the same graph.
Comments are not carried over (PyYAML does not keep them)."""

from __future__ import annotations

from typing import Any

from .parse.document import REQUIRED, Document, Entry, InputDecl
from .parse.values import Expr


def value_text(value: Any) -> str:
    """A value as the layer line writes it (and parse_value reads it back)."""
    if isinstance(value, Expr):
        return value.source.replace(" ", "")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return "x".join(map(str, value))
    if isinstance(value, tuple):  # per-axis floats (an upsample's 1.5 and 2.5): a list
        return value_text(list(value))
    if isinstance(value, list):
        return "[" + ",".join(value_text(v) for v in value) + "]"
    return repr(value) if isinstance(value, float) else str(value)


def layer_line(entry: Entry) -> str:
    parts = [entry.type] + [f"{key}={value_text(value)}" for key, value in entry.args.items()]
    if entry.name is not None:
        parts.append(f"name={entry.name}")
    if entry.sources is not None:
        parts.append("from=" + ",".join(str(ref) for ref in entry.sources))
    if entry.repeat is not None:
        parts.append(f"repeat={value_text(entry.repeat)}")
    if entry.condition is not None:
        parts.append(f"if={value_text(entry.condition)}")
    if entry.share is not None:
        parts.append(f"share={entry.share}")
    if entry.trainable is not None:
        parts.append(f"trainable={value_text(entry.trainable)}")
    return " ".join(parts)


def _check_text(key: str, value: Any) -> str:
    if key != "output":
        return str(value)
    if len(value) == 1:
        return "x".join(map(str, value[0]))
    return "[" + ",".join("[" + ",".join(map(str, shape)) + "]" for shape in value) + "]"


def _input_text(i: InputDecl) -> str:
    dims = "x".join(map(str, i.dims))
    return dims if i.dtype == "float32" else f"{dims}:{i.dtype}"


def to_text(doc: Document) -> str:
    lines = [f"name {doc.name}"]
    if len(doc.inputs) == 1 and doc.inputs[0].name == "input":
        lines.append("input " + _input_text(doc.inputs[0]))
    else:
        lines.append("input " + " ".join(f"{i.name}={_input_text(i)}" for i in doc.inputs))
    if doc.outputs:
        lines.append("output " + ",".join(doc.outputs))
    for block in doc.blocks.values():
        args = [key if default is REQUIRED else f"{key}={value_text(default)}" for key, default in block.params.items()]
        if block.inputs != ("in",):
            args.append("inputs=" + ",".join(block.inputs))
        lines += ["", " ".join(["block", block.name, *args])] + [f"  {layer_line(e)}" for e in block.layers]
    lines += [""] + [layer_line(e) for e in doc.layers]
    if doc.checks:
        lines.append("check " + " ".join(f"{k}={_check_text(k, v)}" for k, (v, _) in doc.checks.items()))
    return "\n".join(lines) + "\n"


def _yaml_value(value: Any) -> Any:
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    return value_text(value)


def _yaml_outputs(shapes: tuple[tuple[int, ...], ...]) -> list[Any]:
    return list(shapes[0]) if len(shapes) == 1 else [list(shape) for shape in shapes]


def to_yaml(doc: Document) -> str:
    import yaml

    data: dict[str, Any] = {"name": doc.name}
    if len(doc.inputs) == 1 and doc.inputs[0].name == "input":
        data["input"] = _input_text(doc.inputs[0])
    else:
        data["input"] = {i.name: _input_text(i) for i in doc.inputs}
    if doc.outputs:
        data["output"] = doc.outputs[0] if len(doc.outputs) == 1 else list(doc.outputs)
    if doc.blocks:
        data["blocks"] = {}
        for block in doc.blocks.values():
            entry: dict[str, Any] = {}
            if block.params:
                entry["args"] = {k: None if v is REQUIRED else _yaml_value(v) for k, v in block.params.items()}
            if block.inputs != ("in",):
                entry["inputs"] = list(block.inputs)
            entry["layers"] = [layer_line(e) for e in block.layers]
            data["blocks"][block.name] = entry
    data["layers"] = [layer_line(e) for e in doc.layers]
    if doc.checks:
        data["check"] = {k: _yaml_outputs(v) if k == "output" else v for k, (v, _) in doc.checks.items()}
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=120)


WRITERS = {"text": to_text, "yaml": to_yaml}
