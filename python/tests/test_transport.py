"""idmefv2_rs.transport against real processes: Python sends to
``idmefv2 serve`` over mutual TLS and plain HTTP, receives from ``idmefv2
send``, ``requests`` and ``httpx``, survives a receiver killed while it
sends with a spool, resumes a spool after its own process was killed, and
reports refusals.

The tests need the ``idmefv2`` command (built with ``cargo build --features
cli``; found at ``target/debug/idmefv2``, or where ``IDMEFV2_BIN`` says) and
``openssl`` for the test certificates (``scripts/make_test_pki.sh``); they
fail, naming what is missing, without them. Every server listens on
127.0.0.1 only and every wait is bounded."""
import asyncio
import json
import os
import pathlib
import queue
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
import warnings
from typing import Iterator, List

import pytest

from conftest import FIXTURES, ROOT, load, optional
from idmefv2_rs import Message
from idmefv2_rs.transport import InvalidLocationError, TransportError, get_transport

MINIMAL = load(FIXTURES / "valid" / "minimal.json")
# Every wait for a process or a delivery ends by itself after this long.
BOUND = 120.0


def idmefv2_bin() -> str:
    path = os.environ.get("IDMEFV2_BIN") or str(ROOT / "target" / "debug" / "idmefv2")
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"{path} is missing: build it with `cargo build --features cli`, "
            "or name it in IDMEFV2_BIN"
        )
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> pathlib.Path:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is missing (Debian package: openssl)")
    folder = tmp_path_factory.mktemp("pki")
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "make_test_pki.sh"), str(folder)],
        check=True,
        capture_output=True,
    )
    return folder


def messages(count: int) -> List[Message]:
    return [Message(MINIMAL, ID=str(uuid.uuid4())) for _ in range(count)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, process: "subprocess.Popen[bytes]") -> None:
    end = time.monotonic() + BOUND
    while time.monotonic() < end:
        assert process.poll() is None, process.stderr.read() if process.stderr else b""
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    pytest.fail(f"nothing listens on port {port}")


class Serve:
    """An `idmefv2 serve` process writing to an NDJSON file."""

    def __init__(self, out: pathlib.Path, pki: "pathlib.Path | None", port: int = 0) -> None:
        self.out = out
        self.pki = pki
        self.port = port or free_port()
        self.process: "subprocess.Popen[bytes] | None" = None

    def start(self) -> "Serve":
        command = [idmefv2_bin(), "serve", "--listen", f"127.0.0.1:{self.port}", "--out", str(self.out)]
        if self.pki is None:
            command.append("--insecure-plaintext")
        else:
            command += [
                "--cert", str(self.pki / "server.pem"),
                "--key", str(self.pki / "server.key"),
                "--client-ca", str(self.pki / "ca.pem"),
            ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_listening(self.port, self.process)
        return self

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=BOUND)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=BOUND)
            self.process = None

    def ids(self) -> List[str]:
        if not self.out.exists():
            return []
        return [json.loads(line)["ID"] for line in self.out.read_text().splitlines() if line]

    @property
    def url(self) -> str:
        return f"{'http' if self.pki is None else 'https'}://127.0.0.1:{self.port}/"


@pytest.fixture
def serve(tmp_path) -> Iterator[List[Serve]]:
    started: List[Serve] = []
    yield started
    for s in started:
        s.kill()


def sender(url: str, pki: "pathlib.Path | None", identity: bool = True):
    transport = get_transport(url)
    if pki is not None:
        transport.set_parameter("ca_cert", str(pki / "ca.pem"))
        if identity:
            transport.set_parameter("my_cert", str(pki / "sensor.pem"))
            transport.set_parameter("my_key", str(pki / "sensor.key"))
    return transport


def test_python_sends_to_idmefv2_serve_over_mutual_tls(tmp_path, pki, serve):
    receiver = Serve(tmp_path / "alerts.ndjson", pki).start()
    serve.append(receiver)
    sent = messages(50)
    with sender(receiver.url, pki) as transport:
        for m in sent:
            transport.send_message(m)
        transport.flush(BOUND)
    assert sorted(receiver.ids()) == sorted(m["ID"] for m in sent)


def test_python_sends_to_idmefv2_serve_over_plain_http(tmp_path, serve):
    receiver = Serve(tmp_path / "alerts.ndjson", None).start()
    serve.append(receiver)
    sent = messages(20)
    transport = get_transport(receiver.url, content_type="application/json").start()
    for m in sent:
        transport.send_message(m)
    transport.set_parameter("flush_timeout", BOUND)
    transport.stop()  # waits for delivery, as a sender of the reference does
    assert sorted(receiver.ids()) == sorted(m["ID"] for m in sent)


def test_a_receiver_that_refuses_our_missing_certificate_makes_flush_raise(tmp_path, pki, serve):
    receiver = Serve(tmp_path / "alerts.ndjson", pki).start()
    serve.append(receiver)
    transport = sender(receiver.url, pki, identity=False).start()
    transport.send_message(messages(1)[0])
    with pytest.raises(TransportError) as raised:
        transport.flush(BOUND)
    assert "TLS" in str(raised.value), raised.value
    assert receiver.ids() == []
    with pytest.raises(TransportError):
        transport.stop()


def test_an_untrusted_receiver_makes_flush_raise(tmp_path, pki, serve):
    receiver = Serve(tmp_path / "alerts.ndjson", pki).start()
    serve.append(receiver)
    other = tmp_path / "other-pki"
    subprocess.run(["bash", str(ROOT / "scripts" / "make_test_pki.sh"), str(other)], check=True, capture_output=True)
    transport = get_transport(receiver.url)
    transport.set_parameter("my_cert", str(pki / "sensor.pem"))
    transport.set_parameter("my_key", str(pki / "sensor.key"))
    transport.set_parameter("ca_cert", str(other / "ca.pem"))  # not the receiver's CA
    transport.start()
    transport.send_message(messages(1)[0])
    with pytest.raises(TransportError, match="TLS"):
        transport.flush(BOUND)
    with pytest.raises(TransportError):
        transport.stop()


@pytest.mark.parametrize("name", ["*.example", "one.example"])
def test_a_wildcard_client_certificate_is_refused_and_flush_raises(tmp_path, pki, serve, name):
    # The receiver takes no wildcard DNS-ID from a client (as the crate
    # checks it): a certificate for *.example from the right CA is refused,
    # the same for one.example accepted.
    key, cert, ext = (tmp_path / n for n in ("wild.key", "wild.pem", "wild.ext"))
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key)],
        check=True, capture_output=True,
    )
    csr = subprocess.run(
        ["openssl", "req", "-new", "-key", str(key), "-subj", "/"], check=True, capture_output=True
    ).stdout
    ext.write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        f"extendedKeyUsage=clientAuth\nsubjectAltName=DNS:{name}\n"
    )
    subprocess.run(
        ["openssl", "x509", "-req", "-CA", str(pki / "ca.pem"), "-CAkey", str(pki / "ca.key"),
         "-CAcreateserial", "-CAserial", str(tmp_path / "ca.srl"), "-days", "1",
         "-extfile", str(ext), "-out", str(cert)],
        input=csr, check=True, capture_output=True,
    )
    receiver = Serve(tmp_path / "alerts.ndjson", pki).start()
    serve.append(receiver)
    transport = get_transport(receiver.url)
    transport.set_parameter("my_cert", str(cert))
    transport.set_parameter("my_key", str(key))
    transport.set_parameter("ca_cert", str(pki / "ca.pem"))
    transport.start()
    sent = messages(1)[0]
    transport.send_message(sent)
    if name.startswith("*"):
        with pytest.raises(TransportError, match="TLS"):
            transport.flush(BOUND)
        assert receiver.ids() == []
        with pytest.raises(TransportError):
            transport.stop()
    else:
        transport.stop()
        assert receiver.ids() == [sent["ID"]]


REFERENCE_SEND = """
# Import the transport factory
from idmefv2_rs.transport import get_transport

transport = get_transport('http://127.0.0.1:{port}/', content_type="application/json")
transport.start()

# Assuming "msg" refers to an instance of idmef.Message
transport.send_message(msg)

transport.stop()
"""

REFERENCE_RECEIVE = """
import time
from queue import Queue, Empty
from idmefv2_rs.transport import get_transport

queue = Queue()
transport = get_transport('http://127.0.0.1:{port}/', queue, content_type='application/json')

# Start processing of incoming messages.
transport.start()

send(transport.get_parameter("server_address")[1])
transport.stop()

try:
    # Check whether a message was indeed received
    msg = queue.get(timeout=0)
except Empty:
    print("No message received")
else:
    received.append(msg)
    queue.task_done()

queue.join()
"""


def test_the_usage_of_the_reference_readme_runs_with_the_import_changed(tmp_path, serve):
    # Its two examples with our import, the ports filled in (the reference
    # listens on port 80 and waits 30 s for a message; here the port is
    # any free one and the message is sent at once).
    receiver = Serve(tmp_path / "alerts.ndjson", None).start()
    serve.append(receiver)
    msg = Message(MINIMAL)
    exec(REFERENCE_SEND.format(port=receiver.port), {"msg": msg})
    assert receiver.ids() == [MINIMAL["ID"]]

    def send(port: int) -> None:
        with get_transport(f"http://127.0.0.1:{port}/") as sender:
            sender.send_message(msg)

    received: List[Message] = []
    exec(REFERENCE_RECEIVE.format(port=0), {"send": send, "received": received})
    assert received == [msg]


def test_without_a_spool_an_unreachable_receiver_makes_flush_raise():
    transport = get_transport(f"http://127.0.0.1:{free_port()}/").start()
    transport.send_message(messages(1)[0])
    with pytest.raises(TransportError, match="connection") as raised:
        transport.flush(BOUND)
    assert "1 message not delivered" in str(raised.value)
    with pytest.raises(TransportError):
        transport.stop()


def test_with_a_spool_nothing_is_lost_while_the_receiver_is_killed_and_restarted(
    tmp_path, pki, serve
):
    # 2,000 messages; the receiver is killed (SIGKILL) after about a third,
    # and started again on the same file after another third.
    receiver = Serve(tmp_path / "alerts.ndjson", pki).start()
    serve.append(receiver)
    sent = messages(2000)
    transport = sender(receiver.url, pki)
    transport.set_parameter("spool", str(tmp_path / "spool"))
    transport.start()
    for i, m in enumerate(sent):
        transport.send_message(m)
        if i == 700:
            receiver.kill()
        if i == 1400:
            receiver.start()
    transport.flush(BOUND)
    transport.stop()
    # At least once: a message may have been written twice, none lost.
    assert set(receiver.ids()) == {m["ID"] for m in sent}


SENDER_SCRIPT = """
import os, signal, sys, uuid, json
from idmefv2_rs import Message
from idmefv2_rs.transport import get_transport
message = json.loads(sys.argv[3])
transport = get_transport(sys.argv[1])
transport.set_parameter("spool", sys.argv[2])
transport.set_parameter("my_cert", sys.argv[4] + "/sensor.pem")
transport.set_parameter("my_key", sys.argv[4] + "/sensor.key")
transport.set_parameter("ca_cert", sys.argv[4] + "/ca.pem")
transport.start()
for i in range(40):
    transport.send_message(Message(message, ID=str(uuid.UUID(int=i))))
# Killed before anything could be delivered: no receiver listens yet.
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_sender_killed_with_a_spool_resumes_in_a_new_process(tmp_path, pki, serve):
    receiver = Serve(tmp_path / "alerts.ndjson", pki)
    spool = tmp_path / "spool"
    killed = subprocess.run(
        [sys.executable, "-c", SENDER_SCRIPT, receiver.url, str(spool), json.dumps(MINIMAL), str(pki)],
        capture_output=True,
        timeout=BOUND,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    receiver.start()
    serve.append(receiver)
    transport = sender(receiver.url, pki)
    transport.set_parameter("spool", str(spool))
    with transport:
        transport.flush(BOUND)
    assert sorted(receiver.ids()) == sorted(str(uuid.UUID(int=i)) for i in range(40))


def receiver_transport(url: str, q: "queue.Queue[Message]", pki: "pathlib.Path | None"):
    transport = get_transport(url, q)
    if pki is not None:
        transport.set_parameter("my_cert", str(pki / "server.pem"))
        transport.set_parameter("my_key", str(pki / "server.key"))
        transport.set_parameter("ca_cert", str(pki / "ca.pem"))
    return transport.start()


def test_python_receives_from_idmefv2_send_over_mutual_tls(tmp_path, pki):
    q: "queue.Queue[Message]" = queue.Queue()
    transport = receiver_transport("https://127.0.0.1:0/", q, pki)
    try:
        host, port = transport.get_parameter("server_address")
        sent = messages(10)
        alerts = tmp_path / "alerts.ndjson"
        alerts.write_text("".join(json.dumps(m) + "\n" for m in sent))
        done = subprocess.run(
            [
                idmefv2_bin(), "send", "--url", f"https://localhost:{port}/", "--ndjson",
                "--cert", str(pki / "sensor.pem"), "--key", str(pki / "sensor.key"),
                "--ca", str(pki / "ca.pem"), str(alerts),
            ],
            capture_output=True,
            timeout=BOUND,
        )
        assert done.returncode == 0, done.stderr
        got = [q.get(timeout=BOUND) for _ in sent]
    finally:
        transport.stop()
    assert all(type(m) is Message for m in got)
    assert sorted(m["ID"] for m in got) == sorted(m["ID"] for m in sent)
    assert got[0] == dict(next(m for m in sent if m["ID"] == got[0]["ID"]))


def test_python_receives_from_httpx_over_mutual_tls_and_refuses_without_a_certificate(pki):
    httpx = optional("httpx")
    import ssl

    q: "queue.Queue[Message]" = queue.Queue()
    transport = receiver_transport("https://127.0.0.1:0/", q, pki)
    try:
        _, port = transport.get_parameter("server_address")
        url = f"https://localhost:{port}/"
        body = json.dumps(MINIMAL).encode()
        context = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        context.load_cert_chain(str(pki / "sensor.pem"), str(pki / "sensor.key"))
        with httpx.Client(verify=context) as client:
            answer = client.post(url, content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 204, answer.text
        assert q.get(timeout=BOUND)["ID"] == MINIMAL["ID"]
        anonymous = ssl.create_default_context(cafile=str(pki / "ca.pem"))
        with httpx.Client(verify=anonymous) as client:
            with pytest.raises(httpx.HTTPError):
                client.post(url, content=body, headers={"Content-Type": "application/json"})
        assert q.empty()
    finally:
        transport.stop()


def test_python_receives_from_requests_over_http_with_the_draft_status_table():
    requests = optional("requests")
    q: "queue.Queue[Message]" = queue.Queue(maxsize=1)
    transport = receiver_transport("http://127.0.0.1:0/alerts", q, None)
    try:
        _, port = transport.get_parameter("server_address")
        url = f"http://127.0.0.1:{port}/alerts"
        headers = {"Content-Type": "application/json"}
        ok = requests.post(url, data=json.dumps(MINIMAL), headers=headers, timeout=BOUND)
        assert ok.status_code == 204
        # The queue holds one message: the next is answered 503, kept by
        # the sender for later.
        full = requests.post(url, data=json.dumps(dict(MINIMAL, ID=str(uuid.uuid4()))), headers=headers, timeout=BOUND)
        assert full.status_code == 503 and full.headers["Retry-After"] == "1"
        invalid = requests.post(url, data=json.dumps({"Version": "2.D.V08"}), headers=headers, timeout=BOUND)
        assert invalid.status_code == 400
        assert invalid.json()["violations"], invalid.text
        assert requests.post(url + "x", data=b"{}", headers=headers, timeout=BOUND).status_code == 404
        media = requests.post(url, data=b"{}", headers={"Content-Type": "text/plain"}, timeout=BOUND)
        assert media.status_code == 415
        assert q.get_nowait()["ID"] == MINIMAL["ID"]
        assert q.empty()
    finally:
        transport.stop()


def test_python_to_python_with_a_receiver_refusal_in_the_dead_letters(tmp_path, pki):
    q: "queue.Queue[Message]" = queue.Queue()
    receiving = get_transport("https://127.0.0.1:0/", q)
    receiving.set_parameter("max_bytes", 400)
    for name, file in (("my_cert", "server.pem"), ("my_key", "server.key"), ("ca_cert", "ca.pem")):
        receiving.set_parameter(name, str(pki / file))
    with receiving:
        _, port = receiving.get_parameter("server_address")
        transport = sender(f"https://localhost:{port}/", pki)
        transport.set_parameter("spool", str(tmp_path / "spool"))
        with pytest.raises(TransportError, match="413"):
            with transport:
                transport.send_message(Message(MINIMAL))
                transport.send_message(Message(MINIMAL, ID=str(uuid.uuid4()), Description="x" * 500))
        assert q.get(timeout=BOUND)["ID"] == MINIMAL["ID"]
    dead = [json.loads(line) for line in (tmp_path / "spool" / "dead-letter.ndjson").read_text().splitlines()]
    assert [d["status"] for d in dead] == [413]


def test_urls_schemes_and_parameters_are_checked():
    with pytest.raises(KeyError):
        get_transport("gopher://example.org/")
    with pytest.raises(InvalidLocationError):
        get_transport("https:///no-host")
    with pytest.raises(KeyError):
        get_transport("https://example.org/", content_type="application/xml")
    transport = get_transport("https://example.org/")
    with pytest.raises(KeyError):
        transport.set_parameter("no_such_parameter", 1)
    with pytest.raises(ValueError):
        transport.set_parameter("timeout", "soon")
    with pytest.raises(ValueError):
        transport.set_parameter("concurrency", 0)
    assert transport.set_parameter("pins", "ab" * 32).get_parameter("pins") == ["ab" * 32]
    with pytest.raises(RuntimeError):
        transport.send_message(Message(MINIMAL))
    plain = get_transport("http://example.org/")
    with pytest.raises(ValueError, match="pin"):
        plain.set_parameter("pins", "zz").start()


def test_the_file_transport_hands_messages_over_through_a_folder(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    sent = messages(3)
    with get_transport(f"file://{folder}") as writer:
        for m in sent:
            writer.send_message(m)
    (folder / "junk.json").write_text('{"Version": "2.D.V08"}')
    q: "queue.Queue[Message]" = queue.Queue()
    reader = get_transport(f"file://{folder}", q)
    reader.set_parameter("interval", 0.05)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with reader:
            got = [q.get(timeout=BOUND) for _ in sent]
            end = time.monotonic() + BOUND
            while not (folder / "junk.json.rejected").exists() and time.monotonic() < end:
                time.sleep(0.01)
    assert sorted(m["ID"] for m in got) == sorted(m["ID"] for m in sent)
    assert (folder / "junk.json.rejected").exists()
    assert any("junk.json" in str(w.message) for w in seen)
    assert sorted(p.name for p in folder.iterdir()) == ["junk.json.rejected"]


def test_asyncio_sends_and_iterates_over_what_it_receives(tmp_path):
    async def main() -> List[str]:
        q: "queue.Queue[Message]" = queue.Queue()
        receiving = get_transport("http://127.0.0.1:0/", q).start()
        _, port = receiving.get_parameter("server_address")
        sending = get_transport(f"http://127.0.0.1:{port}/")
        sending.set_parameter("spool", str(tmp_path / "spool"))
        sending.start()
        for m in sent:
            await sending.asend_message(m)
        await sending.aflush(BOUND)
        sending.stop()
        got = []
        async for message in receiving.messages():
            got.append(message["ID"])
            if len(got) == len(sent):
                receiving.stop()
        return got

    sent = messages(5)
    got = asyncio.run(asyncio.wait_for(main(), BOUND))
    assert sorted(got) == sorted(m["ID"] for m in sent)


def test_allowed_peers_and_pins_narrow_whom_each_side_trusts(pki):
    fingerprint = subprocess.run(
        ["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", str(pki / "server.pem")],
        check=True, capture_output=True, text=True,
    ).stdout
    for allowed, delivered in (("other.example", False), ("sensor.example", True)):
        q: "queue.Queue[Message]" = queue.Queue()
        receiving = get_transport("https://127.0.0.1:0/", q)
        for name, file in (("my_cert", "server.pem"), ("my_key", "server.key"), ("ca_cert", "ca.pem")):
            receiving.set_parameter(name, str(pki / file))
        receiving.set_parameter("allowed_peers", [allowed])
        with receiving:
            _, port = receiving.get_parameter("server_address")
            # No CA: the receiver is trusted by its certificate's pin alone.
            sending = get_transport(f"https://localhost:{port}/")
            sending.set_parameter("my_cert", str(pki / "sensor.pem"))
            sending.set_parameter("my_key", str(pki / "sensor.key"))
            sending.set_parameter("pins", fingerprint)
            sending.start()
            sending.send_message(Message(MINIMAL))
            if delivered:
                sending.stop()
                assert q.get(timeout=BOUND)["ID"] == MINIMAL["ID"]
            else:
                with pytest.raises(TransportError, match="TLS"):
                    sending.flush(BOUND)
                with pytest.raises(TransportError):
                    sending.stop()
                assert q.empty()
