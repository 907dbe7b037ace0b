"""Validation of NDJSON: one message per line, as log files and message
queues carry them."""
import io
import os
from typing import IO, Iterator, NamedTuple, Optional, Union

from . import _native
from .message import Limits, _DEFAULT_LIMITS

__all__ = ["LineResult", "validate_ndjson"]

# What a blank line may hold (as the command-line tool counts it).
_BLANK = b" \t\r\n\x0c"


class LineResult(NamedTuple):
    """The verdict on one message of a stream."""

    line: int
    """Its line number, from 1 (blank lines are counted, not reported)."""
    error: Optional[Exception]
    """None when valid; otherwise the ``ValidationError`` or
    ``SerializationError`` that says why, not raised."""

    @property
    def valid(self) -> bool:
        """Whether the message was accepted."""
        return self.error is None


Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]


def validate_ndjson(
    source: Source, *, strict: bool = False, limits: Optional[Limits] = None
) -> Iterator[LineResult]:
    """Checks every message of an NDJSON stream, one per line, and yields one
    result per message, valid or not.

    ``source`` is a file name, the bytes themselves, or a file object opened
    in binary mode. The stream is read line by line, so a large file is not
    loaded whole; a line longer than ``limits.max_bytes`` is measured and
    reported without being kept. A line may end with ``\\r\\n``; blank lines
    are skipped.
    """
    limits = limits or _DEFAULT_LIMITS
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as stream:
            yield from _results(stream, strict, limits)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        yield from _results(io.BytesIO(bytes(source)), strict, limits)
    else:
        yield from _results(source, strict, limits)


def _results(stream: IO[bytes], strict: bool, limits: Limits) -> Iterator[LineResult]:
    # Room for the limit and "\r\n": a read that fills it without reaching
    # the end of the line has found a line too long.
    room = limits.max_bytes + 2
    number = 0
    while True:
        chunk = stream.readline(room)
        if not chunk:
            return
        if not isinstance(chunk, bytes):
            raise TypeError("validate_ndjson reads bytes: open the file in binary mode")
        number += 1
        if len(chunk) == room and not chunk.endswith(b"\n"):
            size = _rest_of_line(stream, chunk)
            yield LineResult(number, _native.too_large(size, limits.max_bytes))
            continue
        line = chunk[:-1] if chunk.endswith(b"\n") else chunk
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line.strip(_BLANK):
            continue
        yield LineResult(number, _native.refusal(line, strict, limits.max_bytes, limits.max_depth))


def _rest_of_line(stream: IO[bytes], start: bytes) -> int:
    """Reads an over-long line to its end without keeping it, and gives its
    length without the line end."""
    size, last = len(start), start[-1:]
    while True:
        more = stream.readline(1 << 16)
        if not more:
            return size - (last == b"\r")
        if more.endswith(b"\n"):
            body = more[:-1]
            last = body[-1:] or last
            return size + len(body) - (last == b"\r")
        size, last = size + len(more), more[-1:]
