"""Google Workspace API calls made with a connection's write service account.

A fix names ``<api>.<resource>_<method>``: ``groupssettings.groups_get`` /
``groups_patch`` / ``groups_update`` (Groups Settings API) and ``directory.tokens_get`` /
``tokens_delete`` (Admin SDK Directory API), with the method's parameters as arguments and
``body`` for a write. Each call gets a token for the scopes the shipped discovery document
lists for the method, delegated to the write service account acting as the connection's
administrator; a refusal names the connection, the service account and the scope.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from google.auth import exceptions as auth_exceptions
from googleapiclient.errors import HttpError

from posture.connectors import discovery
from posture.connectors.gws.client import open_target
from posture.connectors.gws.errors import error_body, reasons, refresh_detail
from posture.connectors.gws.settings import GwsSettings, write_settings
from posture.remediate.registry import ProviderCallError

APIS = {"groupssettings": "groupssettings.v1", "directory": "admin.directory_v1"}
DENIED = {"ACCESS_TOKEN_SCOPE_INSUFFICIENT", "insufficientPermissions", "forbidden"}


class WorkspaceWriteClient:
    """One connection's Workspace calls for setting repair."""

    def __init__(self, connection: str, settings: GwsSettings) -> None:
        assert settings.write is not None
        self.connection = connection
        self.settings = write_settings(settings)
        self._targets: dict[tuple[str, ...], Any] = {}

    def account(self) -> str:
        """The write service account's address, as its key file names it."""
        try:
            with open(self.settings.key_file, encoding="utf-8") as handle:
                return str(json.load(handle).get("client_email") or self.settings.key_file)
        except (OSError, ValueError):
            return self.settings.key_file

    def call(
        self, service: str, operation: str, args: Mapping[str, Any], *, region: str
    ) -> dict[str, Any]:
        api = APIS.get(service)
        resource, _, name = operation.partition("_")
        call = f"{resource}.{name}"
        if api is None or discovery.method(api, call) is None:
            raise ProviderCallError(
                f"connection '{self.connection}': no Google API call {service}.{operation}; "
                "use groupssettings.groups_get/groups_patch/groups_update or "
                "directory.tokens_get/tokens_delete",
                code="unknown",
            )
        scopes = discovery.method_scopes(api, call)
        needed = next((s for s in scopes if not s.endswith(".readonly")), scopes[0])
        target = self._target((needed,))
        client = target.client(api, (needed,))
        method = getattr(getattr(client, resource)(), name)
        params = dict(args)
        if api == "groupssettings.v1":
            params.setdefault("alt", "json")
        try:
            answer = method(**params).execute(num_retries=self.settings.max_attempts - 1)
        except HttpError as exc:
            raise self._refusal(service, operation, needed, exc) from exc
        except auth_exceptions.RefreshError as exc:
            code, detail = refresh_detail(exc)
            raise ProviderCallError(
                f"connection '{self.connection}': {service}.{operation}: no token for the "
                f"write service account {self.account()} with the OAuth scope {needed} "
                f"({code}: {detail}); add the scope to its domain-wide delegation",
                code=code,
            ) from exc
        return dict(answer) if isinstance(answer, Mapping) else {}

    def _target(self, scopes: tuple[str, ...]) -> Any:
        if scopes not in self._targets:
            self._targets[scopes] = open_target(self.connection, self.settings, list(scopes))
        return self._targets[scopes]

    def _refusal(
        self, service: str, operation: str, scope: str, exc: HttpError
    ) -> ProviderCallError:
        status = exc.resp.status
        found = reasons(exc)
        message = str(error_body(exc).get("message") or exc.reason or "")
        code = found[0] if found else f"HTTP {status}"
        named = ", ".join(dict.fromkeys(found)) or code
        text = f"connection '{self.connection}': {service}.{operation} answered {status} {named}"
        text += f": {message.rstrip('.')}" if message else ""
        if status in (401, 403) and (DENIED & set(found) or status == 401):
            text += (
                f"; the write service account {self.account()} needs the OAuth scope {scope} "
                f"in its domain-wide delegation, acting as {self.settings.admin_email}, "
                "an administrator allowed to change this setting"
            )
        return ProviderCallError(text, code=code)


__all__ = ["WorkspaceWriteClient"]
