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
  moto's own ``GetFunctionUrlConfig`` of that function: its URL configuration, or none.

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
from urllib.parse import parse_qs

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
                return self._function_urls(environ, start, urls.group(1))
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
        self, environ: dict[str, Any], start: Callable[..., Any], function: str
    ) -> Iterable[bytes]:
        """ListFunctionUrlConfigs as moto's GetFunction and GetFunctionUrlConfig see it: an
        unknown function is moto's own error, a function without a URL has no configuration."""
        status, headers, body = self._inner(environ, f"/2015-03-31/functions/{function}")
        if not status.startswith("2"):
            start(status, headers)
            return [body]
        status, _, body = self._inner(environ, f"/2021-10-31/functions/{function}/url")
        configs = [json.loads(body or b"{}")] if status.startswith("2") else []
        return _json(start, {"FunctionUrlConfigs": configs})

    def _inner(
        self, environ: dict[str, Any], path: str
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        """A GET of ``path`` answered by moto, with the caller's signature and headers."""
        inner = dict(environ)
        inner["PATH_INFO"], inner["QUERY_STRING"] = path, ""
        for key in ("RAW_URI", "REQUEST_URI"):  # what moto routes on, when the server sets it
            if key in inner:
                inner[key] = path
        answer: dict[str, Any] = {"status": "500 Internal Server Error", "headers": []}

        def capture(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
            answer["status"], answer["headers"] = status, list(headers)

        body = b"".join(self.app(inner, capture))
        return str(answer["status"]), list(answer["headers"]), body


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
