"""connection check for Google Workspace: one reason per fix the user has to make."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from posture.connectors.gws.entry import check
from posture.errors import ConnectionFailure, ConnectionReason, CredentialError
from posture.localapi.google import ALL_SCOPES, USER_SECURITY, RunningGoogle, write_key_file


def test_check_passes_with_every_scope_delegated(settings: dict[str, Any]) -> None:
    info = check("acme-gws", settings)
    assert info["account"] == "my_customer"
    assert set(info["scopes"]) == ALL_SCOPES


def test_missing_scope_is_named(google: RunningGoogle, settings: dict[str, Any]) -> None:
    google.fake.granted.discard(USER_SECURITY)
    with pytest.raises(ConnectionFailure) as caught:
        check("acme-gws", settings)
    assert caught.value.reason is ConnectionReason.PERMISSION_DENIED
    assert USER_SECURITY in caught.value.message
    assert "acme-gws" in caught.value.message


def test_delegation_not_granted(google: RunningGoogle, settings: dict[str, Any]) -> None:
    google.fake.granted.clear()
    with pytest.raises(CredentialError) as caught:
        check("acme-gws", settings)
    assert caught.value.reason is ConnectionReason.CREDENTIALS_REJECTED
    assert "domain-wide delegation is not granted" in caught.value.message
    assert "alice@example.jp" in caught.value.message


def test_key_rejected(google: RunningGoogle, settings: dict[str, Any], tmp_path: Path) -> None:
    other, _ = write_key_file(tmp_path, google.url + "token", name="other.json")
    with pytest.raises(CredentialError) as caught:
        check("acme-gws", {**settings, "key_file": str(other)})
    assert caught.value.reason is ConnectionReason.CREDENTIALS_REJECTED
    assert "rejected the service account key" in caught.value.message
    assert "invalid_grant" in caught.value.message


def test_token_endpoint_unreachable(settings: dict[str, Any], tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dead, _ = write_key_file(tmp_path, f"https://127.0.0.1:{port}/token", name="dead.json")
    with pytest.raises(ConnectionFailure) as caught:
        check("acme-gws", {**settings, "key_file": str(dead)})
    assert caught.value.reason is ConnectionReason.ENDPOINT_UNREACHABLE
    assert f"127.0.0.1:{port}" in caught.value.message


def test_untrusted_certificate(settings: dict[str, Any]) -> None:
    without_ca = {k: v for k, v in settings.items() if k != "ca_bundle"}
    with pytest.raises(ConnectionFailure) as caught:
        check("acme-gws", without_ca)
    assert caught.value.reason is ConnectionReason.TLS_ERROR


def test_missing_key_file(settings: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises(CredentialError) as caught:
        check("acme-gws", {**settings, "key_file": str(tmp_path / "none.json")})
    assert caught.value.reason is ConnectionReason.CREDENTIALS_MISSING
    assert "none.json" in caught.value.message


def test_key_file_that_is_not_a_service_account(settings: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "user.json"
    path.write_text(json.dumps({"type": "authorized_user"}))
    with pytest.raises(CredentialError, match="is not a service account key"):
        check("acme-gws", {**settings, "key_file": str(path)})
