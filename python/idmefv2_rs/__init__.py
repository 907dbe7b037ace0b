"""IDMEFv2 messages for Python, checked by the ``idmefv2`` Rust crate.

The API of python-idmefv2 0.8, with its module layout, so that code written
for it runs after ``import idmefv2_rs as idmefv2``:

- :class:`Message`, a dict with ``validate()``, ``serialize(content_type)``
  and ``Message.unserialize(serialized)``;
- :class:`SerializedMessage`, :class:`Serializer` (one per media type, JSON
  built in) and :class:`SerializationError`;
- a failed validation raises :class:`ValidationError`, a
  ``jsonschema.exceptions.ValidationError`` when jsonschema is installed and
  a ``ValueError`` always, listing every :class:`Violation`.

Beyond it: every draft from ``2.D.V02`` to ``2.D.V09-Dev``, strict checks
(``validate(strict=True)``), upgrade of older drafts with a report
(``Message.upgrade``), IDMEF paths (:class:`Path`, ``Message.get_path`` and
``set_path``), IDMEF criteria (:class:`Criteria`, ``Message.matches``),
input :class:`Limits` and NDJSON streams (:func:`validate_ndjson`), the
value lists with the meaning of each value (:func:`value_lists`), and a
fresh ID and the current time that pass the strict checks
(:func:`new_id`, :func:`now`).
"""
from ._native import Criteria, Path, __version__, supported_versions
from .exceptions import SerializationError, ValidationError, Violation
from .message import Limits, Message, SerializedMessage, UpgradeNote, Upgraded
from .ndjson import LineResult, validate_ndjson
from .serializer import Serializer

# What a new user reaches for first (issue 29): the value lists with their
# meanings, a fresh ID, the current time.
from ._native import new_id, now, value_lists

__all__ = [
    "Criteria",
    "LineResult",
    "Limits",
    "Message",
    "Path",
    "SerializationError",
    "SerializedMessage",
    "Serializer",
    "UpgradeNote",
    "Upgraded",
    "ValidationError",
    "Violation",
    "__version__",
    "new_id",
    "now",
    "supported_versions",
    "validate_ndjson",
    "value_lists",
]
