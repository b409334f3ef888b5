"""Every endpoint family does what its operation does: findings with filters and pages,
scans started in the background, waivers, reports and exports as files, audit, usage."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from posture.operations.audit import AuditQuery, list_audit
from tests.operations.conftest import ENCRYPTION, ROOT_MFA, VERSIONING

from .conftest import SOON, Api

FINDINGS = "/api/v1/tenants/acme/findings"


def ids(api: Api, who: str, url: str) -> list[str]:
    response = api.get(who, url)
    assert response.status_code == 200, response.text
    return [item["policy_id"] for item in response.json()["items"]]


def test_me_names_the_caller(api: Api) -> None:
    me = api.get("viewer", "/api/v1/me").json()
    assert me["username"] == "viewer" and me["role"] == "customer_viewer"
    assert me["tenants"] is not None and len(me["tenants"]) == 1
    assert api.get("admin", "/api/v1/me").json()["tenants"] is None


def test_findings_filters(api: Api) -> None:
    assert ids(api, "viewer", FINDINGS) == [
        ROOT_MFA,
        ENCRYPTION,
        "gws.directory.admin_2sv_enforced",
        VERSIONING,
    ]
    assert ids(api, "viewer", f"{FINDINGS}?severity=critical&severity=medium") == [
        ROOT_MFA,
        VERSIONING,
    ]
    assert ids(api, "viewer", f"{FINDINGS}?state=resolved") == [VERSIONING]
    assert len(ids(api, "viewer", f"{FINDINGS}?state=all")) == 5
    assert ids(api, "viewer", f"{FINDINGS}?policy=aws.s3") == [ENCRYPTION, VERSIONING]
    assert ids(api, "viewer", f"{FINDINGS}?provider=gws") == ["gws.directory.admin_2sv_enforced"]
    assert ids(api, "viewer", f"{FINDINGS}?connection=ws&connection=nope") == [
        "gws.directory.admin_2sv_enforced"
    ]
    assert ids(api, "viewer", f"{FINDINGS}?q=root") == [ROOT_MFA]
    assert ids(api, "viewer", f"{FINDINGS}?q=S3%20data") == [ENCRYPTION]
    unknown = api.get("viewer", f"{FINDINGS}?policy=aws.nothing_like_this")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "usage_error"


def test_findings_pages_follow_next_links(api: Api) -> None:
    url: str | None = f"{FINDINGS}?limit=1&state=all&provider=aws"
    seen: list[str] = []
    while url:
        page = api.get("viewer", url).json()
        assert page["total"] == 4 and page["limit"] == 1 and len(page["items"]) == 1
        seen += [item["id"] for item in page["items"]]
        url = page["next"]
        if url:
            assert parse_qs(urlsplit(url).query)["provider"] == ["aws"]
    assert len(seen) == len(set(seen)) == 4
    past_the_end = api.get("viewer", f"{FINDINGS}?offset=10").json()
    assert past_the_end["items"] == [] and past_the_end["next"] is None


def test_a_finding_with_evidence_and_history(api: Api) -> None:
    finding_id = api.estate.acme_findings["logs"]
    detail = api.get("viewer", f"{FINDINGS}/{finding_id}").json()
    assert detail["policy_id"] == VERSIONING and detail["connection"] == "prod"
    assert detail["evidence"][0]["path"] == "versioning.Status"
    assert detail["title"]["en"] and detail["title"]["ja"]
    assert detail["recommendation"]["en"]
    assert detail["events"] == []


def test_tenants_connections_usage(api: Api) -> None:
    assert api.get("viewer", "/api/v1/tenants/acme").json()["slug"] == "acme"
    connections = api.get("viewer", "/api/v1/tenants/acme/connections").json()
    assert [c["name"] for c in connections] == ["prod", "ws"]
    assert all("settings" not in c for c in connections)
    usage = api.get("viewer", "/api/v1/tenants/acme/usage").json()
    assert usage["tenant"] == "acme" and usage["connections"] == 2


def test_connection_check_records_its_health(api: Api) -> None:
    response = api.client.post(
        "/api/v1/tenants/acme/connections/prod/check", headers=api.auth("analyst")
    )
    assert response.status_code == 200, response.text
    (check,) = response.json()
    assert check["health"] == "failed" and check["reason"] == "endpoint_unreachable"
    listed = api.get("analyst", "/api/v1/tenants/acme/connections").json()
    assert listed[0]["health"] == "failed"


def test_a_scan_starts_in_the_background(api: Api) -> None:
    response = api.client.post(
        "/api/v1/tenants/acme/scans",
        json={"connections": ["prod"], "policies": ["aws.s3"]},
        headers=api.auth("analyst"),
    )
    assert response.status_code == 202, response.text
    started = response.json()
    assert started["status"] == "running"
    assert started["url"] == f"/api/v1/tenants/acme/scans/{started['scan_id']}"
    for _ in range(600):  # the scan ends on its own: its connection refuses at once
        detail = api.get("analyst", started["url"]).json()
        if detail["scan"]["status"] != "running":
            break
        time.sleep(0.1)
    assert detail["scan"]["status"] == "failed"
    assert [t["connection"] for t in detail["targets"]] == ["prod"]
    runs = list_audit(api.ops, AuditQuery(actions=("scan.run",)))
    assert runs[-1].actor == "analyst" and runs[-1].source.startswith("web ")


def test_a_scan_refused_before_it_starts_says_why(api: Api) -> None:
    before = api.get("admin", "/api/v1/tenants/acme/scans").json()
    typo = api.client.post(
        "/api/v1/tenants/acme/scans",
        json={"policies": ["aws.s3.bucket_versoning"]},
        headers=api.auth("admin"),
    )
    assert typo.status_code == 400 and "did you mean" in typo.json()["error"]["message"]
    missing = api.client.post(
        "/api/v1/tenants/acme/scans", json={"connections": ["nope"]}, headers=api.auth("admin")
    )
    assert missing.status_code == 404
    assert api.get("admin", "/api/v1/tenants/acme/scans").json() == before


def test_waivers_add_list_revoke(api: Api) -> None:
    body = {"reason": "log bucket, versioning not needed", "expires": SOON, "policy": VERSIONING}
    added = api.client.post("/api/v1/tenants/acme/waivers", json=body, headers=api.auth("cadmin"))
    assert added.status_code == 201, added.text
    waiver = added.json()
    assert waiver["approved_by"] == waiver["requested_by"] == "cadmin"
    assert waiver["changes"]["waived"] == 1
    listed = api.get("viewer", "/api/v1/tenants/acme/waivers").json()
    assert [w["id"] for w in listed] == [waiver["id"]]
    assert ids(api, "viewer", f"{FINDINGS}?state=waived") == [VERSIONING]
    revoked = api.client.post(
        f"/api/v1/tenants/acme/waivers/{waiver['id']}/revoke",
        json={"reason": "bucket now holds data"},
        headers=api.auth("cadmin"),
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert api.get("viewer", "/api/v1/tenants/acme/waivers").json() == []
    extra = api.client.post(
        "/api/v1/tenants/acme/waivers",
        json={**body, "unknown": 1},
        headers=api.auth("cadmin"),
    )
    assert extra.status_code == 422


def test_reports_are_generated_listed_and_downloaded(api: Api) -> None:
    made = api.client.post(
        "/api/v1/tenants/acme/reports",
        json={"formats": ["html"], "languages": ["en", "ja"], "period": "2025-05"},
        headers=api.auth("analyst"),
    )
    assert made.status_code == 201, made.text
    generated = made.json()
    assert generated["period"] == "2025-05"
    names = sorted(f["name"] for f in generated["files"])
    assert names == ["posture-acme-2025-05-en.html", "posture-acme-2025-05-ja.html"]
    listed = api.get("viewer", "/api/v1/tenants/acme/reports").json()
    assert sorted(f["name"] for f in listed) == names
    assert {f["language"] for f in listed} == {"en", "ja"} and listed[0]["period"] == "2025-05"
    download = api.get("viewer", listed[0]["url"])
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment")
    assert b"<html" in download.content
    # the same file name asked through another tenant, or with a path, is unknown
    assert api.get("admin", f"/api/v1/tenants/beta/reports/{names[0]}").status_code == 404
    for bad in ("..%2Facme%2F" + names[0], "%2E%2E", ".hidden", "x" * 201):
        assert api.get("viewer", f"/api/v1/tenants/acme/reports/{bad}").status_code in (404, 422)
    assert api.get("viewer", "/api/v1/tenants/beta/reports").status_code == 404
    refused = api.client.post(
        f"/api/v1/tenants/acme/reports/{names[0]}/delivered",
        json={"to": "ciso@acme.example"},
        headers=api.auth("viewer"),
    )
    assert refused.status_code == 403
    delivered = api.client.post(
        f"/api/v1/tenants/acme/reports/{names[0]}/delivered",
        json={"to": "ciso@acme.example"},
        headers=api.auth("analyst"),
    )
    assert delivered.status_code == 200, delivered.text
    assert delivered.json()["delivered_by"] == "analyst"
    assert delivered.json()["delivered_to"] == "ciso@acme.example"


def test_exports_are_files_of_the_tenant(api: Api) -> None:
    made = api.client.post(
        "/api/v1/tenants/acme/exports", json={"format": "json"}, headers=api.auth("viewer")
    )
    assert made.status_code == 201, made.text
    export = made.json()
    assert export["format"] == "json" and export["id"].startswith("findings-acme-")
    document = json.loads(api.get("viewer", export["url"]).content)
    assert document["tenant"]["slug"] == "acme" and len(document["findings"]) == 4
    ocsf = api.client.post(
        "/api/v1/tenants/acme/exports", json={"format": "ocsf"}, headers=api.auth("viewer")
    ).json()
    lines = api.get("viewer", ocsf["url"]).text.splitlines()
    assert len(lines) == 4 and json.loads(lines[0])["class_uid"] == 2004
    assert [e["id"] for e in api.get("viewer", "/api/v1/tenants/acme/exports").json()]
    assert api.get("beta_viewer", export["url"]).status_code == 404


@pytest.mark.parametrize("who", ["admin", "auditor"])
def test_audit_list_and_export(api: Api, who: str) -> None:
    api.client.post(
        "/api/v1/tenants/acme/exports", json={"format": "csv"}, headers=api.auth("viewer")
    )
    page = api.get(who, "/api/v1/audit?tenant=acme&action=export&limit=5").json()
    assert page["items"] and all(e["action"] == "export.findings" for e in page["items"])
    assert page["items"][0]["actor"] == "viewer"
    exported = api.get(who, "/api/v1/audit/export?tenant=acme&format=jsonl")
    assert exported.status_code == 200
    entries = [json.loads(line) for line in exported.text.splitlines()]
    assert entries and all(e["tenant"] == "acme" for e in entries)
    bad = api.get(who, "/api/v1/audit?since=yesterday")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "usage_error"


def test_audit_pages_follow_each_other_newest_first(api: Api) -> None:
    from posture.operations.audit import record

    for i in range(7):
        record(api.ops, "tenant.note", tenant="acme", target=f"n{i}")
    first = api.get("auditor", "/api/v1/audit?tenant=acme&action=tenant.note&limit=3").json()
    assert first["total"] == 7 and [e["target"] for e in first["items"]] == ["n6", "n5", "n4"]
    seen = [e["target"] for e in first["items"]]
    following = first["next"]
    while following:
        page = api.get("auditor", following).json()
        seen += [e["target"] for e in page["items"]]
        following = page["next"]
    assert seen == [f"n{i}" for i in range(6, -1, -1)]


def test_a_customer_reads_no_audit_log(api: Api) -> None:
    assert api.get("viewer", "/api/v1/audit").status_code in (400, 403)
    assert api.get("viewer", "/api/v1/audit?tenant=beta").status_code == 404


def test_a_scan_waiting_for_a_thread_is_refused_and_never_runs(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from posture.web.api import scans as scans_api
    from posture.web.state import web_state

    state = web_state(api.client.app)  # type: ignore[arg-type]
    release = threading.Event()
    busy = [state.scan_executor().submit(release.wait) for _ in range(state.scan_threads)]
    monkeypatch.setattr(scans_api, "START_TIMEOUT", 0.2)
    before = api.get("admin", "/api/v1/tenants/acme/scans").json()
    try:
        response = api.client.post(
            "/api/v1/tenants/acme/scans", json={"connections": ["prod"]}, headers=api.auth("admin")
        )
    finally:
        release.set()
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "scans_busy"
    assert "try again" in response.json()["error"]["message"]
    for job in busy:
        job.result()
    state.scan_executor().submit(lambda: None).result()  # the queue has drained
    assert api.get("admin", "/api/v1/tenants/acme/scans").json() == before


def test_a_scheduled_report_is_the_same_file_the_api_lists_and_serves(api: Api) -> None:
    from datetime import UTC, datetime

    from posture.operations.schedules import add_schedule, run_schedule

    sched = add_schedule(
        api.ops, "acme", "monthly_report", day=1, at="06:00", options={"formats": ["html"]}
    )
    run = run_schedule(api.ops, sched.id, datetime(2025, 7, 1, 6, tzinfo=UTC))
    assert run is not None and run.outcome == "succeeded", run
    listed = api.get("viewer", "/api/v1/tenants/acme/reports").json()
    assert [f["period"] for f in listed] == ["2025-06"]
    assert api.get("viewer", listed[0]["url"]).status_code == 200
    # the other tenant's customer finds neither the list nor the file
    assert api.get("beta_viewer", "/api/v1/tenants/acme/reports").status_code == 404
    name = listed[0]["name"]
    assert api.get("beta_viewer", f"/api/v1/tenants/beta/reports/{name}").status_code == 404
    assert api.get("beta_viewer", listed[0]["url"]).status_code == 404
