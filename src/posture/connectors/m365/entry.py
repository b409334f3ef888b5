"""The M365 connector's face to the scan: settings as stored -> inventory or health."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from posture.catalog.spec import ResourceSpec
from posture.connectors.inventory import Inventory
from posture.connectors.m365.client import GraphCallError, GraphSession
from posture.connectors.m365.collector import M365Collector
from posture.connectors.m365.settings import parse_settings
from posture.errors import ConnectionFailure, ConnectionReason, CredentialError

# what `connection check` reads after signing in: the organisation, as every scan does
CHECK_PATH = "/organization"
CHECK_PERMISSION = "Organization.Read.All"


def collect(
    connection: str,
    settings: dict[str, Any],
    specs: Sequence[ResourceSpec],
    *,
    progress: Callable[[str, str, int], None] | None = None,
) -> Inventory:
    parsed = parse_settings(connection, settings)
    session = GraphSession(connection, parsed)
    sign_in(session)
    return M365Collector(session, specs, progress=progress).collect()


def sign_in(session: GraphSession) -> None:
    """Get a Graph token, so a bad credential fails the connection once, with its reason."""
    from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError

    connection = session.connection
    authority = session.settings.authority
    try:
        session.credential.get_token(session.settings.scope(), enable_cae=True)  # as the SDK asks
    except ServiceRequestError as exc:
        reason = ConnectionReason.ENDPOINT_UNREACHABLE
        if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "SSL" in str(exc):
            reason = ConnectionReason.TLS_ERROR
        raise ConnectionFailure(
            f"connection '{connection}': the token endpoint {authority} cannot be reached: "
            f"{_first_line(exc)}",
            reason=reason,
            connection=connection,
            endpoint=authority,
        ) from exc
    except ClientAuthenticationError as exc:
        text = str(exc)
        if "Failed to resolve" in text or ("Connection" in text and "refused" in text):
            raise ConnectionFailure(
                f"connection '{connection}': the token endpoint {authority} cannot be reached: "
                f"{_first_line(exc)}",
                reason=ConnectionReason.ENDPOINT_UNREACHABLE,
                connection=connection,
                endpoint=authority,
            ) from exc
        raise CredentialError(
            f"connection '{connection}': Entra ID rejected the application credentials "
            f"(tenant {session.settings.tenant_id}, client {session.settings.client_id}): "
            f"{_first_line(exc)}",
            connection=connection,
            endpoint=authority,
            hint="check the client id, the secret or certificate and the tenant id",
        ) from exc


def check(connection: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Sign in and read the organisation, without collecting anything."""
    parsed = parse_settings(connection, settings)
    session = GraphSession(connection, parsed)
    sign_in(session)

    async def organisation() -> dict[str, Any]:
        try:
            url = session.url(CHECK_PATH, "graph", {"$select": "id,displayName"})
            return await session.get(url, lambda calls, errors, throttles: None)
        finally:
            await session.close()

    try:
        body = asyncio.run(organisation())
    except GraphCallError as exc:
        failure = exc.failure
        if failure.denied:
            raise ConnectionFailure(
                f"connection '{connection}': signed in, but reading {CHECK_PATH} was denied "
                f"({failure.code or failure.status}); grant the Graph application permission "
                f"{CHECK_PERMISSION}",
                reason=ConnectionReason.PERMISSION_DENIED,
                connection=connection,
                endpoint=parsed.graph_url,
            ) from exc
        reason = (
            ConnectionReason.ENDPOINT_UNREACHABLE
            if failure.status == 0
            else ConnectionReason.PROVIDER_ERROR
        )
        raise ConnectionFailure(
            exc.message, reason=reason, connection=connection, endpoint=parsed.graph_url
        ) from exc
    orgs = [o for o in body.get("value", []) if isinstance(o, dict)]
    name = str(orgs[0].get("displayName", "")) if orgs else ""
    account = str(orgs[0].get("id", parsed.tenant_id)) if orgs else parsed.tenant_id
    return {"account": account, "organization": name, "summary": f"tenant {account} ({name})"}


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300]
