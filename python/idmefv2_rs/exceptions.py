"""The exceptions of ``idmefv2_rs``, and the record of one failed check.

``ValidationError`` is raised when a message breaks a rule; it lists every
failure, never the offending values. When the ``jsonschema`` package can be
imported, it is also a ``jsonschema.exceptions.ValidationError``, so that
``except`` clauses written for python-idmefv2 keep catching it; it is a
``ValueError`` in every case.
"""
import importlib
from collections import deque
from typing import TYPE_CHECKING, Deque, Iterable, List, NamedTuple, Tuple, Union

__all__ = ["SerializationError", "ValidationError", "Violation"]


class SerializationError(Exception):
    """A payload could not be encoded or decoded: it is not JSON, or a value
    cannot be written as JSON. The text says where, not what was there."""


class Violation(NamedTuple):
    """One failed check."""

    pointer: str
    """JSON pointer (RFC 6901) of the offending value; empty for the whole
    message."""
    keyword: str
    """The schema keyword (``pattern``, ``required``, ...) or the name of the
    rule that failed."""
    reason: str
    """Why, in words, without the value."""

    def __str__(self) -> str:
        return f"{self.pointer or '(message)'}: {self.reason}"


def _segments(pointer: str) -> Deque[Union[str, int]]:
    """The steps of a JSON pointer, list indices as ints (as jsonschema
    gives them in ``path``)."""
    steps: Deque[Union[str, int]] = deque()
    if not pointer:
        return steps
    for raw in pointer[1:].split("/"):
        step = raw.replace("~1", "/").replace("~0", "~")
        steps.append(int(step) if step.isdigit() and step.isascii() else step)
    return steps


def _base() -> Tuple[type, ...]:
    try:
        upstream = importlib.import_module("jsonschema.exceptions").ValidationError
    except ImportError:
        return (ValueError,)
    return (upstream, ValueError)


if TYPE_CHECKING:
    _Base = ValueError
    _UPSTREAM = False
else:
    _BASES = _base()
    _UPSTREAM = len(_BASES) > 1

    class _Base(*_BASES):
        pass


class ValidationError(_Base):
    """A message broke the schema of its ``Version`` (or a strict rule, or a
    limit).

    ``violations`` holds every failure. ``message``, ``path`` and
    ``validator`` describe the first one, as jsonschema's attributes of the
    same names do; ``str()`` lists them all.
    """

    violations: List[Violation]
    message: str
    validator: str
    path: Deque[Union[str, int]]

    def __init__(self, violations: Iterable[Union[Violation, Tuple[str, str, str]]]) -> None:
        found = [Violation(*v) for v in violations]
        if not found:
            raise ValueError("a ValidationError needs at least one violation")
        text = "invalid IDMEFv2 message: " + "; ".join(str(v) for v in found)
        first = found[0]
        path = _segments(first.pointer)
        if _UPSTREAM:
            super().__init__(text, validator=first.keyword, path=path)  # type: ignore[call-arg]
        else:
            super().__init__(text)
            self.message = text
            self.validator = first.keyword
            self.path = path
            self.relative_path = path
        self.violations = found

    @property
    def absolute_path(self) -> Deque[Union[str, int]]:
        """The steps to the first offending value from the message root."""
        return deque(self.path)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"<ValidationError: {len(self.violations)} violation(s)>"

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (type(self), (self.violations,))
