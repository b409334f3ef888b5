"""AWS APIs that moto does not implement, served in front of a local moto server.

moto (5.2) answers IAM Access Analyzer and the Account API's contact information with
"Not yet implemented". :func:`install` wraps a started ``ThreadedMotoServer`` so that these
few operations are answered here, in the shapes of the AWS API references, and every other
request still goes to moto:

* Access Analyzer (REST/JSON, signing name ``access-analyzer``): ``CreateAnalyzer``
  (``PUT /analyzer``) and ``ListAnalyzers`` (``GET /analyzer``, optional ``type``), per region.
* Account (REST/JSON, signing name ``account``): ``PutContactInformation`` and
  ``GetContactInformation`` (``POST /putContactInformation``, ``/getContactInformation``).
  Without a stored contact the answer is ``ResourceNotFoundException``.
* Lambda ``ListFunctionUrlConfigs`` (``GET /2021-10-31/functions/NAME/urls``), answered from
  moto's own record of the function (so only for a moto server in this process, where it
  evaluates no IAM): its URL configuration, or none.

State lives with the server and is dropped by moto's own reset (``POST /moto-api/reset``).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
_DEFAULT_ACCOUNT = "123456789012"
_FUNCTION_URLS = re.compile(r"/2021-10-31/functions/([^/]+)/urls/?")


class AwsExtras:
    """WSGI middleware answering the operations above; the rest goes to ``app``."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self.analyzers: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.rstrip("/") == "/moto-api/reset":  # not /moto-api/reset-auth
            with self._lock:
                self.analyzers.clear()
                self.contacts.clear()
            return self.app(environ, start)
        scope = _SCOPE.search(str(environ.get("HTTP_AUTHORIZATION", "")))
        if scope:
            region, service = scope.groups()
            account = str(environ.get("HTTP_X_MOTO_ACCOUNT_ID") or _DEFAULT_ACCOUNT)
            if service == "access-analyzer" and path.rstrip("/") == "/analyzer":
                return self._analyzer(environ, start, account, region)
            urls = _FUNCTION_URLS.fullmatch(path)
            if service == "lambda" and urls and environ.get("REQUEST_METHOD") == "GET":
                return self._function_urls(start, account, region, urls.group(1))
            if service == "account" and path in (
                "/getContactInformation",
                "/putContactInformation",
            ):
                return self._contact(environ, start, account, path)
        return self.app(environ, start)

    # -- Access Analyzer ---------------------------------------------------------------
    def _analyzer(
        self, environ: dict[str, Any], start: Callable[..., Any], account: str, region: str
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        with self._lock:
            analyzers = self.analyzers.setdefault((account, region), [])
            if method == "PUT":
                body = _body(environ)
                name = str(body.get("analyzerName"))
                arn = f"arn:aws:access-analyzer:{region}:{account}:analyzer/{name}"
                analyzers.append(
                    {
                        "arn": arn,
                        "name": name,
                        "type": body.get("type", "ACCOUNT"),
                        "createdAt": datetime.now(UTC).isoformat(),
                        "status": "ACTIVE",
                        "tags": body.get("tags") or {},
                    }
                )
                return _json(start, {"arn": arn})
            wanted = parse_qs(str(environ.get("QUERY_STRING", ""))).get("type")
            items = [a for a in analyzers if not wanted or a["type"] in wanted]
            return _json(start, {"analyzers": items})

    # -- Account -----------------------------------------------------------------------
    def _contact(
        self, environ: dict[str, Any], start: Callable[..., Any], account: str, path: str
    ) -> Iterable[bytes]:
        body = _body(environ)
        target = str(body.get("AccountId") or account)
        with self._lock:
            if path == "/putContactInformation":
                self.contacts[target] = dict(body.get("ContactInformation") or {})
                return _json(start, {})
            contact = self.contacts.get(target)
        if contact is None:
            error = {"message": "No contact information found for this account."}
            return _json(start, error, status="404 Not Found", code="ResourceNotFoundException")
        return _json(start, {"ContactInformation": contact})

    def _function_urls(
        self, start: Callable[..., Any], account: str, region: str, function: str
    ) -> Iterable[bytes]:
        """ListFunctionUrlConfigs from moto's own record of the function (in this process):
        its URL configuration, none, or ``ResourceNotFoundException`` for an unknown one."""
        from moto.awslambda.models import lambda_backends

        name = unquote(function)
        try:
            found = lambda_backends[account][region].get_function(name)
        except Exception:
            error = {"Type": "User", "Message": f"Function not found: {name}"}
            return _json(start, error, status="404 Not Found", code="ResourceNotFoundException")
        url = getattr(found, "url_config", None)
        return _json(start, {"FunctionUrlConfigs": [url.to_dict()] if url else []})


def _body(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length) if length else b""
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _json(
    start: Callable[..., Any], value: Any, *, status: str = "200 OK", code: str | None = None
) -> list[bytes]:
    data = json.dumps(value).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    if code:
        headers.append(("x-amzn-ErrorType", code))
    headers.append(("x-amzn-RequestId", str(uuid.uuid4())))
    start(status, headers)
    return [data]


def install(server: Any) -> AwsExtras:
    """Put :class:`AwsExtras` in front of a started ``moto.server.ThreadedMotoServer``."""
    wsgi = server._server  # werkzeug's server reads ``.app`` for every request
    if wsgi is None:
        raise RuntimeError("start the moto server before installing the extra APIs")
    extras = wsgi.app if isinstance(wsgi.app, AwsExtras) else AwsExtras(wsgi.app)
    wsgi.app = extras
    return extras


def serve(host: str = "127.0.0.1", port: int = 5000) -> None:
    """Run a moto server with these extra APIs in this process until interrupted (used by
    the scan benchmark, which keeps moto in a process of its own)."""
    import time

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    install(server)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    import sys

    serve(port=int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
