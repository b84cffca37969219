"""Diagnostics: errors and warnings as values with source positions.

Parsers and passes collect `Diagnostic`s instead of raising, so that one run reports every
problem in a file. They are rendered in one place (`netcalc.cli.render`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based position in a source file."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    id: str
    severity: Severity
    message: str
    span: Span
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.span}: {self.severity.value}: {self.message} [{self.id}]"
        return f"{text} ({self.hint})" if self.hint else text


MAX_MESSAGE = 400  # characters: a message quoting a hostile 100 KB value stays readable


def error(id: str, message: str, span: Span, hint: str | None = None) -> Diagnostic:
    return Diagnostic(id, Severity.ERROR, _bounded(message), span, hint)


def warning(id: str, message: str, span: Span, hint: str | None = None) -> Diagnostic:
    return Diagnostic(id, Severity.WARNING, _bounded(message), span, hint)


def finding(id: str, message: str, span: Span, hint: str | None = None) -> Diagnostic:
    """A diagnostic of the id's registered default severity (core/ids.py)."""
    from .ids import IDS

    make = error if IDS[id].severity == "error" else warning
    return make(id, message, span, hint)


_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F) if chr(code) not in "\t"}


def _bounded(message: str) -> str:
    """Readable on one line: control characters (a NUL in a spec, a newline) escaped, and a
    message quoting a huge value shortened in the middle."""
    message = message.translate(_CONTROL)
    if len(message) <= MAX_MESSAGE:
        return message
    head, tail = message[: MAX_MESSAGE - 160], message[-100:]
    return f"{head} [... {len(message) - len(head) - len(tail):,} characters ...] {tail}"


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple[str, int, int]:
    return (d.span.file, d.span.line, d.span.col)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str | None:
    """A spelling suggestion for an unknown name, or None."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f"did you mean '{close[0]}'?" if close else None
