"""boto3 clients pointed at a local moto server, with the two request fix-ups moto needs."""

from __future__ import annotations

import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import boto3
from botocore.config import Config

DEFAULT_ACCOUNT_ID = "123456789012"  # moto's default account
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
MOTO_ACCOUNT_HEADER = "x-moto-account-id"


def moto_control(endpoint_url: str, action: str, **params: str) -> None:
    """POST to a moto server's own API, e.g. ``reset`` (drop every backend) or ``seed``.

    Works for an in-process ``ThreadedMotoServer`` and a separate ``moto_server`` alike.
    """
    query = f"?{urlencode(params)}" if params else ""
    url = f"{endpoint_url.rstrip('/')}/moto-api/{action}{query}"
    request = urllib.request.Request(url, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def register_local_s3control_hook(session: boto3.session.Session, endpoint_url: str) -> None:
    """Let S3 Control calls reach a local endpoint.

    botocore's endpoint rules put the account id in front of the host
    (``123456789012.127.0.0.1:5000``), which does not resolve. The handler strips that
    first label again just before the request is sent, and only for the given endpoint.
    """
    local = urlsplit(endpoint_url)

    def strip_account_label(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        label, _sep, rest = parts.netloc.partition(".")
        if label.isdigit() and rest == local.netloc:
            request.url = urlunsplit(parts._replace(netloc=rest))

    session.events.register("before-send.s3-control", strip_account_label)


def register_account_header(session: boto3.session.Session, account_id: str) -> None:
    """Make moto file every request under ``account_id`` (moto reads ``x-moto-account-id``)."""

    def add_header(request: Any, **_: Any) -> None:
        request.headers[MOTO_ACCOUNT_HEADER] = account_id

    session.events.register("before-sign", add_header)


@dataclass
class EstateClients:
    """Thread-safe cache of boto3 clients, one per (service, region)."""

    endpoint_url: str
    account_id: str = DEFAULT_ACCOUNT_ID
    config: Config = field(
        default_factory=lambda: Config(retries={"max_attempts": 3, "mode": "standard"})
    )
    _session: boto3.session.Session | None = field(default=None, init=False, repr=False)
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _new_session(self) -> boto3.session.Session:
        session = boto3.session.Session(**DUMMY_CREDENTIALS)
        register_local_s3control_hook(session, self.endpoint_url)
        if self.account_id != DEFAULT_ACCOUNT_ID:
            register_account_header(session, self.account_id)
        return session

    def client(self, service: str, region: str) -> Any:
        """A client for ``service`` in ``region`` (boto3 clients may be shared by threads)."""
        key = (service, region)
        with self._lock:  # boto3 sessions are not thread-safe, their clients are
            if key not in self._clients:
                if self._session is None:
                    self._session = self._new_session()
                self._clients[key] = self._session.client(
                    service, region_name=region, endpoint_url=self.endpoint_url, config=self.config
                )
            return self._clients[key]
