"""Users and API tokens through the API, within the identity rules."""

from __future__ import annotations

from .conftest import Api


def test_a_customer_admin_manages_its_tenants_customer_users(api: Api) -> None:
    made = api.client.post(
        "/api/v1/users",
        json={"username": "kenji", "role": "customer_viewer", "tenant": "acme", "locale": "ja"},
        headers=api.auth("cadmin"),
    )
    assert made.status_code == 201, made.text
    created = made.json()
    assert created["user"]["tenant"] == "acme" and created["user"]["must_change_password"]
    assert len(created["one_time_password"]) >= 12
    names = [u["username"] for u in api.get("cadmin", "/api/v1/users").json()]
    assert "kenji" in names and "admin" not in names and "beta_viewer" not in names
    elsewhere = api.client.post(
        "/api/v1/users",
        json={"username": "mallory", "role": "customer_viewer", "tenant": "beta"},
        headers=api.auth("cadmin"),
    )
    assert elsewhere.status_code == 404
    provider = api.client.post(
        "/api/v1/users",
        json={"username": "mallory", "role": "provider_admin"},
        headers=api.auth("cadmin"),
    )
    assert provider.status_code == 403
    disabled = api.client.post("/api/v1/users/kenji/disable", headers=api.auth("cadmin"))
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert "mallory" not in [u["username"] for u in api.get("admin", "/api/v1/users").json()]


def test_a_viewer_manages_no_users(api: Api) -> None:
    assert api.get("viewer", "/api/v1/users").status_code == 403
    refused = api.client.post(
        "/api/v1/users/viewer/role", json={"role": "customer_admin"}, headers=api.auth("viewer")
    )
    assert refused.status_code == 403


def test_tokens_are_created_for_the_caller_and_revoked(api: Api) -> None:
    made = api.client.post(
        "/api/v1/tokens",
        json={"name": "siem", "scopes": ["finding.read", "tenant.read"], "expires_days": 7},
        headers=api.auth("cadmin"),
    )
    assert made.status_code == 201, made.text
    token = made.json()
    secret = token["secret"]
    assert token["token"]["username"] == "cadmin" and token["token"]["state"] == "active"
    scoped = {"Authorization": f"Bearer {secret}"}
    assert api.client.get("/api/v1/tenants/acme/findings", headers=scoped).status_code == 200
    waiver = api.client.post(
        "/api/v1/tenants/acme/waivers",
        json={"reason": "x", "expires": "2030-01-01", "whole_tenant": True},
        headers=scoped,
    )
    assert waiver.status_code == 403  # the token's scopes lack waiver.write
    listed = api.get("cadmin", "/api/v1/tokens").json()
    assert token["token"]["id"] in [t["id"] for t in listed]
    assert all("secret" not in t for t in listed)
    revoked = api.client.post(
        f"/api/v1/tokens/{token['token']['id']}/revoke", headers=api.auth("cadmin")
    )
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    gone = api.client.get("/api/v1/me", headers=scoped)
    assert gone.status_code == 401 and gone.json()["error"]["code"] == "token_revoked"


def test_a_token_cannot_exceed_the_callers_rights(api: Api) -> None:
    refused = api.client.post(
        "/api/v1/tokens",
        json={"name": "too much", "scopes": ["waiver.write"]},
        headers=api.auth("viewer"),
    )
    assert refused.status_code == 403
    unknown = api.client.post(
        "/api/v1/tokens",
        json={"name": "typo", "scopes": ["finding.raed"]},
        headers=api.auth("admin"),
    )
    assert unknown.status_code == 400 and "finding.raed" in unknown.json()["error"]["message"]
    beta_token = api.get("admin", "/api/v1/tokens?username=beta_viewer").json()[0]["id"]
    other = api.client.post(f"/api/v1/tokens/{beta_token}/revoke", headers=api.auth("cadmin"))
    assert other.status_code == 404
