"""The local Graph and Google servers take the documented writes setting repair uses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.oauth2 import service_account

from posture.localapi.google import (
    GROUP_SETTINGS,
    USER_SECURITY,
    RunningGoogle,
    google_server,
)
from posture.localapi.graph import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT_ID,
    WRITER_CLIENT_ID,
    WRITER_SECRET,
    GraphServer,
    graph_server,
)


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphServer]:
    with graph_server(tmp_path_factory.mktemp("graph")) as server:
        yield server


def _token(graph: GraphServer, client: str, secret: str) -> str:
    answer = httpx.post(
        f"{graph.url}/{TENANT_ID}/oauth2/v2.0/token",
        data={"client_id": client, "client_secret": secret, "grant_type": "client_credentials"},
        verify=graph.ca_bundle,
    )
    assert answer.status_code == 200
    return str(answer.json()["access_token"])


def _graph(graph: GraphServer, method: str, path: str, token: str, body: Any = None) -> Any:
    return httpx.request(
        method,
        f"{graph.url}/v1.0{path}",
        headers={"Authorization": f"Bearer {token}"},
        content=None if body is None else json.dumps(body),
        verify=graph.ca_bundle,
    )


def test_patch_changes_only_the_properties_sent(graph: GraphServer) -> None:
    token = _token(graph, WRITER_CLIENT_ID, WRITER_SECRET)
    body = {"defaultUserRolePermissions": {"allowedToCreateApps": False}}
    answer = _graph(graph, "PATCH", "/policies/authorizationPolicy", token, body)
    assert answer.status_code == 204 and answer.content == b""
    policy = _graph(graph, "GET", "/policies/authorizationPolicy", token).json()
    assert policy["defaultUserRolePermissions"]["allowedToCreateApps"] is False
    assert policy["defaultUserRolePermissions"]["allowedToCreateSecurityGroups"] is True
    assert policy["allowInvitesFrom"] == "everyone"


def test_an_item_of_a_collection_is_read_and_patched_in_v1_and_beta(graph: GraphServer) -> None:
    token = _token(graph, WRITER_CLIENT_ID, WRITER_SECRET)
    path = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Sms"
    kind = "#microsoft.graph.smsAuthenticationMethodConfiguration"
    assert _graph(graph, "GET", path, token).json()["state"] == "enabled"
    wrong = {"@odata.type": "#microsoft.graph.voiceAuthenticationMethodConfiguration"}
    assert _graph(graph, "PATCH", path, token, wrong | {"state": "disabled"}).status_code == 400
    answer = _graph(graph, "PATCH", path, token, {"@odata.type": kind, "state": "disabled"})
    assert answer.status_code == 204
    assert _graph(graph, "GET", path, token).json()["state"] == "disabled"
    beta = httpx.get(
        f"{graph.url}/beta/policies/authenticationMethodsPolicy",
        headers={"Authorization": f"Bearer {token}"},
        verify=graph.ca_bundle,
    ).json()
    (sms,) = [c for c in beta["authenticationMethodConfigurations"] if c["id"] == "Sms"]
    assert sms["state"] == "disabled"


def test_put_replaces_a_singleton(graph: GraphServer) -> None:
    token = _token(graph, WRITER_CLIENT_ID, WRITER_SECRET)
    body = {
        "isEnabled": True,
        "notifyReviewers": True,
        "remindersEnabled": True,
        "requestDurationInDays": 30,
        "reviewers": [{"query": "/users/u-1", "queryType": "MicrosoftGraph"}],
    }
    assert (
        _graph(graph, "PUT", "/policies/adminConsentRequestPolicy", token, body).status_code == 204
    )
    stored = _graph(graph, "GET", "/policies/adminConsentRequestPolicy", token).json()
    assert {k: v for k, v in stored.items() if not k.startswith("@")} == body


def test_a_write_without_the_permission_is_refused_and_changes_nothing(
    graph: GraphServer,
) -> None:
    reader = _token(graph, CLIENT_ID, CLIENT_SECRET)
    before = _graph(graph, "GET", "/policies/authorizationPolicy", reader).json()
    writes = len(graph.state.writes)
    answer = _graph(
        graph, "PATCH", "/policies/authorizationPolicy", reader, {"allowInvitesFrom": "none"}
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "Authorization_RequestDenied"
    graph.read_only()
    try:
        writer = _token(graph, WRITER_CLIENT_ID, WRITER_SECRET)
        answer = _graph(
            graph, "PATCH", "/policies/authorizationPolicy", writer, {"allowInvitesFrom": "none"}
        )
        assert answer.status_code == 403
    finally:
        graph.state.apps[WRITER_CLIENT_ID].permissions.add("Policy.ReadWrite.Authorization")
    assert _graph(graph, "GET", "/policies/authorizationPolicy", reader).json() == before
    assert len(graph.state.writes) == writes
    # a path Graph cannot write
    assert (
        _graph(
            graph, "PATCH", "/users/u-1", _token(graph, WRITER_CLIENT_ID, WRITER_SECRET), {}
        ).status_code
        == 405
    )


@pytest.fixture(scope="module")
def google(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGoogle]:
    with google_server(tmp_path_factory.mktemp("google")) as running:
        yield running


def _bearer(google: RunningGoogle, key_file: Path, scope: str) -> str:
    """A delegated token of ``key_file``'s service account for one scope."""
    import httplib2
    from google_auth_httplib2 import Request

    creds = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
        str(key_file), scopes=[scope], subject="alice@example.jp"
    )
    creds.refresh(Request(httplib2.Http(ca_certs=str(google.ca_bundle))))
    return str(creds.token)


def _call(
    google: RunningGoogle, method: str, path: str, token: str, body: Any = None
) -> httpx.Response:
    return httpx.request(
        method,
        google.url + path.lstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        content=None if body is None else json.dumps(body),
        verify=str(google.ca_bundle),
    )


def test_group_settings_patch_and_update(google: RunningGoogle) -> None:
    token = _bearer(google, google.writer_key_file, GROUP_SETTINGS)
    path = "/groups/v1/groups/sales%40example.jp?alt=json"
    answer = _call(google, "PATCH", path, token, {"allowExternalMembers": "false"})
    assert answer.status_code == 200
    assert answer.json()["allowExternalMembers"] == "false"
    assert answer.json()["whoCanJoin"] == "ANYONE_CAN_JOIN"  # untouched by a patch
    assert _call(google, "PATCH", path, token, {"whoCanJoin": "NOBODY"}).status_code == 400
    read = _call(google, "GET", path, token).json()
    assert read["allowExternalMembers"] == "false" and read["whoCanJoin"] == "ANYONE_CAN_JOIN"


def test_token_delete_and_a_read_only_writer(google: RunningGoogle) -> None:
    token = _bearer(google, google.writer_key_file, USER_SECURITY)
    path = "/admin/directory/v1/users/alice%40example.jp/tokens/1234.apps.googleusercontent.com"
    google.read_only()
    try:
        answer = _call(google, "DELETE", path, token)
        assert answer.status_code == 403
        error = answer.json()["error"]
        assert error["status"] == "PERMISSION_DENIED"
        assert error["errors"][0]["reason"] == "insufficientPermissions"
        assert google.fake.data["tokens"]["alice@example.jp"]
    finally:
        google.fake.read_only.clear()
    answer = _call(google, "DELETE", path, token)
    assert answer.status_code == 204 and answer.content == b""
    assert google.fake.data["tokens"]["alice@example.jp"] == []
    assert _call(google, "DELETE", path, token).status_code == 404
    # the scanner's token has the scope but a write with a token lacking it is refused
    reader = _bearer(google, google.key_file, GROUP_SETTINGS)
    assert _call(google, "DELETE", path.replace("1234", "5678"), reader).status_code == 403
