"""The receiver a Python user can write today with python-idmefv2 (PyPI
`idmefv2`), for benches/http.rs: http.server with ssl (mutual TLS 1.3,
HTTP/1.1 only, one thread per connection: mtls.py), each POST validated with
Message.unserialize, appended to a file and fsynced before the 204.

usage: python_receiver.py PORT CERT KEY CA OUT
"""
import http.server
import os
import sys
import threading

import mtls
from idmefv2 import Message, SerializedMessage

port, cert, key, ca, out = sys.argv[1:6]
sink = open(out, "ab")
lock = threading.Lock()


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        try:
            Message.unserialize(SerializedMessage("application/json", body))
        except Exception:
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with lock:
            sink.write(body.replace(b"\n", b" ") + b"\n")
            sink.flush()
            os.fsync(sink.fileno())
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


mtls.serve(Receiver, port, cert, key, ca)
