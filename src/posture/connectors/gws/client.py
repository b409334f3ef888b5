"""Credentials, HTTP transport and API clients of a Google Workspace connection.

The service account's key file names its own ``token_uri``; google-auth posts the signed
JWT-bearer assertion there, so a sovereign, proxied or local token endpoint needs nothing
more than the key file. ``root_url`` replaces ``https://www.googleapis.com/`` and the
per-API roots (``admin``, ``cloudidentity``, ``groupssettings``) for every client built here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import google_auth_httplib2
import httplib2
from google.oauth2 import service_account
from googleapiclient.discovery import build

from posture.connectors.gws.settings import GwsSettings
from posture.errors import ConnectionFailure, ConnectionReason, CredentialError

# API name.version -> path under a custom root. The discovery documents give each API its
# own host; against one root the APIs are told apart by what their paths begin with.
SERVICE_PATHS = {
    "admin.directory_v1": "",
    "admin.reports_v1": "",
    "cloudidentity.v1": "",
    "groupssettings.v1": "groups/v1/groups/",
}
HTTP_TIMEOUT = 60


@dataclass
class GwsTarget:
    """One authenticated Workspace customer: builds and caches one client per API."""

    connection: str
    settings: GwsSettings
    scopes: list[str]
    credentials: service_account.Credentials
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def customer_id(self) -> str:
        return self.settings.customer_id

    def http(self, scopes: tuple[str, ...]) -> google_auth_httplib2.AuthorizedHttp:
        """An authorised transport trusting the connection's CA bundle (httplib2 is not
        thread-safe, so each client gets its own)."""
        base = httplib2.Http(timeout=HTTP_TIMEOUT, ca_certs=self.settings.ca_bundle)
        creds = self.credentials.with_scopes(list(scopes))
        return google_auth_httplib2.AuthorizedHttp(creds, http=base)

    def client(self, service: str, scopes: tuple[str, ...]) -> Any:
        """A client of ``service`` whose token carries only ``scopes``.

        Tokens are asked per resource type's scopes, so a scope missing from the
        domain-wide delegation fails only the types that need it.
        """
        key = f"{service} {' '.join(sorted(scopes))}"
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._build(service, scopes)
            return self._clients[key]

    def _build(self, service: str, scopes: tuple[str, ...]) -> Any:
        name, _, version = service.partition(".")
        if service not in SERVICE_PATHS or not version:
            raise ConnectionFailure(
                f"connection '{self.connection}': no client for the Google API '{service}'",
                reason=ConnectionReason.INVALID_SETTINGS,
                connection=self.connection,
            )
        options: dict[str, Any] = {}
        if self.settings.root_url:
            options["api_endpoint"] = self.settings.root_url + SERVICE_PATHS[service]
        return build(
            name,
            version,
            http=self.http(scopes),
            static_discovery=True,
            cache_discovery=False,
            client_options=options or None,
        )


def load_credentials(
    connection: str, settings: GwsSettings, scopes: list[str]
) -> service_account.Credentials:
    """The delegated service-account credentials; a missing or broken key file names itself."""
    try:
        creds: service_account.Credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
            settings.key_file, scopes=scopes, subject=settings.admin_email
        )
    except FileNotFoundError as exc:
        raise CredentialError(
            f"connection '{connection}': the key file {settings.key_file} does not exist",
            reason=ConnectionReason.CREDENTIALS_MISSING,
            connection=connection,
            hint="create a JSON key for the service account and give its path with --key-file",
        ) from exc
    except (OSError, ValueError, KeyError) as exc:
        raise CredentialError(
            f"connection '{connection}': the key file {settings.key_file} is not a service "
            f"account key ({type(exc).__name__}: {exc})",
            reason=ConnectionReason.CREDENTIALS_MISSING,
            connection=connection,
        ) from exc
    return creds


def open_target(connection: str, settings: GwsSettings, scopes: list[str]) -> GwsTarget:
    """A target whose token is fetched lazily, at the first call."""
    creds = load_credentials(connection, settings, scopes)
    return GwsTarget(connection, settings, sorted(scopes), creds)
