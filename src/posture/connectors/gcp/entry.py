"""The Google Cloud connector's face to the scan: settings as stored -> inventory or health."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httplib2
from google.auth import exceptions as auth_exceptions
from google.auth.transport import Request

from posture.catalog.spec import ResourceSpec
from posture.connectors.gcp.client import GcpTarget, open_target
from posture.connectors.gcp.collector import GcpCollector
from posture.connectors.gcp.settings import GcpSettings
from posture.connectors.inventory import Inventory
from posture.connectors.settings import parse_settings as validate_settings
from posture.errors import ConnectionFailure, ConnectionReason, CredentialError

R = ConnectionReason
# predefined roles that together grant every permission the built-in specs need, read-only:
# what `posture connection permissions gcp` tells an administrator to grant on the
# organisation (or on each listed project)
ROLES = (
    ("roles/browser", "folders and projects of the organisation (discovery)"),
    ("roles/iam.securityReviewer", "IAM policies of the organisation, projects and resources"),
    ("roles/iam.serviceAccountViewer", "service accounts and their keys"),
    ("roles/serviceusage.apiKeysViewer", "API keys and their restrictions"),
    ("roles/cloudkms.viewer", "key rings and keys (rotation)"),
    ("roles/essentialcontacts.viewer", "Essential Contacts"),
    ("roles/accessapproval.viewer", "Access Approval settings"),
    ("roles/securitycenter.findingsViewer", "Security Command Center findings"),
    ("roles/viewer", "the other services' configuration (logging, networks, VMs, storage ...)"),
)


def parse_settings(connection: str, settings: dict[str, Any]) -> GcpSettings:
    return validate_settings(GcpSettings, connection, settings)


def required_permissions(specs: Iterable[ResourceSpec]) -> list[str]:
    """The IAM permissions the gcp specs declare, discovery included."""
    found = {p for spec in specs if spec.provider == "gcp" for p in spec.permissions}
    found |= {"resourcemanager.folders.list", "resourcemanager.projects.list"}
    found |= {"resourcemanager.projects.get"}
    return sorted(found)


def collect(
    connection: str,
    settings: dict[str, Any],
    specs: Sequence[ResourceSpec],
    *,
    progress: Callable[[str, str, int], None] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Inventory:
    parsed = parse_settings(connection, settings)
    target = open_target(connection, parsed)
    sign_in(target)  # a rejected key or a dead token endpoint fails the connection once
    options = {"sleep": sleep} if sleep else {}
    return GcpCollector(target, specs, progress=progress, **options).collect()


def check(connection: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Sign in and find the projects, without collecting: health of each project.

    A project that cannot be read (permission, deleted, not ACTIVE) is named in the summary
    and its reason returned under ``projects``; a connection none of whose projects can be
    read fails.
    """
    parsed = parse_settings(connection, settings)
    target = open_target(connection, parsed)
    sign_in(target)
    collector = GcpCollector(target, [])
    scopes = collector.discover()
    unreadable = sorted(collector.unreadable)
    health = {s.key: "ok" for s in scopes}
    health |= {p: f"failed: {why}" for p, why in collector.unreadable.items()}
    if not scopes:
        raise ConnectionFailure(
            f"connection '{connection}': signed in as {target.identity}, but no ACTIVE project "
            f"of {parsed.account} could be read",
            reason=R.PERMISSION_DENIED,
            connection=connection,
            hint="grant roles/browser on the organisation or the projects; see: posture "
            "connection permissions gcp",
        )
    summary = f"{parsed.account}: {len(scopes)} project(s) readable as {target.identity}"
    if unreadable:
        summary += f"; not readable: {', '.join(unreadable)}"
    return {
        "account": parsed.account,
        "regions": [s.key for s in scopes],
        "projects": health,
        "summary": summary,
    }


def _request(target: GcpTarget) -> Request:
    import google_auth_httplib2

    http = httplib2.Http(timeout=20, ca_certs=target.settings.ca_bundle)
    request: Request = google_auth_httplib2.Request(http)
    return request


def sign_in(target: GcpTarget) -> None:
    """One token: proves the token endpoint and the credentials work."""
    connection = target.connection
    where = f"the token endpoint {target.token_uri}"
    what = (
        f"the service account key {target.settings.key_file}"
        if target.settings.key_file
        else "the application-default credentials"
    )
    try:
        target.credentials.refresh(_request(target))  # type: ignore[no-untyped-call]
    except auth_exceptions.RefreshError as exc:
        data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
        code = str(data.get("error") or "token_refused")
        detail = str(data.get("error_description") or (exc.args[0] if exc.args else ""))
        raise CredentialError(
            f"connection '{connection}': {where} rejected {what} ({code}: {detail})",
            reason=R.CREDENTIALS_REJECTED,
            connection=connection,
            endpoint=target.token_uri,
            hint="check that the key is still active (IAM > Service accounts > Keys); create a "
            "new key if it was deleted or disabled",
        ) from exc
    except ssl.SSLError as exc:
        raise ConnectionFailure(
            f"connection '{connection}': the TLS connection to {where} failed ({exc})",
            reason=R.TLS_ERROR,
            connection=connection,
            endpoint=target.token_uri,
            hint="trust the server's certificate with --ca-bundle",
        ) from exc
    except (OSError, httplib2.HttpLib2Error, auth_exceptions.TransportError) as exc:
        raise ConnectionFailure(
            f"connection '{connection}': {where} could not be reached ({type(exc).__name__}: {exc})",
            reason=R.ENDPOINT_UNREACHABLE,
            connection=connection,
            endpoint=target.token_uri,
            hint="check the key file's token_uri, the network and any proxy, then run: "
            "posture connection check",
        ) from exc
