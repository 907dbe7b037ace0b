"""JSON, for the media types ``application/json`` and ``text/json``."""
from typing import Any, Dict, Union

from .. import _native
from ..exceptions import SerializationError
from ..serializer import Serializer

__all__ = ["JSONSerializer"]


class JSONSerializer(Serializer):
    """Strict JSON (RFC 8259) in UTF-8, written compactly.

    Reading refuses what ``json.loads`` lets through: ``NaN`` and
    infinities, lone surrogates, and a member given twice in one object.
    Writing refuses values JSON cannot hold rather than writing something
    other readers refuse.
    """

    def serialize(self, message: Dict[str, Any]) -> bytes:
        return _native.dumps(message)

    def unserialize(self, payload: Union[bytes, bytearray, memoryview, str]) -> Any:
        if isinstance(payload, str):
            try:
                payload = payload.encode("utf-8")
            except UnicodeEncodeError:
                raise SerializationError("the text holds a lone surrogate") from None
        elif not isinstance(payload, bytes):
            payload = bytes(payload)
        return _native.loads(payload)
