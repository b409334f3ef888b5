"""Refusals: another tenant's ids look unknown, bad tokens are 401, a viewer cannot write,
a session cookie needs its CSRF token; none of them changes anything."""

from __future__ import annotations

import pytest

from posture.operations.audit import list_audit
from posture.operations.identity import (
    create_session,
    list_tokens,
    revoke_token,
    token_principal,
)
from posture.operations.waivers import list_waivers

from .conftest import SOON, Api

BETA_PATHS = (
    "/api/v1/tenants/beta",
    "/api/v1/tenants/beta/connections",
    "/api/v1/tenants/beta/scans",
    "/api/v1/tenants/beta/findings",
    "/api/v1/tenants/beta/waivers",
    "/api/v1/tenants/beta/usage",
    "/api/v1/tenants/beta/reports",
    "/api/v1/tenants/beta/exports",
)


@pytest.mark.parametrize("path", BETA_PATHS)
def test_another_tenants_resources_are_unknown_to_a_customer(any_api: Api, path: str) -> None:
    theirs = any_api.get("viewer", path)
    unknown = any_api.get("viewer", path.replace("/beta", "/no-such-tenant"))
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json()["error"]["code"] == unknown.json()["error"]["code"] == "not_found"
    assert "acme" not in theirs.text and "known tenants" not in theirs.text
    assert any_api.get("admin", path).status_code == 200


def test_another_tenants_finding_and_scan_ids_are_unknown(any_api: Api) -> None:
    beta_finding = any_api.estate.beta_finding
    own = any_api.get(
        "viewer", f"/api/v1/tenants/acme/findings/{any_api.estate.acme_findings['logs']}"
    )
    assert own.status_code == 200
    through_own = any_api.get("viewer", f"/api/v1/tenants/acme/findings/{beta_finding}")
    through_theirs = any_api.get("viewer", f"/api/v1/tenants/beta/findings/{beta_finding}")
    made_up = any_api.get("viewer", "/api/v1/tenants/acme/findings/does-not-exist")
    assert through_own.status_code == through_theirs.status_code == made_up.status_code == 404
    beta_scans = any_api.get("admin", "/api/v1/tenants/beta/scans").json()
    scan_id = beta_scans[0]["id"]
    assert any_api.get("viewer", f"/api/v1/tenants/acme/scans/{scan_id}").status_code == 404
    assert any_api.get("admin", f"/api/v1/tenants/beta/scans/{scan_id}").status_code == 200


def test_a_customer_lists_only_its_own_tenant(any_api: Api) -> None:
    slugs = [t["slug"] for t in any_api.get("viewer", "/api/v1/tenants").json()]
    assert slugs == ["acme"]
    assert [t["slug"] for t in any_api.get("admin", "/api/v1/tenants").json()] == ["acme", "beta"]


def test_a_revoked_token_is_refused(any_api: Api) -> None:
    assert any_api.get("viewer", "/api/v1/me").status_code == 200
    (token,) = list_tokens(any_api.ops, "viewer")
    revoke_token(any_api.ops, token.id)
    response = any_api.get("viewer", "/api/v1/tenants/acme/findings")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_revoked"


def test_an_expired_token_is_refused(any_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime, timedelta

    import posture.operations.identity as identity

    later = datetime.now(UTC) + timedelta(days=31)
    monkeypatch.setattr(identity, "utcnow", lambda: later)
    response = any_api.get("viewer", "/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"


def test_a_viewer_cannot_write_and_nothing_changes(any_api: Api) -> None:
    before = len(list_audit(any_api.ops))
    body = {"reason": "accepted", "expires": SOON, "whole_tenant": True}
    response = any_api.client.post(
        "/api/v1/tenants/acme/waivers", json=body, headers=any_api.auth("viewer")
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    started = any_api.client.post(
        "/api/v1/tenants/acme/scans", json={}, headers=any_api.auth("viewer")
    )
    assert started.status_code == 403
    assert any_api.get("admin", "/api/v1/tenants/acme/scans").json()[0]["status"] == "succeeded"
    assert list_waivers(any_api.ops, "acme", status="all") == []
    assert len(list_audit(any_api.ops)) == before


def test_a_customer_admin_may_waive_only_its_own_tenant(any_api: Api) -> None:
    body = {"reason": "accepted", "expires": SOON, "whole_tenant": True}
    own = any_api.client.post(
        "/api/v1/tenants/acme/waivers", json=body, headers=any_api.auth("cadmin")
    )
    assert own.status_code == 201
    theirs = any_api.client.post(
        "/api/v1/tenants/beta/waivers", json=body, headers=any_api.auth("cadmin")
    )
    assert theirs.status_code == 404
    assert list_waivers(any_api.ops, "beta", status="all") == []


def test_session_cookie_needs_the_csrf_token_for_writes(any_api: Api) -> None:
    principal = token_principal(any_api.ops, any_api.tokens["cadmin"])
    web = create_session(any_api.ops, principal)
    any_api.client.cookies.set("posture_session", web.token)
    try:
        assert any_api.client.get("/api/v1/me").json()["username"] == "cadmin"
        body = {"reason": "accepted", "expires": SOON, "whole_tenant": True}
        refused = any_api.client.post("/api/v1/tenants/acme/waivers", json=body)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
        wrong = any_api.client.post(
            "/api/v1/tenants/acme/waivers", json=body, headers={"X-CSRF-Token": "forged"}
        )
        assert wrong.status_code == 403
        assert list_waivers(any_api.ops, "acme", status="all") == []
        accepted = any_api.client.post(
            "/api/v1/tenants/acme/waivers", json=body, headers={"X-CSRF-Token": web.csrf_token}
        )
        assert accepted.status_code == 201
        assert accepted.json()["approved_by"] == "cadmin"
    finally:
        any_api.client.cookies.clear()
