"""The registry of serializers, one per media type.

Serializers are found through the ``idmefv2_rs.serializers`` entry point
group: each entry is named by its media type and points at a
:class:`Serializer` subclass. This package declares ``application/json``
and ``text/json``; another package adds a media type by declaring an entry
of its own, and a program can call :meth:`Serializer.register`.
"""
import abc
import importlib.metadata
import sys
import warnings
from typing import Any, Dict, Iterable, Optional, Type

__all__ = ["Serializer"]

ENTRY_POINT_GROUP = "idmefv2_rs.serializers"


def _essence(content_type: str) -> str:
    """``type/subtype`` of a media type, lowercased, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def _entry_points(group: str) -> Iterable[Any]:
    if sys.version_info >= (3, 10):
        return importlib.metadata.entry_points(group=group)
    return importlib.metadata.entry_points().get(group, [])


class Serializer(metaclass=abc.ABCMeta):
    """Turns a message into bytes of one media type and back."""

    SERIALIZERS: Optional[Dict[str, Type["Serializer"]]] = None
    """Serializer classes by media type, filled from the entry points on
    first use."""

    @abc.abstractmethod
    def serialize(self, message: Dict[str, Any]) -> bytes:
        """The message as bytes; raises ``SerializationError`` when it cannot
        be written."""

    @abc.abstractmethod
    def unserialize(self, payload: bytes) -> Any:
        """The message read from bytes, not yet validated; raises
        ``SerializationError`` when the bytes cannot be read."""

    @staticmethod
    def _table() -> Dict[str, Type["Serializer"]]:
        if Serializer.SERIALIZERS is None:
            table: Dict[str, Type[Serializer]] = {}
            for entry in _entry_points(ENTRY_POINT_GROUP):
                try:
                    cls = entry.load()
                except ImportError as e:
                    warnings.warn(str(e), ResourceWarning)
                    continue
                if isinstance(cls, type) and issubclass(cls, Serializer):
                    table[entry.name] = cls
            Serializer.SERIALIZERS = table
        return Serializer.SERIALIZERS

    @staticmethod
    def _find(content_type: str) -> Type["Serializer"]:
        table = Serializer.SERIALIZERS
        if table is None:
            table = Serializer._table()
        cls = table.get(content_type) or table.get(_essence(content_type))
        if cls is None:
            raise KeyError(content_type)
        return cls

    @staticmethod
    def get_serializer(content_type: str) -> "Serializer":
        """A serializer for ``content_type``. The exact text is looked up
        first, then its ``type/subtype`` without parameters or letter case
        (so ``application/json; charset=utf-8`` finds the JSON one). Raises
        ``KeyError`` when there is none."""
        return Serializer._find(content_type)()

    @staticmethod
    def register(content_type: str, cls: Type["Serializer"]) -> None:
        """Makes ``cls`` the serializer of ``content_type`` for this
        process, in place of any other."""
        if not (isinstance(cls, type) and issubclass(cls, Serializer)):
            raise TypeError("a serializer is a subclass of idmefv2_rs.Serializer")
        Serializer._table()[_essence(content_type)] = cls
