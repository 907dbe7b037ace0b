"""A plain-HTTP receiver such as the connectors' test server or
python-idmefv2-transport's: no TLS, Python's http.server. It answers 500
(with an HTML error page) to every POST whose body holds the text POISON,
and 204 to the rest, which it writes to OUT one body per line. With
USER:PASSWORD, a POST without those HTTP Basic credentials gets 401 with
WWW-Authenticate and is not kept. Every request is logged to OUT.log as
one JSON line: status, the user name sent (or null), whether it was the
poison.

usage: plain_receiver.py PORT OUT POISON [USER:PASSWORD]
"""
import base64
import http.server
import json
import sys

port, out, poison = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
expected = sys.argv[4] if len(sys.argv) > 4 else None

PAGE = b"""<!DOCTYPE html>
<html>
<head>
<title>500 Internal Server Error</title>
</head>
<body>
<h1>Internal Server Error</h1>
<p>The server encountered an internal error and was unable to complete
your request.</p>
</body>
</html>
"""


class Receiver(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        user = None
        given = self.headers.get("Authorization", "")
        if given.startswith("Basic "):
            try:
                user = base64.b64decode(given[6:], validate=True).decode()
            except ValueError:
                user = None
        if expected is not None and user != expected:
            status = 401
        elif poison in body:
            status = 500
        else:
            status = 204
        with open(out + ".log", "a", encoding="utf-8") as f:
            name = user.split(":", 1)[0] if user else None
            f.write(json.dumps({"status": status, "user": name, "poison": poison in body}) + "\n")
        if status == 204:
            with open(out, "ab") as f:
                f.write(body + b"\n")
            self.send_response(204)
            self.end_headers()
        elif status == 401:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="idmefv2"')
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "13")
            self.end_headers()
            self.wfile.write(b"unauthorized\n")
        else:
            self.send_response(500)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
