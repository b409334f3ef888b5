"""The Google Workspace connector's face to the scan: settings as stored -> inventory or health."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httplib2
from google.auth import exceptions as auth_exceptions
from google.auth.transport import Request

from posture.catalog.spec import ResourceSpec
from posture.connectors.gws.client import GwsTarget, load_credentials, open_target
from posture.connectors.gws.collector import GwsCollector
from posture.connectors.gws.errors import refresh_detail
from posture.connectors.gws.settings import GwsSettings
from posture.connectors.inventory import Inventory
from posture.connectors.settings import parse_settings as validate_settings
from posture.errors import ConnectionFailure, ConnectionReason, CredentialError

R = ConnectionReason
# what a connection check asks a token for when no spec is at hand: reading users
CHECK_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"


def parse_settings(connection: str, settings: dict[str, Any]) -> GwsSettings:
    return validate_settings(GwsSettings, connection, settings)


def required_scopes(specs: Iterable[ResourceSpec]) -> list[str]:
    """The OAuth scopes the gws specs declare: the list to grant in domain-wide delegation."""
    return sorted({s for spec in specs if spec.provider == "gws" for s in spec.permissions})


def collect(
    connection: str,
    settings: dict[str, Any],
    specs: Sequence[ResourceSpec],
    *,
    progress: Callable[[str, str, int], None] | None = None,
) -> Inventory:
    parsed = parse_settings(connection, settings)
    target = open_target(connection, parsed, required_scopes(specs) or [CHECK_SCOPE])
    # a dead token endpoint or a rejected key fails the connection once; a scope missing from
    # the delegation fails only the types that need it, during collection
    problem = _try_token(target, target.scopes[0])
    if problem and problem[0] != "unauthorized_client":
        _sign_in(target, target.scopes[:1])
    return GwsCollector(target, specs, progress=progress).collect()


def check(connection: str, settings: dict[str, Any], scopes: Sequence[str] = ()) -> dict[str, Any]:
    """Ask the key file's token endpoint for a delegated token per scope, without collecting.

    A key that is rejected, a delegation that was never granted and a scope missing from it
    need different fixes, so each has its own reason. Without ``scopes``, the scopes of the
    built-in Google Workspace specs are checked.
    """
    parsed = parse_settings(connection, settings)
    wanted = sorted(set(scopes) or set(builtin_scopes()) or {CHECK_SCOPE})
    target = open_target(connection, parsed, wanted)
    refused: dict[str, tuple[str, str]] = {}
    for scope in wanted:
        problem = _try_token(target, scope)
        if problem:
            refused[scope] = problem
    if not refused:
        return {"account": parsed.customer_id, "regions": [], "scopes": wanted}
    token_uri = str(getattr(target.credentials, "_token_uri", ""))
    where = f"the token endpoint {token_uri}"
    codes = {code for code, _ in refused.values()}
    code, detail = next(iter(refused.values()))
    if codes != {"unauthorized_client"}:
        raise CredentialError(
            f"connection '{connection}': {where} rejected the service account key "
            f"{parsed.key_file} ({code}: {detail})",
            reason=R.CREDENTIALS_REJECTED,
            connection=connection,
            endpoint=token_uri,
            hint="check that the key is still active and that the subject exists; create a new "
            "key if it was deleted",
        )
    if len(refused) == len(wanted):
        raise CredentialError(
            f"connection '{connection}': {where} refused to let the service account act as "
            f"{parsed.admin_email}: domain-wide delegation is not granted ({code}: {detail})",
            reason=R.CREDENTIALS_REJECTED,
            connection=connection,
            endpoint=token_uri,
            hint="grant domain-wide delegation to the service account's client id with the "
            "scopes from: posture connection permissions gws",
        )
    raise ConnectionFailure(
        f"connection '{connection}': signed in as {parsed.admin_email}, but the domain-wide "
        f"delegation lacks the OAuth scope(s) {', '.join(sorted(refused))}",
        reason=R.PERMISSION_DENIED,
        connection=connection,
        endpoint=token_uri,
        hint="add them to the service account's client id under Admin console > Security > "
        "Access and data control > API controls > Domain-wide delegation",
    )


def builtin_scopes() -> list[str]:
    """The scopes of the built-in gws specs (a check has no catalog at hand)."""
    from posture.catalog.loader import Catalog, load_specs
    from posture.content import builtin_dir

    catalog = Catalog()
    load_specs([builtin_dir("scanners")], catalog)
    return required_scopes(catalog.specs.values())


def _request(target: GwsTarget) -> Request:
    import google_auth_httplib2

    http = httplib2.Http(timeout=20, ca_certs=target.settings.ca_bundle)
    request: Request = google_auth_httplib2.Request(http)
    return request


def _try_token(target: GwsTarget, scope: str) -> tuple[str, str] | None:
    """None when a token for ``scope`` was issued, else the endpoint's (code, description)."""
    try:
        _sign_in(target, [scope])
    except CredentialError as exc:
        cause = exc.__cause__
        if isinstance(cause, auth_exceptions.RefreshError):
            return refresh_detail(cause)
        raise
    return None


def _sign_in(target: GwsTarget, scopes: Sequence[str]) -> None:
    """One delegated token: proves the token endpoint, the key and the delegation work."""
    creds = load_credentials(target.connection, target.settings, list(scopes))
    token_uri = str(getattr(creds, "_token_uri", ""))
    where = f"the token endpoint {token_uri}"
    connection = target.connection
    try:
        creds.refresh(_request(target))  # type: ignore[no-untyped-call]
    except auth_exceptions.RefreshError as exc:
        code, detail = refresh_detail(exc)
        if code == "unauthorized_client":
            # Google answers this both when no delegation exists and when a scope is missing
            raise CredentialError(
                f"connection '{connection}': {where} refused to let the service account act as "
                f"{target.settings.admin_email} for {', '.join(scopes)} ({code}: {detail})",
                reason=R.CREDENTIALS_REJECTED,
                connection=connection,
                endpoint=token_uri,
                hint="grant domain-wide delegation to the service account's client id with the "
                "scopes from: posture connection permissions gws",
            ) from exc
        raise CredentialError(
            f"connection '{connection}': {where} rejected the service account key "
            f"{target.settings.key_file} ({code}: {detail})",
            reason=R.CREDENTIALS_REJECTED,
            connection=connection,
            endpoint=token_uri,
            hint="check that the key is still active and that the subject exists; create a new "
            "key if it was deleted",
        ) from exc
    except ssl.SSLError as exc:
        raise ConnectionFailure(
            f"connection '{connection}': the TLS connection to {where} failed ({exc})",
            reason=R.TLS_ERROR,
            connection=connection,
            endpoint=token_uri,
            hint="trust the server's certificate with --ca-bundle",
        ) from exc
    except (OSError, httplib2.HttpLib2Error, auth_exceptions.TransportError) as exc:
        raise ConnectionFailure(
            f"connection '{connection}': {where} could not be reached ({type(exc).__name__}: {exc})",
            reason=R.ENDPOINT_UNREACHABLE,
            connection=connection,
            endpoint=token_uri,
            hint="check the key file's token_uri, the network and any proxy, then run: "
            "posture connection check",
        ) from exc
