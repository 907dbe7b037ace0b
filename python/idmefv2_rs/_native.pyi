# Types of the compiled module idmefv2_rs._native (python/src/lib.rs).
# Internal: the public API is the idmefv2_rs package.
import os
from typing import Any, Dict, List, Optional, Tuple, Type, TypeVar, Union, final, overload

__all__ = [
    "Criteria",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DEPTH",
    "Lines",
    "MAX_DEPTH_LIMIT",
    "Path",
    "Receiver",
    "Sender",
    "__version__",
    "check",
    "decode",
    "dumps",
    "encode",
    "export",
    "get_path",
    "loads",
    "new_id",
    "now",
    "refusal",
    "set_path",
    "supported_versions",
    "too_large",
    "upgrade",
    "value_lists",
]

__version__: str
DEFAULT_MAX_BYTES: int
DEFAULT_MAX_DEPTH: int
MAX_DEPTH_LIMIT: int

_T = TypeVar("_T")

@final
class Path:
    """An IDMEF path such as ``Source(0).IP``, parsed and normalized."""

    def __new__(cls, text: str) -> Path: ...
    @staticmethod
    def all() -> List[Path]: ...
    @property
    def class_name(self) -> Optional[str]: ...
    @property
    def class_index(self) -> Optional[int]: ...
    @property
    def attribute(self) -> str: ...
    @property
    def index(self) -> Optional[int]: ...
    @property
    def pointer(self) -> Optional[str]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class Criteria:
    """IDMEF criteria such as ``Priority == High``, compiled once."""

    def __new__(cls, text: str) -> Criteria: ...
    def matches(self, message: Any) -> bool: ...
    @property
    def text(self) -> str: ...

def check(message: Any, strict: bool, max_depth: int) -> None: ...
def encode(message: Any, max_depth: int) -> bytes: ...
def dumps(value: Any) -> bytes: ...
def loads(data: bytes) -> Any: ...
@overload
def decode(data: bytes, cls: Type[_T], max_bytes: int, max_depth: int) -> _T: ...
@overload
def decode(data: bytes, cls: None, max_bytes: int, max_depth: int) -> Any: ...
def refusal(data: bytes, strict: bool, max_bytes: int, max_depth: int) -> Optional[Exception]: ...
def too_large(size: int, max_bytes: int) -> Exception: ...
@final
class Lines:
    """The non-blank lines of a binary stream, as the crate cuts them."""

    def __new__(cls, file: Any, max_bytes: int) -> Lines: ...
    def __iter__(self) -> "Lines": ...
    def __next__(self) -> Tuple[int, Union[bytes, int]]: ...
def upgrade(
    message: Any, to: Optional[str], cls: Type[_T], max_depth: int
) -> Tuple[_T, str, List[Tuple[str, str, str, str, Any, Optional[str]]]]: ...
def get_path(message: Any, path: Path) -> Any: ...
def set_path(message: Any, path: Path, value: Any) -> Any: ...
def supported_versions() -> List[str]: ...
def export(message: Any, format: str, max_depth: int) -> Any: ...
def value_lists() -> Dict[str, Dict[str, str]]: ...
def new_id() -> str: ...
def now() -> str: ...

# The transports (python/src/transport*.rs; idmefv2_rs.transport).
@final
class Sender:
    """Messages delivered by the crate's outbox and HTTPS client."""

    DEFAULT_CONCURRENCY: int
    def __new__(
        cls,
        url: str,
        content_type: str,
        my_cert: Optional[bytes],
        my_key: Optional[bytes],
        ca_cert: Optional[bytes],
        pins: List[str],
        spool: Optional[Union[str, "os.PathLike[str]"]],
        timeout: float,
        concurrency: int,
        plaintext: bool,
    ) -> Sender: ...
    def send(self, body: bytes) -> bool: ...
    def wait(self, timeout: float) -> List[str]: ...
    def pending(self) -> int: ...
    def close(self) -> None: ...

@final
class Receiver:
    """The crate's HTTPS server putting messages on a queue."""

    def __new__(
        cls,
        host: str,
        port: int,
        path: str,
        queue: Any,
        message_class: Type[Any],
        tls: Optional[Tuple[bytes, bytes, bytes]],
        allow_peers: List[str],
        pins: List[str],
        upgrade: bool,
        max_bytes: int,
        retry_after: float,
    ) -> Receiver: ...
    @property
    def address(self) -> Tuple[str, int]: ...
    def close(self) -> None: ...
