"""http.server behind mutual TLS 1.3, for the receivers written in Python
(recorder.py, python_receiver.py): the client must present a certificate
of the given CA.
"""
import http.server
import ssl


class Server(http.server.ThreadingHTTPServer):
    # One thread per connection, not waited for at exit; room in the
    # listen queue for the benchmark's 128 connections (read when the
    # socket starts listening, so it must be set on the class).
    daemon_threads = True
    request_queue_size = 256


def serve(handler, port, cert, key, ca):
    """Serves `handler` on 127.0.0.1:`port` until killed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(cert, key)
    context.load_verify_locations(ca)
    context.verify_mode = ssl.CERT_REQUIRED
    server = Server(("127.0.0.1", int(port)), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()
