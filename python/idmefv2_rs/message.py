"""IDMEFv2 messages: a dict that validates, serializes and unserializes
itself, plus what python-idmefv2 does not have (strict checks, upgrade of
older drafts, IDMEF paths).

Every decision is the ``idmefv2`` Rust crate's: a message built here is
written as JSON and judged exactly as bytes received from the network.
"""
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, NamedTuple, Optional, Type, TypeVar, Union

from . import _native
from .serializer import Serializer
from .serializers.json import JSONSerializer

__all__ = ["Limits", "Message", "SerializedMessage", "UpgradeNote", "Upgraded"]


class SerializedMessage:
    """An encoded message and the media type that says how it is encoded."""

    def __init__(self, content_type: str, payload: bytes) -> None:
        self.content_type = content_type
        self.payload = payload

    def get_content_type(self) -> str:
        """The media type of the payload, such as ``application/json``."""
        return self.content_type

    def __bytes__(self) -> bytes:
        return self.payload

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SerializedMessage):
            return NotImplemented
        return (self.content_type, self.payload) == (other.content_type, other.payload)

    def __repr__(self) -> str:
        return f"SerializedMessage({self.content_type!r}, <{len(self.payload)} bytes>)"


@dataclass(frozen=True)
class Limits:
    """Bounds on hostile input, as in the crate: the largest payload read
    (1 MiB by default) and the deepest nesting inside attachment ``Content``
    (64 levels by default, at most 1000)."""

    max_bytes: int = _native.DEFAULT_MAX_BYTES
    max_depth: int = _native.DEFAULT_MAX_DEPTH

    def __post_init__(self) -> None:
        for name, value, top in (
            ("max_bytes", self.max_bytes, sys.maxsize),
            ("max_depth", self.max_depth, _native.MAX_DEPTH_LIMIT),
        ):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} is an int")
            if not 0 <= value <= top:
                raise ValueError(f"{name} is between 0 and {top}")


_DEFAULT_LIMITS = Limits()


class UpgradeNote(NamedTuple):
    """One change an upgrade made to the sender's message."""

    pointer: str
    """Where the value was in the original message (for an ``invented``
    value, where it is in the upgraded one)."""
    kind: str
    """``renamed``, ``restructured``, ``extended``, ``invented`` or
    ``dropped``."""
    draft: str
    """The draft whose change caused it, such as ``2.D.V07``."""
    reason: str
    """Why, in words."""
    value: Any
    """The value concerned (the original one; the new one when invented)."""
    moved_to: Optional[str]
    """Where the content sits now, when that is not ``pointer``."""

    def __str__(self) -> str:
        return f"{self.pointer}: {self.kind}: {self.reason}"


class Upgraded(NamedTuple):
    """A message carried forward to a later draft."""

    message: "Message"
    """The upgraded message, valid under its new ``Version``."""
    source: str
    """The draft the message was written in."""
    report: List[UpgradeNote]
    """Every change besides ``Version``, in the order it was made."""


_M = TypeVar("_M", bound="Message")


def _path(path: Union[str, "_native.Path"]) -> "_native.Path":
    return path if isinstance(path, _native.Path) else _native.Path(path)


class Message(dict):  # type: ignore[type-arg]
    """An IDMEFv2 message: a dict of its JSON members.

    Any ``Version`` from ``2.D.V02`` to ``2.D.V09-Dev`` is validated by its
    own draft's schema. A failure raises ``ValidationError`` with every
    violation.
    """

    def validate(self, *, strict: bool = False, limits: Optional[Limits] = None) -> None:
        """Checks the message against the schema of its ``Version``; with
        ``strict``, also against the specification's rules beyond the
        schema (port ranges, attachment references, real calendar dates,
        ...), which apply to ``2.D.V08`` and ``2.D.V09-Dev``: an older
        draft is then refused, to be upgraded first."""
        depth = (limits or _DEFAULT_LIMITS).max_depth
        _native.check(self, strict, depth)

    def serialize(self, content_type: str) -> SerializedMessage:
        """Validates the message and encodes it for ``content_type``."""
        serializer = Serializer._find(content_type)
        if serializer is JSONSerializer:
            payload = _native.encode(self, _DEFAULT_LIMITS.max_depth)
        else:
            self.validate()
            payload = serializer().serialize(self)
        return SerializedMessage(content_type, payload)

    @classmethod
    def unserialize(
        cls: Type[_M], payload: SerializedMessage, *, limits: Optional[Limits] = None
    ) -> _M:
        """Decodes and validates a message (``limits`` bounds the input)."""
        limits = limits or _DEFAULT_LIMITS
        if type(payload) is SerializedMessage:
            content_type, data = payload.content_type, payload.payload
            if type(data) is not bytes:
                data = bytes(payload)
        else:  # a subclass may compute either
            content_type, data = payload.get_content_type(), bytes(payload)
        serializer = Serializer._find(content_type)
        if serializer is JSONSerializer:
            if cls.update is dict.update:
                # Validated and built in one native call.
                return _native.decode(data, cls, limits.max_bytes, limits.max_depth)
            fields = _native.decode(data, None, limits.max_bytes, limits.max_depth)
            message = cls()
            message.update(fields)
            return message
        if len(data) > limits.max_bytes:
            raise _native.too_large(len(data), limits.max_bytes)
        message = cls()
        message.update(serializer().unserialize(data))
        message.validate(limits=limits)
        return message

    def upgrade(self, to: Optional[str] = None) -> Upgraded:
        """Carries a message of any draft forward to ``to`` (``2.D.V08`` by
        default, or ``2.D.V09-Dev``), with a report of every change. The
        message itself is left as it is."""
        message, source, notes = _native.upgrade(self, to, type(self), _DEFAULT_LIMITS.max_depth)
        return Upgraded(message, source, [UpgradeNote(*n) for n in notes])

    def get_path(self, path: Union[str, "_native.Path"]) -> Any:
        """The value at an IDMEF path such as ``Source(0).IP``, or None when
        the message has none there. The message must be a valid
        ``2.D.V08`` or ``2.D.V09-Dev`` one."""
        return _native.get_path(self, _path(path))

    def set_path(self, path: Union[str, "_native.Path"], value: Any) -> None:
        """Puts ``value`` at an IDMEF path, with the checks of decoding: the
        message is changed only if it is still valid afterwards. A class
        entry one past the end is created, an index one past the end of a
        list appends, nothing is removed (see the crate's ``Message::set``).
        The message must be a valid ``2.D.V08`` or ``2.D.V09-Dev`` one."""
        updated = _native.set_path(self, _path(path), value)
        self.clear()
        self.update(updated)

    # Exports (the crate's idmefv2::export; docs/export.md has the mapping).

    def to_ocsf(self) -> Dict[str, Any]:
        """The message as an OCSF 1.5.0 Detection Finding (class 2004,
        ``type_uid`` 200401), as a dict; its ``raw_data`` holds the message
        as JSON. A message of an older draft is upgraded first
        (``upgrade()`` gives the report). Raises ``ValidationError`` for an
        invalid message, and for a valid one holding a value OCSF cannot
        hold (a timestamp naming no instant, an IPv4 address with leading
        zeros, ...), naming its pointer."""
        return _native.export(self, "ocsf", _DEFAULT_LIMITS.max_depth)  # type: ignore[no-any-return]

    def to_stix(self) -> Dict[str, Any]:
        """The message as a STIX 2.1 bundle (incident, analyzer identity,
        observables, observed data, relationships), as a dict; its ids are
        derived from the message ``ID``, so the same message always gives
        the same bundle. Older drafts and refusals as ``to_ocsf()``."""
        return _native.export(self, "stix", _DEFAULT_LIMITS.max_depth)  # type: ignore[no-any-return]

    def matches(self, criteria: Union[str, "_native.Criteria"]) -> bool:
        """Whether the message matches IDMEF criteria such as ``Priority ==
        High && Source(*).IP in 10.0.0.0/8`` (the crate's filter language,
        docs/criteria.md), given as text or as a compiled
        :class:`Criteria` (compile once to test many messages). A message
        of any draft is tested as it is, without validation; a criterion
        that does not compile raises ``ValueError`` with its byte
        position."""
        if not isinstance(criteria, _native.Criteria):
            criteria = _native.Criteria(criteria)
        return criteria.matches(self)
