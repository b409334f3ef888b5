"""Waivers: scope matching, validation, expiry in the tenant's time zone, revocation, and
their effect on findings and history (SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import col, select

from posture.catalog import Catalog
from posture.errors import ConfigurationError, UsageError
from posture.operations import FindingQuery, Operations
from posture.operations.exports import finding_record
from posture.operations.findings import query_findings
from posture.operations.history import findings_at, period_counts, read_month_history
from posture.operations.waivers import (
    add_waiver,
    apply_waivers,
    expiring_waivers,
    list_waivers,
    revoke_waiver,
)
from posture.store import Finding, FindingEvent, Store
from posture.waivers import covers

from .conftest import ENCRYPTION, ROOT_MFA, VERSIONING
from .estate import ACCOUNT, LOGS, SCRATCH, Estate, account, bucket

JAN = datetime(2026, 1, 10, tzinfo=UTC)
WHO = {"reason": "compensating control", "requested_by": "sato", "approved_by": "ciso"}


@dataclass
class Scope:
    id: str = "w"
    policy: str = ""
    resource: str = ""
    tag_key: str = ""
    tag_value: str = ""
    connection_id: str | None = None
    whole_tenant: bool = False
    expires_at: datetime = datetime(2100, 1, 1, tzinfo=UTC)
    revoked_at: datetime | None = None


FINDING = {
    "policy_id": "aws.s3.bucket_versioning_enabled",
    "resource_uid": "arn:aws:s3:::logs-2026",
    "tags": {"env": "dev", "owner": "ops"},
    "connection_id": "c1",
}


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (Scope(policy="aws.s3.bucket_versioning_enabled"), True),
        (Scope(policy="aws.s3.bucket_versioning"), False),  # not a whole part
        (Scope(policy="aws.s3"), True),  # an id prefix of whole parts
        (Scope(policy="aws.s3.*versioning*"), True),
        (Scope(policy="aws.iam.*"), False),
        (Scope(resource="arn:aws:s3:::logs-*"), True),
        (Scope(resource="arn:aws:s3:::data-*"), False),
        (Scope(resource="arn:aws:s3:::logs"), False),  # a pattern matches the whole uid
        (Scope(tag_key="env", tag_value="dev"), True),
        (Scope(tag_key="env", tag_value="prod"), False),
        (Scope(tag_key="team", tag_value=""), False),
        (Scope(connection_id="c1"), True),
        (Scope(connection_id="c2"), False),
        (Scope(whole_tenant=True), True),
        (Scope(policy="aws.s3.*", tag_key="env", tag_value="dev", connection_id="c1"), True),
        (Scope(policy="aws.s3.*", tag_key="env", tag_value="dev", connection_id="c2"), False),
        (Scope(), False),  # an empty scope covers nothing
    ],
)
def test_scope_matching(scope: Scope, expected: bool) -> None:
    assert covers(scope, **FINDING) is expected  # type: ignore[arg-type]


def states(store: Store) -> dict[tuple[str, str], str]:
    with store.session() as session:
        return {(f.policy_id, f.resource_uid): f.state for f in session.exec(select(Finding))}


def kinds(store: Store, fid: str) -> list[str]:
    with store.session() as session:
        return list(
            session.exec(
                select(FindingEvent.kind)
                .where(FindingEvent.finding_id == fid)
                .order_by(col(FindingEvent.at), col(FindingEvent.id))
            )
        )


@pytest.fixture
def estate(store: Store, catalog: Catalog) -> Estate:
    e = Estate(store, catalog)
    e.scan(
        JAN,
        [bucket(LOGS), bucket(SCRATCH, {"env": "dev"}), account()],
        [(VERSIONING, LOGS), (ENCRYPTION, LOGS), (VERSIONING, SCRATCH), (ROOT_MFA, ACCOUNT)],
    )
    return e


def test_waiver_waives_at_once_and_is_reported_apart(
    ops: Operations, store: Store, estate: Estate
) -> None:
    info = add_waiver(
        ops, "acme", policy=ENCRYPTION, expires="2026-01-31", now=JAN + timedelta(hours=1), **WHO
    )
    assert info.changes.waived == 1 and info.findings == 1 and info.status == "active"
    assert info.scope == f"policy={ENCRYPTION}"
    assert states(store)[(ENCRYPTION, LOGS)] == "waived"
    waived = query_findings(ops, FindingQuery(status="waived"))
    assert [(r.policy_id, r.status, r.waiver_id) for r in waived] == [
        (ENCRYPTION, "waived", info.id)
    ]
    assert finding_record(waived[0])["waiver_id"] == info.id
    assert ENCRYPTION not in {r.policy_id for r in query_findings(ops, FindingQuery())}
    assert len(query_findings(ops, FindingQuery(status="all"))) == 4
    # a rescan keeps it waived and records nothing new
    _, stats = estate.scan(
        JAN + timedelta(days=1),
        [bucket(LOGS), bucket(SCRATCH, {"env": "dev"}), account()],
        [(VERSIONING, LOGS), (ENCRYPTION, LOGS), (VERSIONING, SCRATCH), (ROOT_MFA, ACCOUNT)],
    )
    assert stats.waived == 0 and stats.lapsed == 0 and stats.still_open == 4
    assert kinds(store, estate.fid(ENCRYPTION, LOGS)) == ["opened", "waived"]


def test_expiry_is_the_end_of_the_day_in_the_tenant_zone(
    ops: Operations, store: Store, estate: Estate
) -> None:
    info = add_waiver(ops, "acme", policy=ENCRYPTION, expires=date(2026, 1, 31), now=JAN, **WHO)
    # 1 February 00:00 in Tokyo
    assert info.expires_at == datetime(2026, 1, 31, 15, tzinfo=UTC)
    before = datetime(2026, 1, 31, 14, 59, tzinfo=UTC)
    assert apply_waivers(ops, "acme", now=before).lapsed == 0
    assert [w.id for w in expiring_waivers(ops, "acme", now=before)] == [info.id]
    assert expiring_waivers(ops, "acme", now=before - timedelta(days=31)) == []
    changes = apply_waivers(ops, "acme", now=info.expires_at)
    assert changes.lapsed == 1 and changes.unwaived == 0
    assert states(store)[(ENCRYPTION, LOGS)] == "open"
    assert kinds(store, estate.fid(ENCRYPTION, LOGS)) == ["opened", "waived", "waiver_lapsed"]
    assert list_waivers(ops, "acme", now=info.expires_at) == []
    (expired,) = list_waivers(ops, "acme", status="expired", now=info.expires_at)
    assert expired.id == info.id and expired.findings == 0


def test_an_expired_waiver_lapses_at_the_next_scan(
    ops: Operations, store: Store, estate: Estate
) -> None:
    add_waiver(ops, "acme", resource="arn:aws:s3:::log*", expires="2026-01-20", now=JAN, **WHO)
    assert states(store)[(VERSIONING, LOGS)] == "waived"
    assert states(store)[(ENCRYPTION, LOGS)] == "waived"
    _, stats = estate.scan(
        datetime(2026, 2, 1, tzinfo=UTC),
        [bucket(LOGS), account()],
        [(VERSIONING, LOGS), (ENCRYPTION, LOGS), (ROOT_MFA, ACCOUNT)],
    )
    assert stats.lapsed == 2
    assert states(store)[(VERSIONING, LOGS)] == "open"
    # the history shows January's end as waived and February's as open
    january = {
        s.policy_id: s for s in findings_at(ops, "acme", "2026-01") if s.resource_uid == LOGS
    }
    assert january[VERSIONING].status == "waived" and january[VERSIONING].waiver_id
    assert january[VERSIONING].open_since == JAN
    february = [s for s in findings_at(ops, "acme", "2026-02") if s.resource_uid == LOGS]
    assert {s.status for s in february} == {"open"}
    assert period_counts(ops, "acme", "2026-01").waived == 2
    assert period_counts(ops, "acme", "2026-02").lapsed == 2


def test_revoke_returns_findings_to_open(ops: Operations, store: Store, estate: Estate) -> None:
    info = add_waiver(ops, "acme", tag="env=dev", expires="2026-06-30", now=JAN, **WHO)
    assert info.tag == "env=dev" and info.changes.waived == 1
    assert states(store)[(VERSIONING, SCRATCH)] == "waived"
    revoked = revoke_waiver(
        ops, info.id[:8], tenant="acme", revoked_by="ciso", reason="bucket is now in use",
        now=JAN + timedelta(days=2),
    )  # fmt: skip
    assert revoked.status == "revoked" and revoked.changes.unwaived == 1
    assert revoked.revoked_by == "ciso"
    assert states(store)[(VERSIONING, SCRATCH)] == "open"
    assert kinds(store, estate.fid(VERSIONING, SCRATCH)) == ["opened", "waived", "unwaived"]
    with pytest.raises(UsageError, match="already revoked"):
        revoke_waiver(ops, info.id, tenant="acme", revoked_by="ciso")
    with pytest.raises(ConfigurationError, match="no waiver"):
        revoke_waiver(ops, "ffff", tenant="acme", revoked_by="ciso")
    assert [w.id for w in list_waivers(ops, "acme", status="revoked")] == [info.id]


def test_new_findings_under_a_waiver_and_resolution(
    ops: Operations, store: Store, estate: Estate
) -> None:
    waiver = add_waiver(ops, "acme", connection="prod", policy="aws.s3", expires="2026-12-31",
                        now=JAN, **WHO)  # fmt: skip
    assert waiver.connection == "prod" and waiver.changes.waived == 3
    # a new bucket fails on the connection: opened and waived in the same scan
    fresh = "arn:aws:s3:::fresh"
    _, stats = estate.scan(
        JAN + timedelta(days=3),
        [bucket(LOGS), bucket(fresh), account()],
        [(ENCRYPTION, LOGS), (VERSIONING, fresh), (ROOT_MFA, ACCOUNT)],
    )
    assert stats.new == 1 and stats.waived == 1
    assert kinds(store, estate.fid(VERSIONING, fresh)) == ["opened", "waived"]
    # a waived finding that passes is resolved like any other, and leaves its waiver
    assert states(store)[(VERSIONING, LOGS)] == "resolved"
    with store.session() as session:
        resolved = session.get(Finding, estate.fid(VERSIONING, LOGS))
        assert resolved is not None and resolved.waiver_id == ""
    assert states(store)[(ROOT_MFA, ACCOUNT)] == "open"  # not an s3 policy
    # the dev connection's findings are outside the waiver
    dev_bucket = "arn:aws:s3:::dev-only"
    _, stats = estate.scan(
        JAN + timedelta(days=3), [bucket(dev_bucket)], [(VERSIONING, dev_bucket)],
        connection=estate.dev,
    )  # fmt: skip
    assert stats.new == 1 and stats.waived == 0
    assert states(store)[(VERSIONING, dev_bucket)] == "open"


def test_whole_tenant_and_custom_maximum(ops: Operations, store: Store, estate: Estate) -> None:
    with store.session() as session:
        from posture.store import Tenant

        tenant = session.get(Tenant, estate.tenant.id)
        assert tenant is not None
        tenant.options = {"waiver_max_days": 30}
        session.add(tenant)
    with pytest.raises(UsageError, match="more than 30 days"):
        add_waiver(ops, "acme", whole_tenant=True, expires="2026-03-01", now=JAN, **WHO)
    info = add_waiver(ops, "acme", whole_tenant=True, expires="2026-02-09", now=JAN, **WHO)
    assert info.scope == "tenant" and info.changes.waived == 4
    assert set(states(store).values()) == {"waived"}


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, UsageError, "needs a scope"),
        ({"whole_tenant": True, "policy": ENCRYPTION}, UsageError, "no other scope"),
        ({"policy": ENCRYPTION, "expires": "2026-01-09"}, UsageError, "in the past"),
        ({"policy": ENCRYPTION, "expires": "2027-02-01"}, UsageError, "more than 365 days"),
        ({"policy": ENCRYPTION, "expires": "31/01/2026"}, UsageError, "YYYY-MM-DD"),
        ({"policy": "aws.s3.bucket_versionin"}, UsageError, "did you mean"),
        ({"tag": "env"}, UsageError, "KEY=VALUE"),
        ({"connection": "staging"}, ConfigurationError, "no connection 'staging'"),
        ({"policy": ENCRYPTION, "approved_by": " "}, UsageError, "approved by"),
    ],
)
def test_invalid_waivers_are_refused(
    ops: Operations, estate: Estate, kwargs: dict[str, object], error: type, message: str
) -> None:
    args: dict[str, object] = {**WHO, "expires": "2026-06-30", **kwargs}
    with pytest.raises(error, match=message):
        add_waiver(ops, "acme", now=JAN, **args)  # type: ignore[arg-type]
    assert list_waivers(ops, "acme", status="all") == []


def test_waivers_are_scoped_to_their_tenant(
    ops: Operations, store: Store, catalog: Catalog, estate: Estate
) -> None:
    other = Estate(store, catalog, "globex")
    other.scan(JAN, [bucket(LOGS)], [(VERSIONING, LOGS)])
    info = add_waiver(ops, "acme", policy=VERSIONING, expires="2026-06-30", now=JAN, **WHO)
    assert info.changes.waived == 2  # acme's two, not globex's
    assert list_waivers(ops, "globex") == []
    with pytest.raises(ConfigurationError, match="no waiver"):
        revoke_waiver(ops, info.id, tenant="globex", revoked_by="x")


def test_the_monthly_report_reads_the_recorded_history_and_waivers(
    ops: Operations, store: Store, estate: Estate, catalog: Catalog
) -> None:
    from posture.report.history_view import read_recorded, report_history
    from posture.report.period import month
    from posture.store import Tenant

    info = add_waiver(
        ops, "acme", policy=ENCRYPTION, expires="2026-02-05", now=JAN + timedelta(hours=1), **WHO
    )
    # February: the versioning of logs is fixed, the root account still fails
    estate.scan(
        datetime(2026, 2, 3, tzinfo=UTC),
        [bucket(LOGS), bucket(SCRATCH, {"env": "dev"}), account()],
        [(ENCRYPTION, LOGS), (VERSIONING, SCRATCH), (ROOT_MFA, ACCOUNT)],
    )
    with store.session() as session:
        tenant = session.get(Tenant, estate.tenant.id)
        assert tenant is not None
        jan = month("2026-01", tenant.timezone, datetime(2026, 3, 1, tzinfo=UTC))
        feb = month("2026-02", tenant.timezone, datetime(2026, 3, 1, tzinfo=UTC))
        zone_ = jan.start.tzinfo or UTC
        recorded = read_recorded(session, tenant, jan.start, jan.end, zone_, read_month_history)
        january = report_history(session, tenant, jan.start, jan.end, zone_, recorded)
        zone_ = feb.start.tzinfo or UTC
        recorded = read_recorded(session, tenant, feb.start, feb.end, zone_, read_month_history)
        february = report_history(session, tenant, feb.start, feb.end, zone_, recorded)
    assert january.counts is not None and january.counts.new == 4
    assert [w.policy_id for w in january.waivers or []] == [ENCRYPTION]
    assert (january.waivers or [])[0].findings == 1  # the encryption finding stood waived
    assert february.counts is not None and february.counts.resolved == 1
    assert [m.month for m in february.months] == ["2026-01", "2026-02"]
    assert info.id


def test_a_closed_month_is_reported_as_it_stood_at_its_end(
    ops: Operations, store: Store, estate: Estate, catalog: Catalog
) -> None:
    from posture.report.build import build_report_data
    from posture.report.period import month
    from posture.store import Tenant

    # February: the logs bucket's versioning is fixed; January's report, rendered in March,
    # still shows it open, as it was at the end of January
    estate.scan(
        datetime(2026, 2, 3, tzinfo=UTC),
        [bucket(LOGS), bucket(SCRATCH, {"env": "dev"}), account()],
        [(ENCRYPTION, LOGS), (VERSIONING, SCRATCH), (ROOT_MFA, ACCOUNT)],
    )
    march = datetime(2026, 3, 1, tzinfo=UTC)
    with store.session() as session:
        tenant = session.get(Tenant, estate.tenant.id)
        assert tenant is not None
        jan = month("2026-01", tenant.timezone, march)
        feb = month("2026-02", tenant.timezone, march)
        january = build_report_data(
            session,
            catalog,
            tenant,
            jan.start,
            jan.end,
            generated_at=march,
            history=read_month_history,
        )
        february = build_report_data(
            session,
            catalog,
            tenant,
            feb.start,
            feb.end,
            generated_at=march,
            history=read_month_history,
        )
    fixed = estate.fid(VERSIONING, LOGS)
    assert fixed in {f.finding_id for f in january.findings}
    assert fixed not in {f.finding_id for f in february.findings}
    assert fixed in {f.finding_id for f in february.resolved_in_period}
