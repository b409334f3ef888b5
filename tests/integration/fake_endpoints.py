"""Endpoints that are not a working AWS API, for the connection-failure tests.

One local HTTP server answers by the first path segment of the endpoint URL, so a connection
with ``endpoint_url=<base>/html`` gets a web page and ``<base>/rejected`` an STS error; an
``https://`` URL to the same plain-HTTP server fails the TLS handshake.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PAGE = (
    b"<!DOCTYPE html><html><head><title>Welcome</title></head>"
    b"<body><p>It works!<br></p></body></html>"
)


def sts_error(code: str, message: str) -> bytes:
    """An STS error document as AWS sends it (query protocol, XML)."""
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>c0ffee00-0000-4000-8000-000000000000</RequestId></ErrorResponse>"
    ).encode()


ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "html": (200, "text/html; charset=utf-8", PAGE),
    "xhtml": (200, "text/html", b"<html><body><p>Welcome</p></body></html>"),
    "missing": (404, "text/html", b"<html><body><h1>Not Found</h1></body></html>"),
    "json": (200, "application/json", b'{"status": "ok"}'),
    "rejected": (
        403,
        "text/xml",
        sts_error("InvalidClientTokenId", "The security token included in the request is invalid."),
    ),
    "signature": (
        403,
        "text/xml",
        sts_error("SignatureDoesNotMatch", "The request signature we calculated does not match."),
    ),
    "expired": (
        400,
        "text/xml",
        sts_error("ExpiredToken", "The security token included in the request is expired"),
    ),
}


class _Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, content_type, body = ANSWERS[self.path.strip("/").split("/")[0] or "html"]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a test run prints nothing per request."""


@contextmanager
def fake_endpoints() -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT``) of a server answering as ``ANSWERS`` says."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bad_connections(base: str) -> dict[str, tuple[dict[str, Any], str]]:
    """Connection name -> (settings, expected reason code); each fails at sign-in, fast."""
    quick: dict[str, Any] = {"max_attempts": 1, "regions": ["ap-northeast-1"]}
    tls = "https://" + base.removeprefix("http://")
    return {
        "html-page": ({**quick, "endpoint_url": f"{base}/html"}, "not_aws"),
        "bad-url": ({**quick, "endpoint_url": "ftp//nonsense"}, "invalid_settings"),
        "closed-port": (
            {**quick, "endpoint_url": f"http://127.0.0.1:{closed_port()}"},
            "endpoint_unreachable",
        ),
        "tls-mismatch": ({**quick, "endpoint_url": f"{tls}/html"}, "tls_error"),
        "rejected": ({**quick, "endpoint_url": f"{base}/rejected"}, "credentials_rejected"),
        "expired": ({**quick, "endpoint_url": f"{base}/expired"}, "token_expired"),
    }
