"""One boto3 call, made at most once per scan, with accounting and clear errors."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import botocore.exceptions

from posture.connectors.aws.permissions import permission_for
from posture.connectors.aws.session import AwsTarget
from posture.connectors.inventory import Inventory
from posture.errors import CollectionError

THROTTLE_CODES = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "SlowDown",
    "RequestThrottled",
    "RequestThrottledException",
    "ProvisionedThroughputExceededException",
}


class Absent(Exception):
    """The provider answered "not configured" (an ``absent_on`` code)."""


class Unseen(Exception):
    """The provider answered with an ``unknown_on`` code: posture cannot see this by design."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def jsonable(value: Any) -> Any:
    """Responses become plain JSON so inventories can be stored, hashed and replayed."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if hasattr(value, "read"):  # streaming bodies are not configuration
        return None
    return value


def _absent_match(error: botocore.exceptions.ClientError, absent_on: list[str]) -> bool:
    code = str(error.response.get("Error", {}).get("Code", ""))
    message = str(error.response.get("Error", {}).get("Message", ""))
    for entry in absent_on:
        want_code, _, want_text = entry.partition(":")
        if code == want_code and (not want_text or want_text in message):
            return True
    return False


@dataclass
class _Slot:
    done: threading.Event
    value: Any = None
    error: BaseException | None = None


class CallRunner:
    """Executes and caches calls for one scan of one connection (thread-safe)."""

    def __init__(self, target: AwsTarget, inventory: Inventory) -> None:
        self.target = target
        self.inventory = inventory
        self._clients: dict[tuple[str, str], Any] = {}
        self._slots: dict[str, _Slot] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                client = self.target.client(service, region)
                if service == "s3control" and self.target.endpoint_url:
                    # before signing, so the signature covers the host the request goes to
                    client.meta.events.register("before-sign.s3-control", _strip_account_host)
                self._clients[key] = client
            return self._clients[key]

    def call(
        self,
        service: str,
        region: str,
        operation: str,
        args: dict[str, Any],
        *,
        paginate: bool,
        absent_on: list[str],
        resource_type: str,
        unknown_on: list[str] | None = None,
    ) -> Any:
        """Merged JSON response; raises ``Absent``, ``Unseen`` or ``CollectionError``."""
        key = json.dumps([service, region, operation, args, paginate], sort_keys=True, default=str)
        with self._lock:
            slot = self._slots.get(key)
            owner = slot is None
            if slot is None:
                slot = self._slots[key] = _Slot(threading.Event())
        if owner:
            try:
                slot.value = self._execute(
                    service, region, operation, args, paginate, resource_type
                )
            except BaseException as exc:
                slot.error = exc
            finally:
                slot.done.set()
        else:
            slot.done.wait()
        if slot.error is not None:
            if isinstance(slot.error, botocore.exceptions.ClientError) and _absent_match(
                slot.error, absent_on
            ):
                raise Absent() from slot.error  # "not configured" is an answer, not an error
            if (
                unknown_on
                and isinstance(slot.error, botocore.exceptions.ClientError)
                and _absent_match(slot.error, unknown_on)
            ):
                code = str(slot.error.response.get("Error", {}).get("Code", ""))
                raise Unseen(code) from slot.error
            if owner:
                self.inventory.count(resource_type, errors=1)
            raise self._collection_error(slot.error, service, operation, region)
        return slot.value

    def _execute(
        self,
        service: str,
        region: str,
        operation: str,
        args: dict[str, Any],
        paginate: bool,
        rtype: str,
    ) -> Any:
        client = self.client(service, region)
        prepare = PREPARE.get((service, operation))
        if prepare:
            try:
                prepare.run(self, client, rtype)
            except botocore.exceptions.ClientError as exc:
                self._account(rtype, exc.response, failed=True)
                # name the call that failed, e.g. iam:GenerateCredentialReport
                raise self._collection_error(exc, service, prepare.call, region) from exc
        try:
            if paginate and client.can_paginate(operation):
                merged: dict[str, Any] = {}
                for page in client.get_paginator(operation).paginate(**args):
                    self._account(rtype, page)
                    _merge_page(merged, page)
                return jsonable(merged)
            response = getattr(client, operation)(**args)
        except botocore.exceptions.ClientError as exc:
            self._account(rtype, exc.response, failed=True)
            raise
        self._account(rtype, response)
        return jsonable(response)

    def _account(self, rtype: str, response: dict[str, Any], *, failed: bool = False) -> None:
        retries = int(response.get("ResponseMetadata", {}).get("RetryAttempts", 0) or 0)
        code = str(response.get("Error", {}).get("Code", "")) if failed else ""
        # adaptive mode retries throttling (and transient 5xx) answers; count them as throttles
        throttles = retries + int(code in THROTTLE_CODES)
        self.inventory.count(rtype, calls=1 + retries, throttles=throttles)

    def _collection_error(
        self, exc: BaseException, service: str, operation: str, region: str
    ) -> CollectionError:
        if isinstance(exc, CollectionError):
            return exc
        permission = permission_for(service, operation)
        if isinstance(exc, botocore.exceptions.ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code", "Unknown"))
            throttled = code in THROTTLE_CODES
            what = (
                "throttled beyond the retry budget"
                if throttled
                else f"{code}: {err.get('Message', '')}"
            )
            return CollectionError(
                f"{permission} in {region} failed: {what}",
                code=code,
                permission=permission,
                throttled=throttled,
            )
        return CollectionError(
            f"{permission} in {region} failed: {exc}",
            code=type(exc).__name__,
            permission=permission,
        )


def _merge_page(merged: dict[str, Any], page: dict[str, Any]) -> None:
    """Join a page into ``merged``: lists are extended, maps merged key by key.

    A result list may sit inside a map (CloudFront ``DistributionList.Items``), so maps are
    joined at every depth; other values keep the first page's.
    """
    for key, value in page.items():
        if key == "ResponseMetadata":
            continue
        current = merged.get(key)
        if isinstance(value, list) and isinstance(current, list):
            current.extend(value)
        elif isinstance(value, dict) and isinstance(current, dict):
            _merge_page(current, value)
        elif key not in merged:
            if isinstance(value, dict):
                merged[key] = {}
                _merge_page(merged[key], value)
            else:
                merged[key] = list(value) if isinstance(value, list) else value


def _strip_account_host(request: Any, **_: Any) -> None:
    """S3 Control puts the account id in the host name; a local endpoint has no such host."""
    parts = urlsplit(request.url)
    label, _, rest = parts.netloc.partition(".")
    if label.isdigit() and rest:
        request.url = urlunsplit(parts._replace(netloc=rest))


def _generate_credential_report(runner: CallRunner, client: Any, rtype: str) -> None:
    """GetCredentialReport needs a report generated first; AWS builds it in a few seconds."""
    for _ in range(30):
        state = client.generate_credential_report().get("State")
        runner.inventory.count(rtype, calls=1)
        if state == "COMPLETE":
            return
        time.sleep(2)
    raise CollectionError(
        "the IAM credential report was not ready after 60 s", code="ReportNotReady"
    )


@dataclass(frozen=True)
class Prerequisite:
    """A call that must run before an operation; its permission is needed too."""

    call: str  # boto3 operation of the same service
    run: Callable[[CallRunner, Any, str], None]


# (service, operation) -> what runs before it
PREPARE: dict[tuple[str, str], Prerequisite] = {
    ("iam", "get_credential_report"): Prerequisite(
        "generate_credential_report", _generate_credential_report
    ),
}
