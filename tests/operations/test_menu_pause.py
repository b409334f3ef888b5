"""The service menu (plan, options, connection limit) and pausing a tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from posture.catalog import Catalog
from posture.errors import ConfigurationError, OptionNotSubscribed, TenantPaused, UsageError
from posture.operations import FindingQuery, Operations
from posture.operations.audit import AuditQuery, list_audit
from posture.operations.connections import add_connection
from posture.operations.findings import query_findings
from posture.operations.menu import require_option, show_menu, tenant_menu
from posture.operations.notifications import add_channel, deliver_queued, send_test
from posture.operations.reports import generate_report
from posture.operations.scans import scan_tenant, tenants_to_scan
from posture.operations.schedules import add_schedule, run_schedule
from posture.operations.tenants import (
    add_tenant,
    list_tenants,
    pause_tenant,
    resume_tenant,
    set_option,
    show_tenant,
)
from posture.operations.usage import tenant_usage
from posture.store import Notification, NotificationChannel, Store, Tenant

from .conftest import VERSIONING
from .estate import LOGS, Estate, bucket

JAN = datetime(2026, 1, 10, tzinfo=UTC)
AWS = {"regions": ["us-east-1"]}


def _tenant(store: Store, slug: str = "acme") -> Tenant:
    with store.session() as session:
        tenant = session.exec(select(Tenant).where(Tenant.slug == slug)).one()
        session.expunge(tenant)
        return tenant


def test_a_tenant_without_a_plan_has_every_option_and_no_limit(ops: Operations) -> None:
    add_tenant(ops, "acme", name="Acme")
    menu = show_menu(ops, "acme")
    assert (menu.plan, menu.connection_limit, menu.over_limit) == ("sspm+cspm", None, 0)
    assert menu.options() == {
        "sspm": True,
        "cspm": True,
        "vulnerability_view": True,
        "setting_repair": False,  # bought explicitly only
    }


def test_the_plan_gates_which_providers_may_be_connected(ops: Operations) -> None:
    add_tenant(ops, "acme", name="Acme", options={"plan": "cspm"})
    add_connection(ops, "acme", "prod", "aws", AWS)
    with pytest.raises(OptionNotSubscribed) as refused:
        add_connection(ops, "acme", "m365", "m365", {"tenant_id": "x"})
    assert refused.value.option == "sspm" and refused.value.code == "option_not_subscribed"
    assert "'sspm'" in str(refused.value) and "m365" in str(refused.value)
    assert "posture tenant set-option acme plan=sspm+cspm" in str(refused.value)
    set_option(ops, "acme", "plan", "sspm+cspm")
    assert show_menu(ops, "acme").sspm


def test_a_scan_of_a_provider_outside_the_plan_is_refused(
    ops: Operations, store: Store, catalog: Catalog
) -> None:
    Estate(store, catalog)  # connections prod and dev, both aws
    set_option(ops, "acme", "plan", "sspm")
    for named in ((), ("prod",)):
        with pytest.raises(OptionNotSubscribed) as refused:
            scan_tenant(ops, "acme", connections=named, notify=False)
        assert refused.value.option == "cspm"
        assert "aws connections need (plan: sspm)" in str(refused.value)


def test_connections_beyond_the_plan_warn_and_show_in_usage(ops: Operations) -> None:
    add_tenant(ops, "acme", name="Acme", options={"max_connections": 1, "extra_connections": 1})
    assert add_connection(ops, "acme", "one", "aws", AWS).warning == ""
    assert add_connection(ops, "acme", "two", "aws", AWS).warning == ""
    third = add_connection(ops, "acme", "three", "aws", AWS)
    assert "has 2 connection(s) and its plan includes 2" in third.warning
    menu = show_menu(ops, "acme")
    assert (menu.connections, menu.connection_limit, menu.over_limit) == (3, 2, 1)
    (usage,) = tenant_usage(ops, "acme")
    assert (usage.connection_limit, usage.connections_over_limit) == (2, 1)
    entry = list_audit(ops, AuditQuery(actions=("connection.add",)))[-1]
    assert entry.target == "three" and "beyond the plan" in entry.details["warning"]


def test_strict_limits_refuse_a_connection_beyond_the_plan(ops: Operations) -> None:
    add_tenant(ops, "acme", name="Acme", options={"max_connections": 1, "strict_limits": True})
    add_connection(ops, "acme", "one", "aws", AWS)
    with pytest.raises(ConfigurationError, match="no more can be added"):
        add_connection(ops, "acme", "two", "aws", AWS)
    assert show_menu(ops, "acme").connections == 1


def test_setting_repair_is_bought_through_its_enabled_key(ops: Operations, store: Store) -> None:
    add_tenant(ops, "acme", name="Acme", options={"setting_repair": {"allowed": ["aws.s3"]}})
    with pytest.raises(OptionNotSubscribed, match="'setting_repair'") as refused:
        require_option(_tenant(store), "setting_repair")
    assert "setting_repair.enabled=true" in str(refused.value)
    info = set_option(ops, "acme", "setting_repair.enabled", True)
    assert info.options["setting_repair"] == {"allowed": ["aws.s3"], "enabled": True}
    require_option(_tenant(store), "setting_repair")
    assert tenant_menu(_tenant(store), connections=0).setting_repair
    set_option(ops, "acme", "setting_repair.enabled", None)  # removed again
    assert not show_menu(ops, "acme").setting_repair
    entries = list_audit(ops, AuditQuery(actions=("tenant.set_option",)))
    assert [e.target for e in entries] == ["setting_repair.enabled"] * 2


def test_invalid_menu_settings_are_refused(ops: Operations, store: Store) -> None:
    add_tenant(ops, "acme", name="Acme")
    with pytest.raises(UsageError, match="invalid plan 'gold'"):
        set_option(ops, "acme", "plan", "gold")
    with pytest.raises(UsageError, match="invalid option name"):
        set_option(ops, "acme", "report..dir", "x")
    with pytest.raises(UsageError, match="unknown option 'nope'"):
        require_option(_tenant(store), "nope")


# --- pause and resume ------------------------------------------------------------------


@pytest.fixture
def paused(ops: Operations, store: Store, catalog: Catalog) -> Estate:
    estate = Estate(store, catalog)
    scan_id, _ = estate.scan(JAN, [bucket(LOGS)], [(VERSIONING, LOGS)])
    channel = add_channel(
        ops,
        "acme",
        "hook",
        "webhook",
        settings={"url": "http://127.0.0.1:9/h", "secret_env": "HOOK_SECRET"},
        min_severity="low",
    )
    with store.session() as session:  # a finding announced before the pause, not yet sent
        channel_id = session.exec(
            select(NotificationChannel.id).where(NotificationChannel.name == channel.name)
        ).one()
        session.add(
            Notification(
                tenant_id=estate.tenant.id,
                channel_id=channel_id,
                finding_id=estate.fid(VERSIONING, LOGS),
                scan_id=scan_id,
                event="opened",
                severity="high",
            )
        )
    info = pause_tenant(ops, "acme", reason="invoice unpaid")
    assert info.paused and info.paused_reason == "invoice unpaid"
    return estate


def test_a_paused_tenant_is_not_scanned(ops: Operations, paused: Estate) -> None:
    with pytest.raises(TenantPaused) as refused:
        scan_tenant(ops, "acme", notify=False)
    message = str(refused.value)
    assert message.startswith("tenant acme is paused since ")
    assert ": invoice unpaid" in message and "posture tenant resume acme" in message
    assert refused.value.code == "tenant_paused"
    assert tenants_to_scan(ops, None) == []  # every tenant: the paused ones are left out
    assert tenants_to_scan(ops, "acme") == ["acme"]  # named: the scan itself refuses


def test_a_paused_tenant_s_scheduled_jobs_are_refused(ops: Operations, paused: Estate) -> None:
    scan = add_schedule(ops, "acme", "scan", cron="0 3 * * *", now=JAN)
    report = add_schedule(ops, "acme", "monthly-report", day=1, at="09:00", now=JAN)
    for schedule in (scan, report):
        run = run_schedule(ops, schedule.id, datetime(2026, 2, 1, tzinfo=UTC), runner="test")
        assert run is not None
        assert run.outcome == "paused" and "tenant acme is paused since" in run.error


def test_a_paused_tenant_is_not_notified(ops: Operations, store: Store, paused: Estate) -> None:
    with pytest.raises(TenantPaused):
        send_test(ops, "acme", "hook")
    with pytest.raises(TenantPaused):
        deliver_queued(ops, "acme")
    # delivering every tenant's queue leaves the paused tenant's notification waiting
    summary = deliver_queued(ops)
    assert (summary.sent, summary.failed) == (0, 0)
    with store.session() as session:
        (note,) = session.exec(select(Notification))
        assert (note.state, note.attempts) == ("queued", 0)


def test_a_paused_tenant_s_history_and_reports_stay_available(
    ops: Operations, paused: Estate, tmp_path: Path
) -> None:
    assert [r.policy_id for r in query_findings(ops, FindingQuery(tenant="acme"))] == [VERSIONING]
    report = generate_report(ops, "acme", formats=["html"], period="2026-01", out=tmp_path)
    assert all(p.exists() for p in report.paths)
    (shown,) = list_tenants(ops)
    assert shown.paused and shown.paused_by and shown.paused_at is not None


def test_pause_and_resume_are_audited_and_checked(ops: Operations, paused: Estate) -> None:
    with pytest.raises(ConfigurationError, match=r"already paused since .*: invoice unpaid"):
        pause_tenant(ops, "acme", reason="again")
    resumed = resume_tenant(ops, "acme")
    assert not resumed.paused and resumed.paused_reason == ""
    assert not show_tenant(ops, "acme").paused
    with pytest.raises(ConfigurationError, match="is not paused"):
        resume_tenant(ops, "acme")
    with pytest.raises(UsageError, match="needs a reason"):
        pause_tenant(ops, "acme", reason=" ")
    assert tenants_to_scan(ops, None) == ["acme"]
    entries = list_audit(ops, AuditQuery(tenant="acme", actions=("tenant.pause", "tenant.resume")))
    assert [e.action for e in entries] == ["tenant.pause", "tenant.resume"]
    assert entries[0].details == {"reason": "invoice unpaid"}
    assert entries[1].details["reason"] == "invoice unpaid"
