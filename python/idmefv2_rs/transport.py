"""Sending and receiving IDMEFv2 messages: python-idmefv2-transport's API
on the ``idmefv2`` crate's transports.

``get_transport(url, queue=None, content_type=None)`` gives a
:class:`Transport` for the URL's scheme:

- ``https://HOST:PORT/PATH``: without a queue, a sender to that receiver
  (mutual TLS 1.3); with a queue, a receiver listening on ``HOST:PORT``
  that puts each accepted :class:`~idmefv2_rs.Message` on it;
- ``http://…``: the same over plain HTTP, with no TLS at all (for peers
  that speak nothing else, on a network one trusts);
- ``file:///DIR``: messages dropped as files into a folder, and picked up
  from it.

Sending is the crate's delivery engine (``idmefv2::outbox``) driving its
HTTPS client from a thread of the transport's own: :meth:`send_message`
hands the message over and returns (with the ``spool`` parameter, once it
is on disk), :meth:`Transport.flush` waits until what was given is
delivered and raises :class:`TransportError` with the reasons when some of
it was not. Receiving is the crate's server: each message checked by its
own draft, answered by the transport draft's status table, and a full
queue answered 503 with ``Retry-After``.
"""
import abc
import asyncio
import copy
import os
import queue as _queue
import threading
import time
import uuid
import warnings
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Tuple
from urllib.parse import unquote, urlparse

from . import _native
from .message import Message, SerializedMessage
from .serializer import Serializer

__all__ = [
    "InvalidLocationError",
    "Transport",
    "TransportError",
    "get_transport",
]

_DEFAULT_CONTENT_TYPE = "application/json"
# How often the async iterator of received messages looks whether the
# transport was stopped, in seconds.
_ASYNC_POLL = 0.1


class InvalidLocationError(ValueError):
    """The URL given to :func:`get_transport` cannot be used: no host, or
    a folder that is missing or cannot be written."""


class TransportError(Exception):
    """Messages that were not delivered, with every reason in words
    (refusals by the receiver, a TLS failure, messages still pending when
    the wait ended)."""

    def __init__(self, reasons: List[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class _Parameter:
    """A parameter's accepted types, its conversion and its bounds."""

    def __init__(
        self,
        types: Tuple[type, ...],
        cast: Callable[[Any], Any],
        default: Any,
        minimum: Optional[float] = None,
        maximum: Optional[float] = None,
        writable: bool = True,
    ) -> None:
        self.types = types
        self.cast = cast
        self.default = default
        self.minimum = minimum
        self.maximum = maximum
        self.writable = writable

    def check(self, name: str, value: Any) -> Any:
        if not self.writable:
            raise KeyError(f"{name} is read-only")
        if value is None and self.default is None:
            return None
        if isinstance(value, bool) and bool not in self.types:
            raise ValueError(f"{name}: {value!r} is not one of {self.types}")
        if not isinstance(value, self.types):
            raise ValueError(f"{name}: {value!r} is not one of {self.types}")
        value = self.cast(value)
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise ValueError(f"{name}: {value!r} is out of range")
        return value


def _strings(value: Any) -> List[str]:
    if isinstance(value, str):
        return [value]
    items = list(value)
    if not all(isinstance(v, str) for v in items):
        raise ValueError("a list of strings is expected")
    return items


_PATH = _Parameter((str, os.PathLike), os.fspath, None)
_NUMBER = (int, float)


class Transport(abc.ABC):
    """One way of sending or receiving IDMEFv2 messages, as
    python-idmefv2-transport defines it. Also a context manager: ``with``
    starts it and stops it."""

    _parameters: Dict[str, _Parameter] = {}

    def __init__(
        self, url: str, queue: "Optional[_queue.Queue[Any]]" = None, content_type: Optional[str] = None
    ) -> None:
        self.url = url
        self.queue = queue
        self.content_type = content_type or _DEFAULT_CONTENT_TYPE
        Serializer._find(self.content_type)  # KeyError when there is none
        self._lock = threading.Lock()
        self._values: Dict[str, Any] = {
            n: copy.copy(p.default) for n, p in self._parameters.items()
        }
        self._started = False

    def set_parameter(self, name: str, value: Any) -> "Transport":
        """Sets a parameter (a ``KeyError`` for an unknown name, a
        ``ValueError`` for a value of the wrong type or out of range).
        Parameters are read when the transport starts."""
        if name not in self._parameters:
            raise KeyError(name)
        value = self._parameters[name].check(name, value)
        with self._lock:
            self._values[name] = value
        return self

    def get_parameter(self, name: str) -> Any:
        """The value of a parameter (a ``KeyError`` for an unknown name)."""
        if name not in self._parameters:
            raise KeyError(name)
        with self._lock:
            return self._values[name]

    @abc.abstractmethod
    def start(self) -> "Transport":
        """Starts sending (and receiving, with a queue)."""

    @abc.abstractmethod
    def stop(self) -> "Transport":
        """Stops; a sender first waits for what it was given to be
        delivered (``flush_timeout``), raising ``TransportError`` when it
        was not."""

    @abc.abstractmethod
    def send_message(self, message: Message) -> "Transport":
        """Hands one message over for sending."""

    def flush(self, timeout: Optional[float] = None) -> "Transport":
        """Waits until every message given is delivered; raises
        ``TransportError`` with the reasons when one was refused or could
        not be sent, or when some are still pending after ``timeout``
        seconds (the ``flush_timeout`` parameter by default)."""
        return self

    async def asend_message(self, message: Message) -> "Transport":
        """:meth:`send_message` for asyncio code: the spool's disk sync
        runs in a worker thread, not on the event loop."""
        return await asyncio.to_thread(self.send_message, message)

    async def aflush(self, timeout: Optional[float] = None) -> "Transport":
        """:meth:`flush` for asyncio code, waiting in a worker thread."""
        return await asyncio.to_thread(self.flush, timeout)

    async def messages(self) -> AsyncIterator[Message]:
        """The messages received on the queue, for ``async for``, each
        marked done (``task_done``) as it is handed over; the iteration
        ends once the transport is stopped and the queue is empty."""
        if self.queue is None:
            raise RuntimeError("a transport without a queue receives nothing")
        q = self.queue
        while True:
            try:
                message = await asyncio.to_thread(q.get, True, _ASYNC_POLL)
            except _queue.Empty:
                if not self._started:
                    return
                continue
            q.task_done()
            yield message

    def _payload(self, message: Message) -> bytes:
        if not self._started:
            raise RuntimeError("start() must be called before send_message()")
        if not isinstance(message, Message):
            message = Message(message)
        return bytes(message.serialize(self.content_type))

    def __enter__(self) -> "Transport":
        if not self._started:
            self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._started:
            self.stop()


class HTTPTransport(Transport):
    """``https://`` and ``http://``: a sender without a queue, a receiver
    with one. See the package README for every parameter."""

    _parameters = {
        # Our certificate and key (the client's, or the server's), and
        # the CA bundle the peer's certificate must chain to: PEM files.
        "my_cert": _PATH,
        "my_key": _PATH,
        "ca_cert": _PATH,
        # SHA-256 fingerprints the peer's certificate must have (hex,
        # colons allowed).
        "pins": _Parameter((str, list, tuple), _strings, []),
        # Receiver: the DNS-IDs of the client certificates accepted.
        "allowed_peers": _Parameter((str, list, tuple), _strings, []),
        # Sender: the folder of the journal that keeps messages until they
        # are delivered, across restarts.
        "spool": _PATH,
        # Sender: seconds one request may take, connecting included.
        "timeout": _Parameter(_NUMBER, float, 30.0, minimum=0.001),
        # Sender: seconds stop() waits for delivery.
        "flush_timeout": _Parameter(_NUMBER, float, 30.0, minimum=0.0),
        # Sender: requests in flight at once.
        "concurrency": _Parameter((int,), int, _native.Sender.DEFAULT_CONCURRENCY, minimum=1),
        # Receiver: carry messages of drafts before 2.D.V08 forward to it.
        "upgrade": _Parameter((bool,), bool, False),
        # Receiver: the largest body accepted (413 beyond).
        "max_bytes": _Parameter((int,), int, _native.DEFAULT_MAX_BYTES, minimum=1),
        # Receiver: the Retry-After of a 503 when the queue is full.
        "retry_after": _Parameter(_NUMBER, float, 1.0, minimum=0.0),
        # Receiver: (host, port) listened on once started, else None.
        "server_address": _Parameter((), lambda v: v, None, writable=False),
    }

    def __init__(
        self, url: str, queue: "Optional[_queue.Queue[Any]]" = None, content_type: Optional[str] = None
    ) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https"):
            raise InvalidLocationError(f"{url!r}: the scheme is http or https")
        if not parsed.hostname:
            raise InvalidLocationError(f"{url!r}: no host")
        try:
            self._port = parsed.port
        except ValueError as e:
            raise InvalidLocationError(f"{url!r}: {e}") from None
        super().__init__(url, queue, content_type)
        self._parsed = parsed
        self._sender: Optional[_native.Sender] = None
        self._receiver: Optional[_native.Receiver] = None

    def _read(self, name: str) -> Optional[bytes]:
        path = self._values[name]
        if path is None:
            return None
        with open(path, "rb") as f:
            return f.read()

    def start(self) -> "Transport":
        if self._started:
            raise RuntimeError("the transport is started already")
        plaintext = self._parsed.scheme == "http"
        with self._lock:
            if self.queue is not None:
                self._start_receiver(plaintext)
            else:
                self._sender = _native.Sender(
                    self.url,
                    self.content_type,
                    self._read("my_cert"),
                    self._read("my_key"),
                    self._read("ca_cert"),
                    self._values["pins"],
                    self._values["spool"],
                    self._values["timeout"],
                    self._values["concurrency"],
                    plaintext,
                )
            self._started = True
        return self

    def _start_receiver(self, plaintext: bool) -> None:
        tls: Optional[Tuple[bytes, bytes, bytes]] = None
        if not plaintext:
            cert, key, ca = (self._read(n) for n in ("my_cert", "my_key", "ca_cert"))
            if cert is None or key is None or ca is None:
                raise ValueError(
                    "an https receiver needs my_cert, my_key and ca_cert (the CA of its clients)"
                )
            tls = (cert, key, ca)
        port = self._port if self._port is not None else (80 if plaintext else 443)
        assert self.queue is not None
        self._receiver = _native.Receiver(
            self._parsed.hostname or "",
            port,
            self._parsed.path or "/",
            self.queue,
            Message,
            tls,
            self._values["allowed_peers"],
            self._values["pins"],
            self._values["upgrade"],
            self._values["max_bytes"],
            self._values["retry_after"],
        )
        self._values["server_address"] = self._receiver.address

    def send_message(self, message: Message) -> "Transport":
        payload = self._payload(message)
        if self._sender is None:
            raise RuntimeError("a transport given a queue receives; send with one without a queue")
        self._sender.send(payload)
        return self

    def flush(self, timeout: Optional[float] = None) -> "Transport":
        if self._sender is None:
            return self
        if timeout is None:
            timeout = self.get_parameter("flush_timeout")
        reasons = self._sender.wait(float(timeout))
        if reasons:
            raise TransportError(reasons)
        return self

    def stop(self) -> "Transport":
        if not self._started:
            raise RuntimeError("the transport is not started")
        try:
            self.flush()
        finally:
            with self._lock:
                if self._sender is not None:
                    self._sender.close()
                    self._sender = None
                if self._receiver is not None:
                    self._values["server_address"] = None
                    receiver, self._receiver = self._receiver, None
                    receiver.close()
                self._started = False
        return self


class FileTransport(Transport):
    """``file:///DIR``: each message sent is a file in the folder (written
    whole, synced, then renamed into place, so that a reader never sees
    half of one); with a queue, the folder's files are read every
    ``interval`` seconds, each checked by the crate and put on the queue,
    then removed. A file that is not a valid message is renamed with
    ``.rejected`` added, and a warning says why."""

    _parameters = {
        # Seconds between two looks at the folder.
        "interval": _Parameter(_NUMBER, float, 10.0, minimum=0.01),
        # Seconds before the first look.
        "delay": _Parameter(_NUMBER, float, 0.0, minimum=0.0),
        # Owner, group (-1: unchanged) and mode of the files written.
        "uid": _Parameter((int,), int, -1, minimum=-1),
        "gid": _Parameter((int,), int, -1, minimum=-1),
        "permissions": _Parameter((int,), int, 0o640, minimum=0, maximum=0o777),
    }

    _SUFFIX = ".json"

    def __init__(
        self, url: str, queue: "Optional[_queue.Queue[Any]]" = None, content_type: Optional[str] = None
    ) -> None:
        parsed = urlparse(url)
        if parsed.scheme != "file":
            raise InvalidLocationError(f"{url!r}: the scheme is file")
        path = unquote(parsed.path)
        if not os.path.isdir(path) or not os.access(path, os.R_OK | os.W_OK):
            raise InvalidLocationError(f"{url!r}: not a folder that can be read and written")
        super().__init__(url, queue, content_type)
        self.path = path
        self._halt = threading.Event()
        self._reader: Optional[threading.Thread] = None

    def start(self) -> "Transport":
        if self._started:
            raise RuntimeError("the transport is started already")
        if self.queue is not None:
            self._halt.clear()
            self._reader = threading.Thread(target=self._read_folder, daemon=True)
            self._reader.start()
        self._started = True
        return self

    def stop(self) -> "Transport":
        if not self._started:
            raise RuntimeError("the transport is not started")
        self._halt.set()
        if self._reader is not None:
            self._reader.join()
            self._reader = None
        self._started = False
        return self

    def send_message(self, message: Message) -> "Transport":
        payload = self._payload(message)
        with self._lock:
            mode, uid, gid = (self._values[n] for n in ("permissions", "uid", "gid"))
        name = f"{time.time_ns()}-{uuid.uuid4().hex}"
        partial = os.path.join(self.path, f".{name}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            if uid != -1 or gid != -1:
                os.fchown(fd, uid, gid)
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(partial)
            raise
        os.close(fd)
        os.rename(partial, os.path.join(self.path, name + self._SUFFIX))
        return self

    def _read_folder(self) -> None:
        with self._lock:
            wait = self._values["delay"]
        while not self._halt.wait(wait):
            for entry in sorted(os.listdir(self.path)):
                if self._halt.is_set():
                    return
                if entry.startswith(".") or not entry.endswith(self._SUFFIX):
                    continue
                self._take(os.path.join(self.path, entry))
            with self._lock:
                wait = self._values["interval"]

    def _take(self, file: str) -> None:
        try:
            with open(file, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return  # taken by another reader
        try:
            message = Message.unserialize(SerializedMessage(self.content_type, data))
        except Exception as e:  # refused by the crate: kept aside, said
            os.rename(file, file + ".rejected")
            warnings.warn(f"{file}: not a valid IDMEFv2 message, kept as .rejected: {e}", RuntimeWarning)
            return
        assert self.queue is not None
        while not self._halt.is_set():
            try:
                self.queue.put(message, timeout=0.1)
            except _queue.Full:
                continue
            os.unlink(file)
            return


_SCHEMES: Dict[str, type] = {"https": HTTPTransport, "http": HTTPTransport, "file": FileTransport}


def get_transport(
    url: str, queue: "Optional[_queue.Queue[Any]]" = None, content_type: Optional[str] = None
) -> Transport:
    """The transport for ``url``'s scheme (``https``, ``http`` or
    ``file``); a ``KeyError`` for another scheme or a ``content_type``
    without a serializer. With ``queue``, the transport receives: accepted
    messages are put on it once it is started."""
    scheme = url.partition("://")[0]
    cls: Any = _SCHEMES[scheme]
    transport: Transport = cls(url, queue, content_type)
    return transport
