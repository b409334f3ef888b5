"""Tenant scope: a context limited to tenant A never reaches tenant B, whatever slug or id
it is given (SQLite and PostgreSQL), and on PostgreSQL row-level security holds even for
raw SQL that bypasses the operations layer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from posture.catalog import Catalog
from posture.errors import ConfigurationError, PostureError, UsageError
from posture.operations import FindingQuery, Operations, ResultQuery
from posture.operations.audit import AuditQuery, list_audit, verify_audit
from posture.operations.connections import list_connections
from posture.operations.exports import export_findings
from posture.operations.findings import open_by_severity, query_findings
from posture.operations.history import finding_events, period_counts
from posture.operations.notifications import add_channel, list_channels, send_test
from posture.operations.reports import generate_report
from posture.operations.results import query_results
from posture.operations.scans import list_scans, resolve_scan_id, show_scan
from posture.operations.schedules import (
    add_schedule,
    list_runs,
    list_schedules,
    remove_schedule,
    set_schedule_enabled,
)
from posture.operations.tenants import list_tenants, pause_tenant, show_tenant
from posture.operations.usage import tenant_usage
from posture.operations.waivers import add_waiver, list_waivers, revoke_waiver
from posture.store import Finding, ScanTarget, Store, Tenant, Waiver

from .conftest import VERSIONING
from .estate import LOGS, Estate, bucket

JAN = datetime(2026, 1, 10, tzinfo=UTC)
NOW = datetime(2026, 1, 20, tzinfo=UTC)
WHO = {"reason": "compensating control", "requested_by": "sato", "approved_by": "ciso"}


@dataclass
class Pair:
    """Tenants acme (in scope) and beta (outside it), each scanned once with a waiver,
    a schedule and a notification channel."""

    store: Store
    acme: Estate
    beta: Estate
    scans: dict[str, str]
    waivers: dict[str, str]
    schedules: dict[str, str]
    full: Operations
    scoped: Operations

    def finding(self, estate: Estate) -> str:
        return estate.fid(VERSIONING, LOGS)


@pytest.fixture
def pair(store: Store, catalog: Catalog) -> Pair:
    full = Operations.using(store, catalog)
    estates = {slug: Estate(store, catalog, slug) for slug in ("acme", "beta")}
    scans, waivers, schedules = {}, {}, {}
    for slug, estate in estates.items():
        scans[slug], _ = estate.scan(JAN, [bucket(LOGS)], [(VERSIONING, LOGS)])
        with store.session() as session:
            session.add(
                ScanTarget(scan_id=scans[slug], connection_id=estate.prod.id, status="succeeded")
            )
        waiver = add_waiver(full, slug, policy=VERSIONING, expires="2026-03-01", now=NOW, **WHO)
        waivers[slug] = waiver.id
        schedules[slug] = add_schedule(full, slug, "scan", cron="0 3 * * *", now=NOW).id
        add_channel(
            full,
            slug,
            f"{slug}-hook",
            "webhook",
            settings={"url": f"http://127.0.0.1:9/{slug}", "secret_env": "HOOK_SECRET"},
        )
    scoped = Operations.using(
        store, catalog, tenant_scope=frozenset({estates["acme"].tenant.id}), actor="customer"
    )
    return Pair(store, estates["acme"], estates["beta"], scans, waivers, schedules, full, scoped)


def _fails(call: Callable[[], Any]) -> PostureError:
    with pytest.raises(PostureError) as caught:
        call()
    return caught.value


def test_a_tenant_outside_the_scope_is_reported_like_an_unknown_slug(pair: Pair) -> None:
    ops = pair.scoped
    unknown = str(_fails(lambda: show_tenant(ops, "nosuch")))
    calls: list[Callable[[str], Any]] = [
        lambda s: show_tenant(ops, s),
        lambda s: list_connections(ops, s),
        lambda s: list_scans(ops, s),
        lambda s: query_findings(ops, FindingQuery(tenant=s)),
        lambda s: query_results(ops, ResultQuery(tenant=s)),
        lambda s: open_by_severity(ops, s),
        lambda s: period_counts(ops, s, "2026-01"),
        lambda s: list_waivers(ops, s),
        lambda s: add_waiver(ops, s, policy=VERSIONING, expires="2026-03-01", now=NOW, **WHO),
        lambda s: list_schedules(ops, s, now=NOW),
        lambda s: add_schedule(ops, s, "scan", cron="0 3 * * *", now=NOW),
        lambda s: list_runs(ops, s),
        lambda s: list_channels(ops, s),
        lambda s: send_test(ops, s, "beta-hook"),
        lambda s: export_findings(ops, s, fmt="csv", month_text="2026-01", now=NOW),
        lambda s: tenant_usage(ops, s, month="2026-01", now=NOW),
        lambda s: list_audit(ops, AuditQuery(tenant=s)),
        lambda s: pause_tenant(ops, s, reason="unpaid"),
        lambda s: generate_report(
            ops, s, formats=["html"], period="2026-01", out=Path("/nonexistent")
        ),
    ]
    for call in calls:
        error = _fails(lambda call=call: call("beta"))  # type: ignore[misc]
        assert isinstance(error, ConfigurationError)
        assert str(error) == unknown.replace("nosuch", "beta")
        assert "known tenants: acme\n" in str(error) + "\n"


def test_ids_of_another_tenant_find_nothing(pair: Pair) -> None:
    ops = pair.scoped
    beta_scan, beta_waiver = pair.scans["beta"], pair.waivers["beta"]
    for call in (
        lambda: show_scan(ops, beta_scan),
        lambda: resolve_scan_id(ops, beta_scan),
        lambda: revoke_waiver(ops, beta_waiver, revoked_by="x", reason="y"),
        lambda: remove_schedule(ops, pair.schedules["beta"]),
        lambda: send_test(ops, None, "beta-hook"),  # the only tenant in scope is acme
        lambda: finding_events(ops, pair.finding(pair.beta)),
        lambda: set_schedule_enabled(ops, pair.schedules["beta"], False),
        lambda: query_results(ops, ResultQuery(scan=beta_scan)),
    ):
        error = _fails(call)
        assert isinstance(error, ConfigurationError | UsageError)
        for secret in (pair.beta.tenant.id, "beta-hook", "Beta"):
            assert secret not in str(error).replace("'beta-hook'", "")
    assert list_runs(ops, schedule_id=pair.schedules["beta"]) == []
    # the same calls reach acme's own rows
    assert show_scan(ops, pair.scans["acme"]).scan.tenant == "acme"
    assert finding_events(ops, pair.finding(pair.acme))
    # beta's rows are untouched
    with pair.store.session() as session:
        waiver = session.get(Waiver, beta_waiver)
        assert waiver is not None and waiver.revoked_at is None
    assert [s.id for s in list_schedules(pair.full, "beta", now=NOW)] == [pair.schedules["beta"]]


def test_lists_across_tenants_show_only_the_scope(pair: Pair) -> None:
    ops = pair.scoped
    assert [t.slug for t in list_tenants(ops)] == ["acme"]
    assert show_tenant(ops).slug == "acme"  # the only tenant it sees needs no name
    assert [c.tenant for c in list_connections(ops)] == ["acme", "acme"]
    assert {s.tenant for s in list_schedules(ops, now=NOW)} == {"acme"}
    assert [u.tenant for u in tenant_usage(ops, month="2026-01", now=NOW)] == ["acme"]
    entries = list_audit(ops)
    assert entries and {e.tenant for e in entries} == {"acme"}
    assert {e.tenant for e in list_audit(pair.full)} >= {"acme", "beta"}
    assert isinstance(_fails(lambda: verify_audit(ops)), UsageError)
    # the ORM layer limits every query of a scoped session, also a bare one
    with ops.session() as session:
        assert {f.tenant_id for f in session.exec(select(Finding))} == {pair.acme.tenant.id}
        assert session.get(Tenant, pair.beta.tenant.id) is None


def test_an_empty_scope_sees_no_tenant(pair: Pair, catalog: Catalog) -> None:
    ops = Operations.using(pair.store, catalog, tenant_scope=frozenset())
    assert list_tenants(ops) == []
    assert "there are no tenants yet" in str(_fails(lambda: show_tenant(ops)))


# --- PostgreSQL row-level security: the second wall ------------------------------------


@pytest.fixture
def rls_store(store: Store) -> Store:
    if not store.is_postgres:
        pytest.skip("row-level security exists on PostgreSQL only")
    store.rls_role = "posture_app"
    return store


def _raw(session: Any, sql: str, **params: Any) -> list[Any]:
    return list(session.connection().execute(text(sql), params).all())


@pytest.mark.postgres
def test_raw_sql_in_a_scoped_transaction_cannot_cross_tenants(rls_store: Store, pair: Pair) -> None:
    acme, beta = pair.acme.tenant.id, pair.beta.tenant.id
    tables = ("finding", "scan", "waiver", "schedule", "notification_channel", "connection",
              "finding_event", "result", "notification", "job_run")  # fmt: skip
    with rls_store.session() as session:
        every = {t: {r[0] for r in _raw(session, f'SELECT tenant_id FROM "{t}"')} for t in tables}
    for table in tables[:7]:
        assert every[table] == {acme, beta}, table
    with rls_store.session(tenant_scope={acme}) as session:
        # the connecting role is a superuser: the session switched to the RLS role
        assert _raw(session, "SELECT current_user") == [("posture_app",)]
        assert _raw(session, "SELECT slug FROM tenant") == [("acme",)]
        for table in tables:
            owners = {row[0] for row in _raw(session, f'SELECT tenant_id FROM "{table}"')}
            assert owners == every[table] - {beta}, table
        assert _raw(session, "SELECT scan_id FROM scantarget") == [(pair.scans["acme"],)]
        # writes to beta's rows touch nothing
        changed = session.connection().execute(
            text("UPDATE finding SET state = 'resolved' WHERE tenant_id = :t"), {"t": beta}
        )
        assert changed.rowcount == 0
        deleted = session.connection().execute(
            text("DELETE FROM waiver WHERE tenant_id = :t"), {"t": beta}
        )
        assert deleted.rowcount == 0
    # a row written for beta from acme's scope is refused by the policy's WITH CHECK
    with (
        pytest.raises(DBAPIError, match="row-level security"),
        rls_store.session(tenant_scope={acme}) as session,
    ):
        session.connection().execute(
            text(
                "INSERT INTO schedule (id, tenant_id, kind, cron, timezone, options, "
                "enabled, created_at, updated_at) VALUES ('x', :t, 'scan', '0 3 * * *', "
                "'UTC', '{}', true, now(), now())"
            ),
            {"t": beta},
        )
    with (
        pytest.raises(DBAPIError, match="row-level security"),
        rls_store.session(tenant_scope={acme}) as session,
    ):
        session.connection().execute(
            text("UPDATE finding SET tenant_id = :b WHERE tenant_id = :a"),
            {"a": acme, "b": beta},
        )
    # outside a scope everything stays visible, beta's rows unchanged
    with rls_store.session() as session:
        assert _raw(session, "SELECT current_user") != [("posture_app",)]
        assert {r[0] for r in _raw(session, "SELECT slug FROM tenant")} == {"acme", "beta"}
        states = _raw(session, "SELECT state FROM finding WHERE tenant_id = :t", t=beta)
        assert states == [("waived",)]
        assert _raw(session, "SELECT count(*) FROM waiver WHERE tenant_id = :t", t=beta) == [(1,)]


@pytest.mark.postgres
def test_the_scope_setting_is_local_to_its_transaction(rls_store: Store, pair: Pair) -> None:
    with rls_store.session(tenant_scope={pair.acme.tenant.id}) as session:
        assert len(_raw(session, "SELECT id FROM tenant")) == 1
    with rls_store.session(tenant_scope=set()) as session:
        assert _raw(session, "SELECT id FROM tenant") == []
    with rls_store.session() as session:  # the same pooled connection, no scope any more
        assert len(_raw(session, "SELECT id FROM tenant")) == 2
        assert _raw(session, "SELECT current_setting('posture.tenant_scope', true)") in (
            [("",)],
            [(None,)],
        )


@pytest.mark.postgres
def test_every_tenant_table_is_forced_under_row_level_security(rls_store: Store) -> None:
    from posture.store import rls

    with rls_store.session() as session:
        rows = _raw(
            session,
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity "
            "AND relnamespace = current_schema()::regnamespace",
        )
    forced = {r[0] for r in rows}
    assert forced == {"tenant", *rls.TENANT_TABLES, *rls.CONNECTION_TABLES}


def test_every_table_with_a_tenant_id_is_scoped_in_both_walls() -> None:
    from sqlmodel import SQLModel

    from posture.store import rls, scope

    with_tenant = {t.name for t in SQLModel.metadata.sorted_tables if "tenant_id" in t.c}
    assert with_tenant == set(rls.TENANT_TABLES)
    assert {m.__table__.name for m in scope.TENANT_OWNED} == with_tenant
    assert {m.__table__.name for m in scope.CONNECTION_OWNED} == set(rls.CONNECTION_TABLES)


def test_orm_updates_and_deletes_of_a_scoped_session_skip_other_tenants(pair: Pair) -> None:
    from sqlalchemy import delete, update
    from sqlalchemy import select as core_select

    with pair.scoped.session() as session:
        changed = session.execute(update(Finding).values(severity="low"))
        assert changed.rowcount == 1  # type: ignore[attr-defined]
        gone = session.execute(delete(Waiver).where(Waiver.tenant_id == pair.beta.tenant.id))
        assert gone.rowcount == 0  # type: ignore[attr-defined]
        assert session.execute(core_select(Finding.tenant_id)).scalars().all() == [
            pair.acme.tenant.id
        ]
    with pair.full.session() as session:
        severities = dict(session.exec(select(Finding.tenant_id, Finding.severity)).all())
        assert severities[pair.acme.tenant.id] == "low"
        assert severities[pair.beta.tenant.id] != "low"
        assert session.get(Waiver, pair.waivers["beta"]) is not None


def test_a_scoped_copy_shares_the_store(pair: Pair) -> None:
    limited = pair.full.for_tenants(frozenset({pair.beta.tenant.id}))
    assert limited.store() is pair.full.store() and limited.catalog() is pair.full.catalog()
    assert [t.slug for t in list_tenants(limited)] == ["beta"]
    assert len(list_tenants(pair.full)) == 2


@pytest.mark.postgres
def test_tables_added_by_later_migrations_are_granted_to_the_rls_role(
    rls_store: Store, pair: Pair
) -> None:
    with rls_store.session() as session:
        session.connection().execute(text("CREATE TABLE later_table (id serial PRIMARY KEY)"))
    with rls_store.session(tenant_scope={pair.acme.tenant.id}) as session:
        session.connection().execute(text("INSERT INTO later_table DEFAULT VALUES"))
        assert _raw(session, "SELECT count(*) FROM later_table") == [(1,)]
