"""Google Cloud calls made as the connection's write service account.

``call(service, operation, args)`` names the API as the discovery documents do
(``storage.v1``, ``compute.v1``, ``sqladmin.v1beta4``, ``cloudkms.v1``) and the method by its
path (``buckets.patch``, ``projects.locations.keyRings.cryptoKeys.patch``); ``args`` are the
method's parameters, ``body`` included. A Compute Engine or Cloud SQL answer that is an
``Operation`` is waited for, so a call returns once the change took effect, and an
operation that ends with an error raises like a refused call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httplib2
from googleapiclient.errors import HttpError

from posture.connectors.gcp.client import GcpTarget, open_target
from posture.connectors.gcp.entry import sign_in
from posture.connectors.gcp.settings import GcpSettings
from posture.connectors.google_calls import error_body, error_metadata, reasons
from posture.errors import FixRefused, PostureError
from posture.remediate.registry import ProviderCallError

OPERATION_KINDS = ("compute#operation", "sql#operation")
WAIT_ATTEMPTS = 120  # Compute's wait returns after at most 2 minutes; Cloud SQL is polled


class GcpWriteClient:
    """Calls of one connection made with the service account of its ``write`` section."""

    def __init__(
        self,
        connection: str,
        settings: GcpSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        assert settings.write is not None
        typed = settings.model_copy(update={"key_file": settings.write.key_file, "write": None})
        try:
            self.target: GcpTarget = open_target(connection, typed)
            sign_in(self.target)
        except PostureError as exc:
            raise FixRefused(
                f"connection '{connection}': the write service account could not sign in: {exc}",
                reason="write_sign_in_failed",
            ) from exc
        self.connection = connection
        self.sleep = sleep

    def call(
        self, service: str, operation: str, args: Mapping[str, Any], *, region: str = ""
    ) -> dict[str, Any]:
        answer = self._execute(service, operation, dict(args))
        if answer.get("kind") in OPERATION_KINDS:
            answer = self._finished(service, answer)
        return answer

    def _execute(self, service: str, operation: str, args: dict[str, Any]) -> dict[str, Any]:
        node = self.target.client(service)
        *resources, method = operation.split(".")
        try:
            for part in resources:
                node = getattr(node, part)()
            request = getattr(node, method)(**args)
        except (AttributeError, TypeError) as exc:
            raise ProviderCallError(f"{service} has no method {operation}: {exc}") from exc
        try:
            answer = request.execute(num_retries=2)
        except HttpError as exc:
            raise _refused(service, operation, exc) from exc
        except (OSError, httplib2.HttpLib2Error) as exc:
            raise ProviderCallError(f"{service} {operation} failed: {exc}") from exc
        return dict(answer or {})

    def _finished(self, service: str, op: dict[str, Any]) -> dict[str, Any]:
        """Wait until the operation is DONE; its ``error`` raises ProviderCallError."""
        for _ in range(WAIT_ATTEMPTS):
            if op.get("status") == "DONE":
                break
            if op.get("kind") == "compute#operation":
                op = self._execute(service, *_compute_wait(op))
            else:
                self.sleep(2.0)
                op = self._execute(
                    service,
                    "operations.get",
                    {"project": op.get("targetProject"), "operation": op.get("name")},
                )
        else:
            raise ProviderCallError(
                f"{service} operation {op.get('name')} did not finish in time", code="TIMEOUT"
            )
        errors = (op.get("error") or {}).get("errors") or []
        if errors:
            first = errors[0]
            raise ProviderCallError(
                f"{service} operation {op.get('operationType', '')} on "
                f"{op.get('targetLink', '')} failed: {first.get('message', '')}",
                code=str(first.get("code", "")),
            )
        return op


def _compute_wait(op: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The ``*Operations.wait`` call of a Compute Engine operation (from its selfLink)."""
    parts = str(op.get("selfLink", "")).split("/")
    project = parts[parts.index("projects") + 1]
    if "zones" in parts:
        zone = parts[parts.index("zones") + 1]
        return "zoneOperations.wait", {"project": project, "zone": zone, "operation": op["name"]}
    if "regions" in parts:
        region = parts[parts.index("regions") + 1]
        args = {"project": project, "region": region, "operation": op["name"]}
        return "regionOperations.wait", args
    return "globalOperations.wait", {"project": project, "operation": op["name"]}


def _refused(service: str, operation: str, exc: HttpError) -> ProviderCallError:
    """The provider's refusal, naming the missing permission when Google names one."""
    error = error_body(exc)
    found = reasons(exc)
    code = found[0] if found else str(error.get("status") or exc.resp.status)
    message = str(error.get("message") or exc)
    permission = error_metadata(exc).get("permission")
    if exc.resp.status == 403 and permission:
        message += f" (the write service account needs the permission {permission})"
    return ProviderCallError(f"{service} {operation}: HTTP {exc.resp.status}: {message}", code=code)
