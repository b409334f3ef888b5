"""Graph calls through msgraph-sdk's request adapter: auth, retry on throttling, one call per URL.

The SDK's own retry handler is switched off per request and the retry loop lives here, so
each throttled answer is counted against the resource type that met it (the scan records
calls, errors and throttles per type) and ``Retry-After`` is honoured exactly.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, unquote, urlencode

import httpx

from posture.connectors.m365.failures import GraphFailure
from posture.connectors.m365.settings import M365Settings, make_credential
from posture.errors import CollectionError

MAX_RETRY_AFTER = 120.0  # seconds; a longer wait is capped rather than trusted blindly
BATCH_SIZE = 20  # Graph's limit of requests in one JSON batch
VERSIONS = {"graph": "v1.0", "graph-beta": "beta"}

Counter = Callable[[int, int, int], None]  # calls, errors, throttles


#: Evolvable enums: without it Graph answers ``unknownFutureValue`` for members added after
#: v1.0 froze (Conditional Access's ``riskRemediation`` grant, for one).
PREFER = "include-unknown-enum-members"


class GraphCallError(CollectionError):
    """A Graph call failed after retries; ``failure`` holds status and Graph error code."""

    def __init__(self, message: str, failure: GraphFailure, url: str) -> None:
        super().__init__(message, code=failure.code or str(failure.status))
        self.failure = failure
        self.url = url


class GraphSession:
    """One connection's Graph access for one scan: a signed-in adapter and a URL cache."""

    def __init__(
        self, connection: str, settings: M365Settings, *, sleep: Any = None, credential: Any = None
    ) -> None:
        from kiota_authentication_azure.azure_identity_authentication_provider import (
            AzureIdentityAuthenticationProvider,
        )
        from msgraph.graph_request_adapter import GraphRequestAdapter
        from msgraph.graph_service_client import GraphServiceClient
        from msgraph_core import GraphClientFactory

        self.connection = connection
        self.settings = settings
        # a credential handed in stays its owner's (tokens cached across sessions)
        self._owns_credential = credential is None
        self.credential = credential or make_credential(connection, settings)
        auth = AzureIdentityAuthenticationProvider(
            self.credential, scopes=[settings.scope()], allowed_hosts=[settings.graph_host]
        )
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=settings.ca_bundle) if settings.ca_bundle else True
        )
        http = httpx.AsyncClient(verify=verify, timeout=httpx.Timeout(60.0, connect=10.0))
        client = GraphClientFactory.create_with_default_middleware(client=http)
        self.adapter = GraphRequestAdapter(auth, client=client)
        # the service client registers the JSON (de)serialisers the adapter parses errors with
        self.client = GraphServiceClient(request_adapter=self.adapter)
        self._cache: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._eventual: set[str] = set()  # next links of advanced queries
        self._sleep = sleep or asyncio.sleep

    def url(self, path: str, service: str = "graph", args: dict[str, Any] | None = None) -> str:
        """The absolute URL of a Graph path in the version ``service`` names."""
        if path.startswith(("https://", "http://")):
            return path
        version = VERSIONS[service]
        # spaces as %20, not "+": OData reads the query with RFC 3986 percent-encoding
        query = "?" + urlencode(args, safe="$,()'", quote_via=quote) if args else ""
        return f"{self.settings.base_url(version)}/{path.lstrip('/')}{query}"

    async def get(self, url: str, count: Counter) -> dict[str, Any]:
        """The JSON body at ``url``; each distinct URL is fetched once per scan."""
        cached = self._cache.get(url)
        if cached is None:
            cached = self._cache[url] = asyncio.ensure_future(self._fetch(url, count))
        return await cached

    async def prefetch(self, urls: list[str], count: Counter) -> None:
        """Fetch the not yet cached URLs of one version in JSON batches of up to 20.

        Each answer lands in the URL cache, so the callers' ``get`` finds it; a failed
        answer is stored as its error and raised there, exactly as a single call's would be.
        """
        fresh: list[str] = []
        for url in dict.fromkeys(urls):
            if url not in self._cache and self._version_root(url):
                fresh.append(url)
        if len(fresh) < 2:
            return
        loop = asyncio.get_running_loop()
        for url in fresh:
            self._cache[url] = loop.create_future()
        for start in range(0, len(fresh), BATCH_SIZE):
            await self._batch(fresh[start : start + BATCH_SIZE], count)

    def _version_root(self, url: str) -> str | None:
        for version in VERSIONS.values():
            root = self.settings.base_url(version)
            if url.startswith(root + "/"):
                return root
        return None

    async def _batch(self, urls: list[str], count: Counter) -> None:
        pending = list(urls)
        for attempt in range(1, self.settings.max_attempts + 1):
            root = self._version_root(pending[0])
            assert root is not None
            body = {
                "requests": [
                    {
                        "id": str(i),
                        "method": "GET",
                        "url": url[len(root) :],
                        "headers": {
                            "Prefer": PREFER,
                            **({"ConsistencyLevel": "eventual"} if self._advanced(url) else {}),
                        },
                    }
                    for i, url in enumerate(pending)
                ]
            }
            try:
                count(1, 0, 0)
                answer = await self._send(f"{root}/$batch", body)
            except GraphCallError as exc:
                if exc.failure.throttled and attempt < self.settings.max_attempts:
                    count(0, 0, 1)
                    await self._sleep(self._delay(exc, attempt))
                    continue
                count(0, 1, 0)
                for url in pending:
                    self._settle(url, exc)
                return
            retry: list[str] = []
            wait = 0.0
            by_id = {
                str(r.get("id")): r for r in answer.get("responses", []) if isinstance(r, dict)
            }
            for i, url in enumerate(pending):
                part = by_id.get(str(i), {})
                status = int(part.get("status", 0) or 0)
                raw = part.get("body")
                payload: dict[str, Any] = raw if isinstance(raw, dict) else {}
                if 200 <= status < 300:
                    self._settle(url, payload)
                    continue
                error = _part_error(self.connection, url, status, payload, part.get("headers"))
                if error.failure.throttled and attempt < self.settings.max_attempts:
                    retry.append(url)
                    wait = max(wait, self._delay(error, attempt))
                    continue
                count(0, 1, 0)
                self._settle(url, error)
            if not retry:
                return
            count(0, 0, len(retry))
            await self._sleep(wait)
            pending = retry
        for url in pending:  # pragma: no cover - the loop settles every URL
            self._settle(url, GraphCallError("unsettled", GraphFailure(0, "", ""), url))

    def _settle(self, url: str, outcome: dict[str, Any] | GraphCallError) -> None:
        future = self._cache[url]
        if future.done():
            return
        if isinstance(outcome, GraphCallError):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)

    async def pages(self, url: str, count: Counter) -> list[dict[str, Any]]:
        """Every page of a collection, following absolute ``@odata.nextLink`` links."""
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        next_url: str | None = url
        while next_url and next_url not in seen:
            seen.add(next_url)
            page = await self.get(next_url, count)
            out.append(page)
            link = page.get("@odata.nextLink")
            next_url = link if isinstance(link, str) else None
            if next_url and self._advanced(url):  # later pages of an advanced query stay one
                self._eventual.add(next_url)
        return out

    async def _fetch(self, url: str, count: Counter) -> dict[str, Any]:
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                count(1, 0, 0)
                return await self._send(url)
            except GraphCallError as exc:
                if exc.failure.throttled and attempt < attempts:
                    count(0, 0, 1)
                    await self._sleep(self._delay(exc, attempt))
                    continue
                count(0, 1, 0)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _delay(exc: GraphCallError, attempt: int) -> float:
        retry_after = getattr(exc, "retry_after", None)
        if isinstance(retry_after, float):
            return min(retry_after, MAX_RETRY_AFTER)
        return float(min(2**attempt, 30))

    def _advanced(self, url: str) -> bool:
        """An advanced directory query (``$count=true``) needs ``ConsistencyLevel: eventual``."""
        return url in self._eventual or "$count=true" in unquote(url).lower()

    async def write(self, method: str, url: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One PATCH / PUT / POST / DELETE, retried on throttling like a read."""
        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self._send(url, payload, method=method)
            except GraphCallError as exc:
                if exc.failure.throttled and attempt < attempts:
                    await self._sleep(self._delay(exc, attempt))
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self, url: str, payload: dict[str, Any] | None = None, *, method: str | None = None
    ) -> dict[str, Any]:
        from kiota_abstractions.api_error import APIError
        from kiota_abstractions.method import Method
        from kiota_abstractions.request_information import RequestInformation
        from kiota_http.middleware.options import RetryHandlerOption
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError

        verb = method or ("GET" if payload is None else "POST")
        info = RequestInformation()
        info.http_method = Method[verb]
        info.url = url
        info.headers.try_add("Accept", "application/json")
        if payload is None:
            info.headers.try_add("Prefer", PREFER)
        if payload is None and self._advanced(url):
            info.headers.try_add("ConsistencyLevel", "eventual")
        if payload is not None:
            info.set_stream_content(json.dumps(payload).encode(), "application/json")
        info.add_request_options([RetryHandlerOption(max_retries=0, should_retry=False)])
        try:
            body = await self.adapter.send_primitive_async(info, "bytes", {"XXX": ODataError})
        except APIError as exc:
            raise _call_error(self.connection, url, exc, verb) from exc
        except httpx.HTTPError as exc:
            failure = GraphFailure(0, type(exc).__name__, str(exc))
            raise GraphCallError(
                f"connection '{self.connection}': {verb} {url} failed: {type(exc).__name__}: {exc}",
                failure,
                url,
            ) from exc
        if not body:
            return {}
        data = json.loads(body)
        return data if isinstance(data, dict) else {"value": data}

    async def close(self) -> None:
        client = getattr(self.adapter, "_http_client", None)
        if isinstance(client, httpx.AsyncClient):
            await client.aclose()
        closer = getattr(self.credential, "close", None)
        if callable(closer) and self._owns_credential:
            closer()


def _call_error(connection: str, url: str, exc: Any, verb: str = "GET") -> GraphCallError:
    status = int(getattr(exc, "response_status_code", 0) or 0)
    detail = getattr(exc, "error", None)
    code = str(getattr(detail, "code", "") or "")
    message = str(getattr(detail, "message", "") or getattr(exc, "message", "") or "")
    failure = GraphFailure(status, code, message)
    text = f"connection '{connection}': {verb} {url} answered {status}"
    text += f" {code}" if code else ""
    text += f": {message}" if message else ""
    error = GraphCallError(text, failure, url)
    headers = getattr(exc, "response_headers", None) or {}
    retry_after = _retry_after({str(k).lower(): v for k, v in dict(headers).items()})
    if retry_after is not None:
        error.retry_after = retry_after  # type: ignore[attr-defined]
    return error


def _part_error(
    connection: str, url: str, status: int, body: dict[str, Any], headers: Any
) -> GraphCallError:
    """The error of one answer inside a JSON batch, shaped like a single call's."""
    raw = body.get("error")
    detail: dict[str, Any] = raw if isinstance(raw, dict) else {}
    code, message = str(detail.get("code", "")), str(detail.get("message", ""))
    text = f"connection '{connection}': GET {url} answered {status}"
    text += f" {code}" if code else ""
    text += f": {message}" if message else ""
    error = GraphCallError(text, GraphFailure(status, code, message), url)
    lowered = {str(k).lower(): v for k, v in dict(headers or {}).items()}
    retry_after = _retry_after(lowered)
    if retry_after is not None:
        error.retry_after = retry_after  # type: ignore[attr-defined]
    return error


def _retry_after(headers: dict[str, Any]) -> float | None:
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None:
        return None
    try:
        return max(0.0, float(str(value).strip()))
    except ValueError:
        return None


def run(coro: Awaitable[Any]) -> Any:
    """Run one scan's Graph work to completion from synchronous code."""

    async def wrapped() -> Any:
        return await coro

    return asyncio.run(wrapped())


__all__ = ["GraphCallError", "GraphSession", "run"]
