"""The service menu, pausing and the operations status through the API: who may, and a
refusal that changes nothing."""

from __future__ import annotations

from posture.operations.audit import list_audit
from posture.operations.identity import list_users
from posture.operations.scans import list_scans
from posture.operations.tenants import set_option, show_tenant
from tests.web.conftest import Api


def test_a_paused_tenants_scan_is_refused_with_no_scan_recorded(api: Api) -> None:
    paused = api.client.post(
        "/api/v1/tenants/acme/pause",
        json={"reason": "contract ended"},
        headers=api.auth("admin"),
    )
    assert paused.status_code == 200
    assert paused.json()["paused"] is True and paused.json()["paused_reason"] == "contract ended"
    scans_before = len(list_scans(api.ops, "acme"))
    started = api.client.post("/api/v1/tenants/acme/scans", json={}, headers=api.auth("admin"))
    assert started.status_code == 423
    assert started.json()["error"]["code"] == "tenant_paused"
    assert "contract ended" in started.json()["error"]["message"]
    assert len(list_scans(api.ops, "acme")) == scans_before
    # what it had stays readable, and the state shows everywhere the tenant is shown
    assert api.get("viewer", "/api/v1/tenants/acme/findings").status_code == 200
    assert api.get("viewer", "/api/v1/tenants/acme").json()["paused"] is True

    resumed = api.client.post("/api/v1/tenants/acme/resume", headers=api.auth("admin"))
    assert resumed.status_code == 200 and resumed.json()["paused"] is False


def test_only_provider_administrators_pause(api: Api) -> None:
    for who in ("cadmin", "viewer", "analyst"):
        refused = api.client.post(
            "/api/v1/tenants/acme/pause", json={"reason": "x"}, headers=api.auth(who)
        )
        assert refused.status_code == 403, who
        assert refused.json()["error"]["code"] == "forbidden"
    other = api.client.post(
        "/api/v1/tenants/beta/pause", json={"reason": "x"}, headers=api.auth("cadmin")
    )
    assert other.status_code == 404
    assert show_tenant(api.ops, "acme").paused is False
    assert show_tenant(api.ops, "beta").paused is False


def test_portal_administrators_beyond_the_tenants_limit_are_refused(api: Api) -> None:
    set_option(api.ops, "acme", "portal_admin_limit", 2)  # cadmin is the first
    second = api.client.post(
        "/api/v1/users",
        json={"username": "second-admin", "role": "customer_admin", "tenant": "acme"},
        headers=api.auth("admin"),
    )
    assert second.status_code == 201, second.text
    entries = len(list_audit(api.ops))
    third = api.client.post(
        "/api/v1/users",
        json={"username": "third-admin", "role": "customer_admin", "tenant": "acme"},
        headers=api.auth("admin"),
    )
    assert third.status_code == 409
    assert third.json()["error"]["code"] == "limit_exceeded"
    assert "third-admin" not in {u.username for u in list_users(api.ops)}
    assert len(list_audit(api.ops)) == entries
    # a viewer may still be added: the limit is on administrators
    viewer = api.client.post(
        "/api/v1/users",
        json={"username": "another-viewer", "role": "customer_viewer", "tenant": "acme"},
        headers=api.auth("admin"),
    )
    assert viewer.status_code == 201


def test_menu_shows_the_plan_and_the_connections_in_use(api: Api) -> None:
    set_option(api.ops, "acme", "plan", "cspm")
    set_option(api.ops, "acme", "max_connections", 1)
    menu = api.get("viewer", "/api/v1/tenants/acme/menu").json()
    assert (menu["plan"], menu["cspm"], menu["sspm"]) == ("cspm", True, False)
    assert (menu["connections"], menu["connection_limit"], menu["over_limit"]) == (2, 1, 1)
    assert api.get("beta_viewer", "/api/v1/tenants/acme/menu").status_code == 404


def test_service_status_is_for_provider_operators(api: Api) -> None:
    status = api.get("admin", "/api/v1/service/status")
    assert status.status_code == 200
    assert set(status.json()) >= {"workers", "queues", "broker", "checked_at"}
    for who in ("viewer", "cadmin", "auditor"):
        assert api.get(who, "/api/v1/service/status").status_code == 403, who


def test_findings_pages_walk_the_same_list_as_the_whole_query(api: Api) -> None:
    from posture.operations import FindingQuery
    from posture.operations.findings import query_findings

    cases = [
        ("state=all", FindingQuery(tenant="acme", status="all")),
        ("state=open&severity=high", FindingQuery(tenant="acme", severities=("high",))),
        ("state=all&q=logs", FindingQuery(tenant="acme", status="all", text="logs")),
        ("provider=gws", FindingQuery(tenant="acme", providers=("gws",))),
    ]
    for params, query in cases:
        expected = [r.id for r in query_findings(api.ops, query)]
        seen: list[str] = []
        url: str | None = f"/api/v1/tenants/acme/findings?{params}&limit=2"
        while url:
            page = api.get("admin", url).json()
            assert page["total"] == len(expected), params
            seen += [item["id"] for item in page["items"]]
            url = page["next"]
        assert seen == expected, params
