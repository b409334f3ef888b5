"""Result queries: the latest outcome of every policy on every resource, passes included.

"Latest" is decided per connection: its results come from the newest scan in which it was
collected, and a policy that scan did not run (a scan limited with ``--policy``) keeps
its result from the newest scan that did run it. A connection whose newest scan failed
outright, or that was never scanned, yields one ``error`` row naming it, so a tenant
never looks clean just because nothing was collected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from posture.catalog import Catalog
from posture.models import Severity, Status
from posture.operations.access import require
from posture.operations.context import Operations
from posture.operations.filters import PolicySelector, check_choices
from posture.operations.rows import PolicyFacts, ResultRow, Text
from posture.operations.scans import find_scan
from posture.operations.tenants import resolve_tenant
from posture.store import Connection, ResultRecord, Scan, ScanTarget

STATUSES = tuple(s.value for s in Status)
COLLECTED = ("succeeded", "partial")
# failures first: what needs attention, then what could not be judged, then the rest
ATTENTION_ORDER = ("fail", "error", "unknown", "not_applicable", "pass")
_STATUS_RANK = {status: i for i, status in enumerate(ATTENTION_ORDER)}
NOT_SCANNED = Text(en="Connection could not be scanned", ja="接続をスキャンできませんでした")
NEVER_SCANNED = Text(en="Connection not scanned yet", ja="接続はまだスキャンされていません")


@dataclass(frozen=True)
class ResultQuery:
    """Which results to list; ``scan`` (an id or a unique prefix) pins one scan."""

    tenant: str | None = None
    scan: str | None = None
    statuses: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()  # exact ids, id prefixes or globs


@dataclass
class _Pick:
    """Results of one connection in one scan, limited to some policies or all but some."""

    connection: Connection
    scan_id: str
    only: set[str] | None = None
    skip: set[str] = field(default_factory=set)

    def wants(self, policy_id: str) -> bool:
        if self.only is not None:
            return policy_id in self.only
        return policy_id not in self.skip


def query_results(ops: Operations, query: ResultQuery) -> list[ResultRow]:
    """Results of one tenant: the latest per connection, or those of one scan."""
    statuses = set(check_choices("--status", query.statuses, STATUSES))
    selector = PolicySelector.of(query.policies)
    catalog = ops.catalog()
    with ops.session() as session:
        tenant = resolve_tenant(session, query.tenant)
        require(ops, "finding.read", tenant.id)
        connections = list(
            session.exec(
                select(Connection)
                .where(Connection.tenant_id == tenant.id)
                .order_by(col(Connection.name))
            )
        )
        if query.scan:
            scan = find_scan(session, query.scan, tenant.id)
            picks, missing = _picks_of_scan(session, scan, connections)
        else:
            picks, missing = _latest_picks(session, tenant.id, connections, catalog)
        records = [
            (pick, r) for pick in picks for r in _records(session, tenant.id, pick, statuses)
        ]
    if selector:
        selector.check_known([*catalog.policies, *(r.policy_id for _, r in records)])
    facts: dict[str, PolicyFacts] = {}

    def lookup(policy_id: str) -> PolicyFacts:
        if policy_id not in facts:
            facts[policy_id] = PolicyFacts.lookup(catalog, policy_id)
        return facts[policy_id]

    rows = [
        _row(r, pick.connection.name, lookup(r.policy_id))
        for pick, r in records
        if pick.wants(r.policy_id) and selector.matches(r.policy_id)
    ]
    rows += missing
    if statuses:
        rows = [r for r in rows if r.status in statuses]
    rows.sort(key=_sort_key)
    return rows


def _latest_picks(
    session: Session, tenant_id: str, connections: list[Connection], catalog: Catalog
) -> tuple[list[_Pick], list[ResultRow]]:
    history: dict[str, list[tuple[ScanTarget, Scan]]] = {c.id: [] for c in connections}
    for target, scan in session.exec(
        select(ScanTarget, Scan)
        .join(Scan, col(ScanTarget.scan_id) == col(Scan.id))
        .where(Scan.tenant_id == tenant_id)
        .order_by(col(Scan.started_at).desc(), col(ScanTarget.finished_at).desc())
    ):
        if target.connection_id in history:
            history[target.connection_id].append((target, scan))
    picks: list[_Pick] = []
    missing: list[ResultRow] = []
    for conn in connections:
        targets = history[conn.id]
        if not targets:
            missing.append(_connection_row(conn, "", NEVER_SCANNED, "has not been scanned yet"))
            continue
        newest, scan = targets[0]
        if newest.status not in COLLECTED:
            missing.append(_failed_row(conn, newest))
            continue
        shipped = {p.id for p in catalog.policies.values() if p.provider == conn.provider}
        picks.extend(_newest_per_policy(conn, targets, shipped))
    return picks, missing


def _newest_per_policy(
    conn: Connection, targets: list[tuple[ScanTarget, Scan]], shipped: set[str]
) -> list[_Pick]:
    """Walk back through the collected scans until every policy has its newest result."""
    picks: list[_Pick] = []
    covered: set[str] = set()
    for target, scan in targets:
        if target.status not in COLLECTED:
            continue
        ran = _policies_ran(scan, conn.provider)
        if ran is None:  # a scan that did not record its policies: take whatever it has
            picks.append(_Pick(conn, scan.id, skip=set(covered)))
            break
        fresh = ran - covered
        if fresh:
            picks.append(_Pick(conn, scan.id, only=fresh))
        covered |= ran
        if shipped <= covered:
            break
    return picks


def _policies_ran(scan: Scan, provider: str) -> set[str] | None:
    ran = scan.summary.get("policies")
    if not isinstance(ran, list):
        return None
    return {str(p) for p in ran if str(p).split(".", 1)[0] == provider}


def _picks_of_scan(
    session: Session, scan: Scan, connections: list[Connection]
) -> tuple[list[_Pick], list[ResultRow]]:
    by_id = {c.id: c for c in connections}
    picks: list[_Pick] = []
    missing: list[ResultRow] = []
    for target in session.exec(select(ScanTarget).where(ScanTarget.scan_id == scan.id)):
        conn = by_id.get(target.connection_id)
        if conn is None:
            continue
        if target.status in COLLECTED:
            picks.append(_Pick(conn, scan.id))
        else:
            missing.append(_failed_row(conn, target))
    return picks, missing


def _records(
    session: Session, tenant_id: str, pick: _Pick, statuses: set[str]
) -> Iterable[ResultRecord]:
    query = select(ResultRecord).where(
        ResultRecord.tenant_id == tenant_id,
        ResultRecord.scan_id == pick.scan_id,
        ResultRecord.connection_id == pick.connection.id,
    )
    if pick.only is not None:
        query = query.where(col(ResultRecord.policy_id).in_(sorted(pick.only)))
    if statuses:
        query = query.where(col(ResultRecord.status).in_(sorted(statuses)))
    return session.exec(query)


def _row(record: ResultRecord, connection: str, facts: PolicyFacts) -> ResultRow:
    failed = record.status == Status.FAIL.value
    return ResultRow(
        policy_id=record.policy_id,
        status=record.status,
        reason=record.reason,
        statement=Text.of(record.statement) if failed else Text(),
        resource_uid=record.resource_uid,
        resource_name=record.resource_name,
        resource_type=record.resource_type,
        connection=connection,
        region=record.region,
        frameworks=facts.frameworks,
        severity=facts.severity,
        title=facts.title,
        scan_id=record.scan_id,
        evidence=list(record.evidence),
    )


def _failed_row(conn: Connection, target: ScanTarget) -> ResultRow:
    message = target.message or "the scan of this connection failed"
    return _connection_row(conn, target.scan_id, NOT_SCANNED, f"could not be scanned: {message}")


def _connection_row(conn: Connection, scan_id: str, title: Text, what: str) -> ResultRow:
    """A row that stands for every policy of a connection that has no results."""
    return ResultRow(
        policy_id="",
        status=Status.ERROR.value,
        reason=f"connection '{conn.name}' {what}",
        statement=Text(),
        resource_uid="",
        resource_name=conn.name,
        resource_type="",
        connection=conn.name,
        region="",
        frameworks={},
        severity="",
        title=title,
        scan_id=scan_id,
        evidence=[],
    )


def _sort_key(row: ResultRow) -> tuple[int, int, str, str, str]:
    try:
        rank = Severity(row.severity).rank
    except ValueError:
        rank = -1
    return (
        _STATUS_RANK.get(row.status, len(_STATUS_RANK)),
        -rank,
        row.policy_id,
        row.connection,
        row.resource_uid,
    )
