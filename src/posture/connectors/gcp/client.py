"""Credentials, HTTP transport and API clients of a Google Cloud connection.

A service-account key file names its own ``token_uri``; google-auth posts the signed
JWT-bearer assertion there. Without a key file, the application-default credentials are
used (``GOOGLE_APPLICATION_CREDENTIALS``, gcloud's user credentials, or the metadata
server). ``root_url`` replaces ``https://www.googleapis.com/`` and every API's own root
(``https://iam.googleapis.com/`` ...): the request paths stay Google's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import google.auth
import google_auth_httplib2
import httplib2
from google.auth import credentials as auth_credentials
from google.auth import exceptions as auth_exceptions
from google.oauth2 import service_account
from googleapiclient.discovery import build

from posture.connectors import discovery
from posture.connectors.gcp.settings import GcpSettings
from posture.errors import ConnectionFailure, ConnectionReason, CredentialError

# the scope of every token: what the token may do is decided by the IAM roles granted
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
HTTP_TIMEOUT = 60


@dataclass
class GcpTarget:
    """One authenticated connection: builds one client per (API, thread).

    httplib2 is not thread-safe, so every thread of the project pool has its own
    transports; the credentials (and so the token) are shared.
    """

    connection: str
    settings: GcpSettings
    credentials: auth_credentials.Credentials
    _clients: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def identity(self) -> str:
        """Who the connection signs in as (service account e-mail, or the ADC kind)."""
        email = getattr(self.credentials, "service_account_email", None)
        return str(email) if email else type(self.credentials).__name__

    @property
    def token_uri(self) -> str:
        return str(
            getattr(self.credentials, "_token_uri", "") or "https://oauth2.googleapis.com/token"
        )

    def http(self) -> google_auth_httplib2.AuthorizedHttp:
        base = httplib2.Http(timeout=HTTP_TIMEOUT, ca_certs=self.settings.ca_bundle)
        return google_auth_httplib2.AuthorizedHttp(self.credentials, http=base)

    def client(self, api: str) -> Any:
        key = (api, threading.get_ident())
        with self._lock:
            found = self._clients.get(key)
        if found is None:
            found = self._build(api)
            with self._lock:
                self._clients[key] = found
        return found

    def _build(self, api: str) -> Any:
        doc = discovery.document(api)
        if doc is None:
            raise ConnectionFailure(
                f"connection '{self.connection}': no discovery document for the Google API '{api}'",
                reason=ConnectionReason.INVALID_SETTINGS,
                connection=self.connection,
            )
        name, _, version = api.partition(".")
        options: dict[str, Any] = {}
        if self.settings.root_url:
            options["api_endpoint"] = self.settings.root_url + str(doc.get("servicePath") or "")
        return build(
            name,
            version,
            http=self.http(),
            static_discovery=True,
            cache_discovery=False,
            client_options=options or None,
        )


def load_credentials(connection: str, settings: GcpSettings) -> auth_credentials.Credentials:
    """The key file's service-account credentials, or the application-default ones."""
    if settings.key_file:
        try:
            creds: auth_credentials.Credentials = (
                service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                    settings.key_file, scopes=[SCOPE]
                )
            )
        except FileNotFoundError as exc:
            raise CredentialError(
                f"connection '{connection}': the key file {settings.key_file} does not exist",
                reason=ConnectionReason.CREDENTIALS_MISSING,
                connection=connection,
                hint="create a JSON key for the service account and give its path with "
                "--key-file, or leave --key-file out to use the application-default credentials",
            ) from exc
        except (OSError, ValueError, KeyError) as exc:
            raise CredentialError(
                f"connection '{connection}': the key file {settings.key_file} is not a service "
                f"account key ({type(exc).__name__}: {exc})",
                reason=ConnectionReason.CREDENTIALS_MISSING,
                connection=connection,
                hint="download the service account's key again (IAM > Service accounts > Keys, JSON)",
            ) from exc
        return creds
    try:
        found, _project = google.auth.default(scopes=[SCOPE])
    except auth_exceptions.DefaultCredentialsError as exc:
        raise CredentialError(
            f"connection '{connection}': no application-default credentials were found ({exc})",
            reason=ConnectionReason.CREDENTIALS_MISSING,
            connection=connection,
            hint="run 'gcloud auth application-default login', set GOOGLE_APPLICATION_CREDENTIALS, "
            "or give a service account key with --key-file",
        ) from exc
    adc: auth_credentials.Credentials = found
    return adc


def open_target(connection: str, settings: GcpSettings) -> GcpTarget:
    """A target whose token is fetched lazily, at the first call."""
    return GcpTarget(connection, settings, load_credentials(connection, settings))
