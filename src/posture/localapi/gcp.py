"""A local Google Cloud server for the gcp connector: the OAuth token endpoint (JWT-bearer
grant verified against the service account's public key), Resource Manager v3
(organisations, folders, projects and their IAM policies) and, as data, any other API whose
discovery document the client ships.

Adding an API's resources is data: each project has ``collections``, a dict from the request
path Google's client sends (``v1/projects/acme-prod/serviceAccounts``; with one query
parameter, ``storage/v1/b?project=acme-prod``, where the path alone names no project) to the
items of a list method (a list, paged into the response's list field) or the answer of any
other method (a dict, e.g. ``...cryptoKeys/k1:getIamPolicy``, or an ``aggregatedList`` answer
with its ``items``, returned whole). An ``aggregatedList`` entry without ``items`` maps each
scope (``zones/Z``, ``regions/R``, ``global``) to its scoped list and is paged across scopes. Under one root URL a path two APIs share (``v1/projects/P/locations``) is
one entry for both: keep it the union. Paths are matched against the discovery
documents of ``apis``: a list method without data answers an empty page, a get without
data 404 NOT_FOUND. Answers are in Google's JSON shape: ``pageToken`` / ``nextPageToken``
paging (``page_size`` items per page), empty lists, empty objects, empty strings, nulls and
false booleans omitted. Switches inject 403 SERVICE_DISABLED per (project, API), 403
IAM_PERMISSION_DENIED per path prefix (naming the permission) and 429 RESOURCE_EXHAUSTED
with ``Retry-After`` per path prefix (once or always).

The documented write methods setting repair uses are answered too (``gcp_writes``): they
change the data later reads serve, check Google's preconditions and answer Operations. The
key file ``write_key_file`` signs in as a second service account (``FIXER``); the scanning
one (``SCANNER``) is in ``read_only``, whose writes answer 403 naming the permission, and a
test makes the fixer read-only by adding it there.
"""

from __future__ import annotations

import copy
import json
import re
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from posture.connectors import discovery
from posture.localapi import gcp_writes
from posture.localapi.google import jwt_grant, write_key_file
from posture.localapi.tls import server_certificate

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
SCANNER = "scanner@posture-test.iam.gserviceaccount.com"  # the key file's service account
FIXER = "fixer@posture-test.iam.gserviceaccount.com"  # the write key file's
# the APIs whose paths are served from collections (the other workers' APIs are added here)
APIS = [
    "iam.v1",
    "apikeys.v2",
    "cloudkms.v1",
    "essentialcontacts.v1",
    "accessapproval.v1",
    "compute.v1",
    "dns.v1",
    "logging.v2",
    "monitoring.v3",
    "serviceusage.v1",
    "storage.v1",
    # Cloud SQL, BigQuery, Dataproc (per compute region), GKE, Artifact Registry
    "sqladmin.v1beta4",
    "bigquery.v2",
    "dataproc.v1",
    "container.v1",
    "artifactregistry.v1",
    "securitycenter.v1",
]
# list methods whose query narrows the items: (api call) -> (query parameter, item field)
QUERY_FILTERS: dict[str, tuple[str, str]] = {
    "iam.v1 projects.serviceAccounts.keys.list": ("keyTypes", "keyType"),
}
Answer = tuple[int, dict[str, str], dict[str, Any]]


def _empty(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, (str, list, dict)) and not value)


def omit_empty(value: Any) -> Any:
    """Google's JSON: fields whose value is empty, null or false are left out (numbers stay,
    so data can state a zero it means)."""
    if isinstance(value, dict):
        out = {k: omit_empty(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if not _empty(v)}
    if isinstance(value, list):
        return [omit_empty(v) for v in value]
    return value


@dataclass
class GcpProject:
    """One project: its Resource Manager record, IAM policy and other APIs' data."""

    project_id: str
    number: str
    parent: str  # organizations/N or folders/F
    display_name: str = ""
    state: str = "ACTIVE"  # ACTIVE | DELETE_REQUESTED
    labels: dict[str, str] = field(default_factory=dict)
    iam_policy: dict[str, Any] = field(default_factory=dict)
    collections: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {
            "name": f"projects/{self.number}",
            "parent": self.parent,
            "projectId": self.project_id,
            "state": self.state,
            "displayName": self.display_name or self.project_id,
            "createTime": "2024-04-01T00:00:00.000Z",
            "updateTime": "2025-06-01T00:00:00.000Z",
            "etag": f'W/"{self.number}"',
            "labels": self.labels,
        }


@dataclass
class GcpOrganization:
    organization_id: str
    display_name: str
    directory_customer_id: str = "C03az79cb"
    iam_policy: dict[str, Any] = field(default_factory=dict)
    collections: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        return {
            "name": f"organizations/{self.organization_id}",
            "displayName": self.display_name,
            "directoryCustomerId": self.directory_customer_id,
            "state": "ACTIVE",
            "createTime": "2023-01-10T00:00:00.000Z",
            "etag": "BwX0",
        }


@dataclass
class _Route:
    api: str
    call: str
    method: dict[str, Any]
    pattern: re.Pattern[str]


def _routes(apis: list[str]) -> list[_Route]:
    out = []
    for api in apis:
        doc = discovery.document(api)
        if doc is None:
            raise ValueError(f"no discovery document for {api}")
        base = str(doc.get("servicePath") or "")
        for call, body in discovery.methods(api):
            path = base + str(body.get("flatPath") or body["path"])
            regex = re.sub(r"\\\{(?:\\\+)?[A-Za-z0-9_.]+\\\}", "[^/]+", re.escape(path))
            out.append(_Route(api, call, body, re.compile(f"^{regex}$")))
    # a literal segment beats a placeholder: longer fixed text first
    return sorted(out, key=lambda r: -len(re.sub(r"\[\^/\]\+", "", r.pattern.pattern)))


@dataclass
class FakeGcp:
    """State and switches of the fake; tests change them between scans."""

    organizations: dict[str, GcpOrganization] = field(default_factory=dict)
    folders: list[dict[str, Any]] = field(default_factory=list)  # Folder records (v3 shape)
    projects: dict[str, GcpProject] = field(default_factory=dict)
    apis: list[str] = field(default_factory=lambda: list(APIS))
    page_size: int = 2  # small pages, so every listing pages
    disabled: set[tuple[str, str]] = field(default_factory=set)  # (project id, API name)
    denied: dict[str, str] = field(default_factory=dict)  # path prefix -> permission named
    throttle_once: set[str] = field(default_factory=set)  # path prefixes answering one 429
    throttle_always: set[str] = field(default_factory=set)  # path prefixes always 429
    retry_after: str = "1"
    public_key: Any = None
    base_url: str = ""
    requests: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)  # token -> client_email
    # service accounts whose writes are refused with 403 (the scanner's roles only read)
    read_only: set[str] = field(default_factory=lambda: {SCANNER})
    writes: list[str] = field(default_factory=list)  # "METHOD /path" of each write made
    pending_operations: bool = False  # Compute / Cloud SQL writes answer RUNNING, get says DONE
    # path prefix -> (code, message): the write's Operation ends DONE with that error, unchanged
    failing_operations: dict[str, tuple[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _route_cache: tuple[tuple[str, ...], list[_Route]] | None = None

    def add_project(self, project: GcpProject) -> GcpProject:
        self.projects[project.project_id] = project
        return project

    def folder(self, folder_id: str, parent: str, name: str, state: str = "ACTIVE") -> None:
        self.folders.append(
            {
                "name": f"folders/{folder_id}",
                "parent": parent,
                "displayName": name,
                "state": state,
                "createTime": "2024-01-01T00:00:00.000Z",
                "etag": f"F{folder_id}",
            }
        )

    # -- the OAuth token endpoint -----------------------------------------------------
    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        claims, refused = jwt_grant(self.public_key, form)
        if refused is not None:
            return 400, refused
        if CLOUD_PLATFORM not in str(claims.get("scope", "")).split():
            return 400, {"error": "invalid_scope", "error_description": "Invalid OAuth scope."}
        with self.lock:
            value = f"ya29.gcp-{len(self.tokens)}"
            self.tokens[value] = str(claims.get("iss"))
        return 200, {"access_token": value, "expires_in": 3599, "token_type": "Bearer"}

    # -- the APIs ---------------------------------------------------------------------
    def routes(self) -> list[_Route]:
        key = tuple(self.apis)
        if self._route_cache is None or self._route_cache[0] != key:
            self._route_cache = (key, _routes(self.apis))
        return self._route_cache[1]

    def _project_of(
        self, path: str, query: dict[str, list[str]] | None = None
    ) -> GcpProject | None:
        """The project a request is about: a ``projects/ID`` segment, or ``?project=ID``
        (Cloud Storage's buckets.list)."""
        found = re.search(r"(?:^|/)projects/([^/:]+)", path)
        named = (query or {}).get("project") or (query or {}).get("projectId")
        if not found and not named:
            return None
        wanted = unquote(found.group(1)) if found else str((named or [""])[0])
        for project in self.projects.values():
            if wanted in (project.project_id, project.number):
                return project
        return None

    def answer(self, method: str, url: str, auth: str, body: dict[str, Any]) -> Answer:
        parts = urlsplit(url)
        path = unquote(parts.path).lstrip("/")
        query = {k: v for k, v in parse_qs(parts.query).items()}
        with self.lock:
            self.requests.append(f"{method} /{path}{'?' + parts.query if parts.query else ''}")
            identity = self.tokens.get(auth.removeprefix("Bearer "))
        if identity is None:
            return (
                401,
                {},
                _error(
                    401,
                    "Request had invalid authentication credentials.",
                    "UNAUTHENTICATED",
                    "ACCESS_TOKEN_TYPE_UNSUPPORTED",
                ),
            )
        project = self._project_of(path, query)
        route = self._route(method, path)
        api = route.api if route else "cloudresourcemanager.v3"
        if project is not None and (project.project_id, api.partition(".")[0]) in self.disabled:
            return 403, {}, _disabled(api, project)
        for prefix, permission in sorted(self.denied.items()):
            if path.startswith(prefix):
                return 403, {}, _denied(permission, path)
        for prefix in sorted(self.throttle_once | self.throttle_always):
            if path.startswith(prefix):
                with self.lock:
                    self.throttle_once.discard(prefix)
                return 429, {"Retry-After": self.retry_after}, _throttled(api)
        if path.startswith("v3/"):
            found = self._resource_manager(method, path, query)
            if found is not None:
                return found
        call = f"{route.api} {route.call}" if route else ""
        if call in gcp_writes.WRITERS:
            if identity in self.read_only:
                return 403, {}, _denied(gcp_writes.PERMISSIONS[call], path)
            for prefix, (code, message) in sorted(self.failing_operations.items()):
                if path.startswith(prefix):
                    return 200, {}, gcp_writes.failed_operation(self, path, code, message)
            with self.lock:
                self.writes.append(f"{method} /{path}{'?' + parts.query if parts.query else ''}")
                status, headers, answer = gcp_writes.WRITERS[call](self, path, query, body)
            if self.pending_operations and answer.get("kind") in gcp_writes.OPERATION_KINDS:
                answer = {**answer, "status": "RUNNING"}
                answer.pop("endTime", None)
            return status, headers, answer
        if call in gcp_writes.OPERATION_READS:
            return gcp_writes.operation_read(self, path)
        if route is None:
            return (
                404,
                {},
                _error(404, f"The requested URL /{path} was not found.", "NOT_FOUND", "notFound"),
            )
        return self._collection(route, path, query)

    def _route(self, method: str, path: str) -> _Route | None:
        for route in self.routes():
            if route.method.get("httpMethod") == method and route.pattern.match(path):
                return route
        return None

    def _collection(self, route: _Route, path: str, query: dict[str, list[str]]) -> Answer:
        data = self._data(path, query)
        schema = str((route.method.get("response") or {}).get("$ref") or "")
        if (
            route.call.endswith(".aggregatedList")
            and isinstance(data, dict)
            and "items" not in data
        ):
            return 200, {}, self._aggregated_page(data, query)
        list_key = _list_field(route.api, schema) if route.call.endswith(".list") else None
        if list_key is None:
            if data is None and route.method.get("httpMethod") == "GET":
                data = next(iter(gcp_writes.copies(self, path)), None)
            if data is None:
                return (
                    404,
                    {},
                    _error(404, f"Resource '{path}' was not found", "NOT_FOUND", "notFound"),
                )
            return 200, {}, omit_empty(copy.deepcopy(data))
        items = list(data or [])
        narrowing = QUERY_FILTERS.get(f"{route.api} {route.call}")
        if narrowing and narrowing[0] in query:
            items = [i for i in items if i.get(narrowing[1]) in query[narrowing[0]]]
        paged = "pageToken" in (route.method.get("parameters") or {})
        return 200, {}, self._page(items, list_key, query, paged)

    def _data(self, path: str, query: dict[str, list[str]]) -> Any:
        """The data of ``path``; a key with a query (``storage/v1/b?project=acme-prod``) is
        preferred when the request carries that parameter."""
        keys = [f"{path}?{name}={values[0]}" for name, values in sorted(query.items())]
        for key in [*keys, path]:
            found = self._data_at(key)
            if found is not None:
                return found
        return None

    def _data_at(self, path: str) -> Any:
        holders: list[dict[str, Any]] = [p.collections for p in self.projects.values()]
        holders += [o.collections for o in self.organizations.values()]
        for collections in holders:
            if path in collections:
                return collections[path]
        return None

    def _page(
        self, items: list[Any], key: str, query: dict[str, list[str]], paged: bool
    ) -> dict[str, Any]:
        size = len(items) or 1
        if paged:
            asked = int((query.get("pageSize") or ["0"])[0] or 0)
            size = min(asked, self.page_size) if asked else self.page_size
        start = int((query.get("pageToken") or ["0"])[0] or 0)
        body: dict[str, Any] = {key: copy.deepcopy(items[start : start + size])}
        if paged and start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return omit_empty(body)  # type: ignore[no-any-return]

    def _aggregated_page(self, data: dict[str, Any], query: dict[str, list[str]]) -> Any:
        """A Compute Engine aggregated list: ``data`` maps each scope (``zones/Z``,
        ``regions/R``, ``global``) to its scoped list (``{"instances": [...]}``); pages hold
        ``page_size`` items across scopes, and a scope without items on a page answers the
        ``warning`` Google sends for an empty scope."""
        flat = [
            (scope, kind, item)
            for scope, scoped in data.items()
            for kind, items in (scoped or {}).items()
            if isinstance(items, list)
            for item in items
        ]
        start = int((query.get("pageToken") or ["0"])[0] or 0)
        page = flat[start : start + self.page_size]
        empty = {
            "warning": {
                "code": "NO_RESULTS_ON_PAGE",
                "message": "There are no results for scope on this page.",
                "data": [{"key": "scope", "value": ""}],
            }
        }
        body: dict[str, Any] = {"items": {}}
        for scope in data:
            mine = [(kind, item) for s, kind, item in page if s == scope]
            scoped: dict[str, Any] = {}
            for kind, item in mine:
                scoped.setdefault(kind, []).append(copy.deepcopy(item))
            if not scoped:
                scoped = copy.deepcopy(empty)
                scoped["warning"]["data"][0]["value"] = scope
            body["items"][scope] = scoped
        if start + self.page_size < len(flat):
            body["nextPageToken"] = str(start + self.page_size)
        return omit_empty(body)

    def _resource_manager(
        self, method: str, path: str, query: dict[str, list[str]]
    ) -> Answer | None:
        """Resource Manager v3: organisations, folders, projects and their IAM policies."""
        rest = path.removeprefix("v3/")
        show_deleted = (query.get("showDeleted") or ["false"])[0] == "true"
        if method == "GET" and rest in ("folders", "projects"):
            parent = (query.get("parent") or [""])[0]
            if not parent:
                return 400, {}, _error(400, "parent is required", "INVALID_ARGUMENT", "badRequest")
            if rest == "folders":
                records = [f for f in self.folders if f["parent"] == parent]
                records = [f for f in records if show_deleted or f["state"] == "ACTIVE"]
                return 200, {}, self._page(records, "folders", query, True)
            found = sorted(
                (p for p in self.projects.values() if p.parent == parent),
                key=lambda p: p.project_id,
            )
            found = [p for p in found if show_deleted or p.state == "ACTIVE"]
            return 200, {}, self._page([p.record() for p in found], "projects", query, True)
        match = re.fullmatch(r"(projects|organizations)/([^/:]+)(:getIamPolicy)?", rest)
        if not match:
            return None
        kind, ident, iam = match.groups()
        if kind == "organizations":
            org = self.organizations.get(ident)
            if org is None:
                return 403, {}, _denied("resourcemanager.organizations.get", path)
            if iam:
                return 200, {}, omit_empty(copy.deepcopy(org.iam_policy))
            return 200, {}, omit_empty(org.record())
        project = self._project_of(rest)
        if project is None:  # Google does not tell a missing project from a forbidden one
            permission = "resourcemanager.projects." + ("getIamPolicy" if iam else "get")
            return 403, {}, _denied(permission, path)
        if iam:
            if method != "POST":
                return 405, {}, _error(405, "getIamPolicy is a POST", "METHOD_NOT_ALLOWED", "x")
            return 200, {}, omit_empty(copy.deepcopy(project.iam_policy))
        return 200, {}, omit_empty(project.record())


def _list_field(api: str, schema: str) -> str | None:
    """The array field of a list response (``ListServiceAccountsResponse`` -> accounts)."""
    doc = discovery.document(api) or {}
    props = ((doc.get("schemas") or {}).get(schema) or {}).get("properties") or {}
    arrays = [k for k, v in props.items() if v.get("type") == "array" and k != "unreachable"]
    return arrays[0] if arrays else None


def _error(code: int, message: str, status: str, reason: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "status": status,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


def _disabled(api: str, project: GcpProject) -> dict[str, Any]:
    service = f"{api.partition('.')[0]}.googleapis.com"
    message = (
        f"{service} API has not been used in project {project.number} before or it is "
        f"disabled. Enable it by visiting https://console.developers.google.com/apis/api/"
        f"{service}/overview?project={project.number} then retry."
    )
    body = _error(403, message, "PERMISSION_DENIED", "accessNotConfigured")
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "SERVICE_DISABLED",
            "domain": "googleapis.com",
            "metadata": {"service": service, "consumer": f"projects/{project.number}"},
        }
    ]
    return body


def _denied(permission: str, path: str) -> dict[str, Any]:
    message = f"Permission '{permission}' denied on resource '//{path}' (or it may not exist)."
    body = _error(403, message, "PERMISSION_DENIED", "forbidden")
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "IAM_PERMISSION_DENIED",
            "domain": "iam.googleapis.com",
            "metadata": {"permission": permission},
        }
    ]
    return body


def _throttled(api: str) -> dict[str, Any]:
    service = f"{api.partition('.')[0]}.googleapis.com"
    body = _error(
        429,
        f"Quota exceeded for quota metric 'Read requests' of service '{service}'.",
        "RESOURCE_EXHAUSTED",
        "rateLimitExceeded",
    )
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "RATE_LIMIT_EXCEEDED",
            "domain": "googleapis.com",
            "metadata": {"service": service},
        }
    ]
    return body


def _handler(fake: FakeGcp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _send(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> str:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length).decode()

        def do_POST(self) -> None:
            raw = self._body()
            if self.path.startswith("/token"):
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                status, answer = fake.token(form)
                self._send(status, {}, answer)
                return
            try:
                body = json.loads(raw or "{}")
            except ValueError:
                body = {}
            self._send(*fake.answer("POST", self.path, self.headers.get("Authorization", ""), body))

        def do_GET(self) -> None:
            self._send(*fake.answer("GET", self.path, self.headers.get("Authorization", ""), {}))

        def _write(self, method: str) -> None:
            try:
                body = json.loads(self._body() or "{}")
            except ValueError:
                body = {}
            auth = self.headers.get("Authorization", "")
            self._send(*fake.answer(method, self.path, auth, body))

        def do_PATCH(self) -> None:
            self._write("PATCH")

        def do_PUT(self) -> None:
            self._write("PUT")

    return Handler


@dataclass
class RunningGcp:
    fake: FakeGcp
    url: str  # https://127.0.0.1:PORT/
    ca_bundle: Path
    key_file: Path
    write_key_file: Path  # a second service account (FIXER) with the same key pair


@contextmanager
def gcp_server(
    folder: Path, setup: Callable[[FakeGcp], None] | None = None
) -> Iterator[RunningGcp]:
    """Start the fake on 127.0.0.1 over HTTPS; a key file for it is written into ``folder``."""
    cert, key = server_certificate(folder, "gcp")
    fake = FakeGcp()
    if setup:
        setup(fake)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    url = f"https://127.0.0.1:{port}/"
    key_file, public = write_key_file(folder, url + "token", name="gcp-key.json")
    fixer = json.loads(key_file.read_text()) | {"client_email": FIXER}
    write_key = folder / "gcp-write-key.json"
    write_key.write_text(json.dumps(fixer))
    fake.public_key, fake.base_url = public, url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningGcp(fake, url, cert, key_file, write_key)
    finally:
        server.shutdown()
        server.server_close()
