"""Diagnostics as `file:line:col: severity: message [id]`, one per line."""

from __future__ import annotations

from typing import Iterable, TextIO


def line(d: object) -> str:
    span, severity, message, id, hint = (getattr(d, k) for k in ("span", "severity", "message", "id", "hint"))
    text = f"{span}: {severity.value}: {message}"
    if hint:
        text += f"; {hint}"
    return f"{text} [{id}]"


def emit(diagnostics: Iterable[object], stream: TextIO) -> None:
    for d in diagnostics:
        print(line(d), file=stream)
