"""Validation of NDJSON: one message per line, as log files and message
queues carry them."""
import io
import os
from typing import IO, Iterator, NamedTuple, Optional, Union

from . import _native
from .message import Limits, _DEFAULT_LIMITS

__all__ = ["LineResult", "validate_ndjson"]


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
    are skipped, and so is a UTF-8 byte-order mark at the start. The lines
    are cut by the crate's reader, the one the command-line tool uses.
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
    # The crate's reader cuts the lines (as the command-line tool does): a
    # line over the limit comes as its size, measured without being kept.
    for number, body in _native.Lines(stream, limits.max_bytes):
        if isinstance(body, int):
            yield LineResult(number, _native.too_large(body, limits.max_bytes))
        else:
            yield LineResult(
                number, _native.refusal(body, strict, limits.max_bytes, limits.max_depth)
            )
