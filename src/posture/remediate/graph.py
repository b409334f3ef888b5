"""Microsoft Graph calls made with a connection's write app registration.

A fix names ``graph.get`` / ``graph.patch`` / ``graph.put`` (``graph-beta.*`` for the beta
version) with ``path`` (under the version root) and, for a write, ``body``. The calls go
through the connector's own Graph session (msgraph-sdk's request adapter, azure-identity
sign-in, Retry-After honoured) signed in as the write app, never as the scanning one.
A refusal names the connection, the write app and the application permission the path
needs, from Graph's permission reference.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from posture.connectors.m365.client import GraphCallError, GraphSession
from posture.connectors.m365.settings import M365Settings, make_credential, write_settings
from posture.remediate.registry import ProviderCallError

SERVICES = {"graph": "graph", "graph-beta": "graph-beta"}
OPERATIONS = {"get": "GET", "patch": "PATCH", "put": "PUT", "post": "POST", "delete": "DELETE"}
# the least privileged application permission of each writable setting (Graph's update pages)
WRITE_PERMISSIONS = (
    ("/policies/authorizationPolicy", "Policy.ReadWrite.Authorization"),
    ("/policies/adminConsentRequestPolicy", "Policy.ReadWrite.ConsentRequest"),
    ("/policies/authenticationMethodsPolicy", "Policy.ReadWrite.AuthenticationMethod"),
)


def write_permission(path: str) -> str | None:
    """The application permission a write to ``path`` needs, if posture knows it."""
    for prefix, permission in WRITE_PERMISSIONS:
        if path == prefix or path.startswith(prefix + "/"):
            return permission
    return None


class GraphWriteClient:
    """One connection's Graph calls for setting repair. Each call runs in a session of its
    own (its HTTP client closed afterwards); the write app's credential, and so its token,
    is kept across them."""

    def __init__(self, connection: str, settings: M365Settings) -> None:
        assert settings.write is not None
        self.connection = connection
        self.app = settings.write.client_id
        self.settings = write_settings(settings)
        self.credential = make_credential(connection, self.settings)

    def call(
        self, service: str, operation: str, args: Mapping[str, Any], *, region: str
    ) -> dict[str, Any]:
        if service not in SERVICES or operation not in OPERATIONS:
            raise ProviderCallError(
                f"connection '{self.connection}': no Graph call {service}.{operation}; use "
                "graph.get, graph.patch or graph.put (graph-beta.* for beta)",
                code="unknown",
            )
        path = str(args.get("path") or "")
        if not path.startswith("/"):
            raise ProviderCallError(
                f"connection '{self.connection}': {service}.{operation} needs a 'path' "
                f"beginning with '/', got {path!r}",
                code="unknown",
            )
        body = args.get("body")
        payload = dict(body) if isinstance(body, Mapping) else {}
        method = OPERATIONS[operation]
        try:
            return asyncio.run(self._once(method, path, SERVICES[service], payload))
        except GraphCallError as exc:
            raise self._refusal(method, path, exc) from exc

    async def _once(
        self, method: str, path: str, service: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        session = GraphSession(self.connection, self.settings, credential=self.credential)
        try:
            url = session.url(path, service)
            if method == "GET":
                return await session._send(url)
            return await session.write(method, url, payload)
        finally:
            await session.close()

    def _refusal(self, method: str, path: str, exc: GraphCallError) -> ProviderCallError:
        failure = exc.failure
        text = f"connection '{self.connection}': {method} {path} answered {failure.status}"
        text += f" {failure.code}" if failure.code else ""
        text += f": {failure.message.rstrip('.')}" if failure.message else ""
        if failure.denied and method != "GET":
            needed = write_permission(path) or "the ReadWrite permission of this setting"
            text += (
                f"; the write app registration {self.app} needs the application permission "
                f"{needed} with admin consent"
            )
        elif failure.denied:
            text += f"; the write app registration {self.app} needs Policy.Read.All to read it"
        return ProviderCallError(text, code=failure.code or str(failure.status))


__all__ = ["GraphWriteClient", "write_permission"]
