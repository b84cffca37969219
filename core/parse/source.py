"""Bytes -> source text: UTF-8, or one positioned error at the first byte that is not."""

from __future__ import annotations

from ..diagnostics import Diagnostic, Span, error

MAX_SOURCE_BYTES = 256 * 2**20  # far past any real spec; what a pipe may feed netcalc at most


class SourceError(ValueError):
    """Bytes that are not a source netcalc reads; `diagnostic` says where and why."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


def span_at(file: str, text: str, offset: int) -> Span:
    """The 1-based line and column, in characters, of `offset` in `text`."""
    line_start = text.rfind("\n", 0, offset) + 1
    return Span(file, text.count("\n", 0, offset) + 1, offset - line_start + 1)


def decode(data: bytes, file: str) -> str:
    """UTF-8 text (read `MAX_SOURCE_BYTES + 1` bytes at most: more is refused)."""
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceError(error("too-large", f"the file is larger than {MAX_SOURCE_BYTES // 2**20} MiB",
                                Span(file, 1, 1)))
    try:
        return data.decode("utf-8").removeprefix("\ufeff")  # a byte-order mark some editors write
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")  # valid up to the bad byte
        raise SourceError(error("encoding", f"byte 0x{data[exc.start]:02x} is not UTF-8: netcalc reads UTF-8 text",
                                span_at(file, before, len(before)))) from None
