"""Schedules, notification channels, the audit log and users through the console."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from posture.catalog import Catalog
from posture.operations import Operations
from posture.store import Store
from tests.web.console_support import ADMIN, CUSTOMER_ADMIN, VIEWER, form_token, login

EN = {"accept-language": "en"}


def test_schedule_add_and_remove(client: TestClient) -> None:
    token = login(client, ADMIN)
    added = client.post(
        "/t/acme/schedules", data={"kind": "scan", "cron": "0 3 * * *", "csrf_token": token}
    )
    assert added.status_code == 200
    ids = re.findall(r'action="/t/acme/schedules/([^/"]+)/remove"', added.text)
    assert len(ids) == 1 and "0 3 * * *" in added.text
    bad = client.post(
        "/t/acme/schedules", data={"kind": "scan", "cron": "not a cron", "csrf_token": token}
    )
    assert bad.status_code == 400
    removed = client.post(f"/t/acme/schedules/{ids[0]}/remove", data={"csrf_token": token})
    assert re.findall(r'/schedules/([^/"]+)/remove', removed.text) == []


def test_channel_add_test_and_remove(client: TestClient) -> None:
    token = login(client, CUSTOMER_ADMIN)
    added = client.post(
        "/t/acme/channels",
        data={"name": "soc", "kind": "slack", "target": "SOC_SLACK_URL", "csrf_token": token},
    )
    assert added.status_code == 200 and "$SOC_SLACK_URL" in added.text
    tested = client.post("/t/acme/channels/soc/test", data={"csrf_token": token})
    assert tested.status_code == 200
    assert "SOC_SLACK_URL" in tested.text  # the variable is not set: the failure names it
    removed = client.post("/t/acme/channels/soc/remove", data={"csrf_token": token})
    assert "$SOC_SLACK_URL" not in removed.text


def test_viewer_has_no_admin_pages(client: TestClient) -> None:
    login(client, VIEWER)
    for url in ("/t/beta/schedules", "/t/beta/channels", "/audit", "/users"):
        assert client.get(url).status_code == 403, url


def test_audit_log_filter_and_export(client: TestClient) -> None:
    token = login(client, ADMIN)
    client.post(
        "/t/acme/schedules", data={"kind": "scan", "cron": "0 4 * * *", "csrf_token": token}
    )
    page = client.get("/audit?action=schedule", headers=EN)
    assert page.status_code == 200
    assert "schedule.add" in page.text and "user.add" not in page.text
    export = client.get("/audit/export.csv?action=schedule")
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    assert "schedule.add" in export.text and "user.add" not in export.text
    assert client.get("/audit?since=yesterday").status_code == 400


def test_the_audit_log_is_read_a_page_at_a_time(
    client: TestClient, console_store: Store, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    import posture.web.console.admin as admin
    from posture.operations.audit import record

    monkeypatch.setattr(admin, "AUDIT_PAGE", 4)
    ops = Operations.using(console_store, catalog)
    for i in range(6):
        record(ops, "tenant.note", tenant="acme", target=f"note-{i}")
    login(client, ADMIN)
    first = client.get("/audit?action=tenant.note", headers=EN)
    assert "note-5" in first.text and "note-1" not in first.text
    assert 'rel="next"' in first.text and "page=2" in first.text
    second = client.get("/audit?action=tenant.note&page=2", headers=EN)
    assert "note-1" in second.text and "note-0" in second.text and "note-5" not in second.text
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text


def test_customer_admin_adds_a_viewer_of_its_own_tenant_only(client: TestClient) -> None:
    token = login(client, CUSTOMER_ADMIN)
    users = client.get("/users")
    assert ADMIN not in users.text  # provider users are not listed to a customer
    created = client.post(
        "/users",
        data={
            "username": "newviewer",
            "role": "customer_viewer",
            "tenant": "acme",
            "csrf_token": token,
        },
    )
    assert created.status_code == 200
    assert re.search(r'<code class="secret">[^<]+</code>', created.text)
    other = client.post(
        "/users",
        data={
            "username": "intruder",
            "role": "customer_viewer",
            "tenant": "beta",
            "csrf_token": form_token(created.text),
        },
    )
    assert other.status_code == 404
    assert "intruder" not in client.get("/users").text


def test_operations_page_shows_workers_and_queues_to_provider_operators(
    client: TestClient, console_store: object
) -> None:
    from posture.operations import Operations
    from posture.operations.service import WorkerBeat, record_heartbeat
    from posture.store import Store

    assert isinstance(console_store, Store)
    beat = WorkerBeat("scan-1@host-a", 4242, ["posture.scan"], 2, running=1, processed=7)
    record_heartbeat(Operations.using(console_store), beat)
    login(client, ADMIN)
    page = client.get("/service", headers=EN)
    assert page.status_code == 200
    assert "scan-1@host-a" in page.text and "posture.scan" in page.text
    assert 'href="/service"' in page.text  # in the navigation


def test_operations_page_is_refused_to_customers(client: TestClient) -> None:
    login(client, VIEWER)
    page = client.get("/service", headers=EN)
    assert page.status_code == 403
    assert 'href="/service"' not in client.get("/tenants", headers=EN).text
