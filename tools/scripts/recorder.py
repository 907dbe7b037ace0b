"""A receiver that is not ours, for the client tests: Python's ssl and
http.server with mutual TLS 1.3 (mtls.py), answering 204 to every POST
and writing what came (method, path, Content-Type, body, the client's
DNS-IDs) as one JSON line per request.

usage: recorder.py PORT CERT KEY CA OUT
"""
import http.server
import json
import sys

import mtls

port, cert, key, ca, out = sys.argv[1:6]


class Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        names = [v for k, v in self.connection.getpeercert().get("subjectAltName", ()) if k == "DNS"]
        record = {
            "method": self.command,
            "path": self.path,
            "content_type": self.headers.get("Content-Type"),
            "body": body.decode("utf-8"),
            "peer": names,
            "version": self.request_version,
        }
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


mtls.serve(Recorder, port, cert, key, ca)
