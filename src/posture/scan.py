"""One scan = collect -> evaluate -> reconcile, for each connection of a tenant.

Each connection is written in one transaction after its collection and evaluation: a
scan stopped half way leaves the connections already done complete and the others
untouched; running it again creates no duplicates (findings have stable ids).

Whatever goes wrong with one connection (credentials, endpoint, an unexpected error while
collecting, evaluating or writing) becomes that connection's ``failed`` outcome with a
reason code; the others are still scanned, and the scan is always finished.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from posture.catalog import Catalog, Policy
from posture.catalog.spec import ResourceSpec
from posture.connectors.inventory import GLOBAL, Inventory, collection_scope
from posture.connectors.registry import collector
from posture.engine import evaluate
from posture.errors import (
    ConfigurationError,
    ConnectionFailure,
    PostureError,
    failure_reason,
)
from posture.lifecycle import ReconcileStats, open_counts, reconcile
from posture.models import Result, Status
from posture.store import (
    Connection,
    ResourceRecord,
    ResultRecord,
    Scan,
    ScanResource,
    ScanTarget,
    Store,
    Tenant,
)
from posture.store.types import utcnow

ProgressFactory = Callable[[str, int], Callable[[str, str, int], None]]
log = logging.getLogger(__name__)


@dataclass
class TargetOutcome:
    connection: str
    status: str  # succeeded | partial | failed
    message: str = ""
    reason: str = ""  # a ConnectionReason code when failed
    resources: int = 0
    api_calls: int = 0
    policies: list[str] = field(default_factory=list)
    errored: list[str] = field(default_factory=list)  # policies whose data could not be collected
    unknown: list[str] = field(default_factory=list)  # policies that met facts they cannot see
    results: Counter[str] = field(default_factory=Counter)
    lifecycle: ReconcileStats = field(default_factory=ReconcileStats)
    failures: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per stage


@dataclass
class ScanOutcome:
    scan_id: str
    tenant: str
    status: str
    targets: list[TargetOutcome]
    open_by_severity: dict[str, int]
    seconds: float


def _start(
    store: Store, tenant_slug: str, names: Sequence[str] | None, now: datetime | None = None
) -> tuple[Tenant, list[Connection], Scan]:
    with store.session() as session:
        tenant = session.exec(select(Tenant).where(Tenant.slug == tenant_slug)).first()
        if tenant is None:
            raise ConfigurationError(f"unknown tenant '{tenant_slug}'")
        query = (
            select(Connection)
            .where(Connection.tenant_id == tenant.id)
            .order_by(col(Connection.name))
        )
        connections = list(session.exec(query))
        if names:
            unknown = sorted(set(names) - {c.name for c in connections})
            if unknown:
                raise ConfigurationError(
                    f"tenant '{tenant_slug}' has no connection named '{unknown[0]}'"
                )
            connections = [c for c in connections if c.name in names]
        if not connections:
            raise ConfigurationError(
                f"tenant '{tenant_slug}' has no connections to scan",
                hint="add one with: posture connection add aws --tenant SLUG --name NAME",
            )
        for stale in session.exec(
            select(Scan).where(Scan.tenant_id == tenant.id, Scan.status == "running")
        ):
            stale.status = "interrupted"
            stale.message = "the scan process stopped before finishing"
            session.add(stale)
        scan = Scan(tenant_id=tenant.id, started_at=now or utcnow())
        session.add(scan)
    return tenant, connections, scan


def run_scan(
    store: Store,
    catalog: Catalog,
    tenant_slug: str,
    *,
    connections: Sequence[str] | None = None,
    policy_ids: Sequence[str] | None = None,
    now: datetime | None = None,
    progress: ProgressFactory | None = None,
    fixed: Container[str] = frozenset(),
) -> ScanOutcome:
    """Scan every (or the named) connection of a tenant and record the outcome.

    ``fixed``: finding ids a fix run changed (the scan verifies it); they resolve as fixed.
    """
    started = time.monotonic()
    tenant, targets, scan = _start(store, tenant_slug, connections, now)
    outcomes: list[TargetOutcome] = []
    try:
        for connection in targets:
            try:
                policies = catalog.select(provider=connection.provider, ids=policy_ids)
                specs = [catalog.specs[t] for t in _needed_types(catalog, policies)]
                callback = (
                    progress(connection.name, _scope_count(specs, connection)) if progress else None
                )
                outcome = _scan_connection(
                    store, tenant, connection, scan.id, policies, specs, now, callback, fixed
                )
            except Exception as exc:  # choosing its policies failed: still one connection's fate
                outcome = _fail_target(store, connection, scan.id, exc, 0.0)
            outcomes.append(outcome)
        return _finish(store, tenant, scan.id, outcomes, time.monotonic() - started, now)
    except BaseException as exc:  # interrupted, or the store failed: never leave it running
        _abandon(store, scan.id, outcomes, exc)
        raise


def _needed_types(catalog: Catalog, policies: Sequence[Policy]) -> list[str]:
    """Resource types the policies read, plus what aggregates and enrichers read."""
    needed = {p.resource for p in policies}
    pending = list(needed)
    while pending:
        spec = catalog.specs[pending.pop()]
        sources = set(spec.sources)
        if spec.provider == "m365" and spec.enrich:
            from posture.connectors.m365.enrich import enrich_sources

            sources |= enrich_sources(spec.enrich)
        for source in sources - needed:
            if source in catalog.specs:
                needed.add(source)
                pending.append(source)
    return sorted(needed)


def _scope_count(specs: Sequence[ResourceSpec], connection: Connection) -> int:
    """Number of (type, region) scopes, for the progress display (0 when regions are unknown)."""
    regions = len(connection.settings.get("regions") or [])
    if not regions:
        return 0
    return sum(regions if s.scope == "regional" else 1 for s in specs if not s.aggregate)


def _scan_connection(
    store: Store,
    tenant: Tenant,
    connection: Connection,
    scan_id: str,
    policies: list[Policy],
    specs: list[ResourceSpec],
    now: datetime | None,
    progress: Callable[[str, str, int], None] | None,
    fixed: Container[str] = frozenset(),
) -> TargetOutcome:
    started = time.monotonic()
    try:
        return _collect_evaluate_write(
            store, tenant, connection, scan_id, policies, specs, now, progress, started, fixed
        )
    except Exception as exc:  # botocore parse errors, bad URLs, bugs: this connection only
        return _fail_target(store, connection, scan_id, exc, time.monotonic() - started)


def _collect_evaluate_write(
    store: Store,
    tenant: Tenant,
    connection: Connection,
    scan_id: str,
    policies: list[Policy],
    specs: list[ResourceSpec],
    now: datetime | None,
    progress: Callable[[str, str, int], None] | None,
    started: float,
    fixed: Container[str] = frozenset(),
) -> TargetOutcome:
    inventory = collector(connection.provider)(
        connection.name, connection.settings, specs, progress=progress
    )
    collected = time.monotonic()
    moment = now or utcnow()
    results = evaluate(
        policies,
        inventory.resources,
        now=moment,
        failed_scopes=inventory.failed_scopes(),
        not_applicable_scopes=inventory.not_applicable_scopes(),
    )
    evaluated = time.monotonic()
    outcome = _write(
        store,
        tenant,
        connection,
        scan_id,
        policies,
        specs,
        inventory,
        results,
        moment,
        started,
        fixed,
    )
    outcome.phases = {
        "collect": collected - started,
        "evaluate": evaluated - collected,
        "write": time.monotonic() - evaluated,
    }
    return outcome


def _fail_target(
    store: Store, connection: Connection, scan_id: str, exc: Exception, seconds: float
) -> TargetOutcome:
    """The failed outcome of one connection, recorded when the store allows."""
    reason = failure_reason(exc)
    if isinstance(exc, PostureError):
        message = exc.message
    else:
        log.error("scanning connection %s failed unexpectedly", connection.name, exc_info=exc)
        detail = " ".join(str(exc).split())[:300]
        message = f"connection '{connection.name}': unexpected {type(exc).__name__}: {detail}"
    outcome = TargetOutcome(connection.name, "failed", message, reason=reason.value)
    endpoint = exc.endpoint if isinstance(exc, ConnectionFailure) else None
    try:
        _record_failure(store, connection, scan_id, outcome, seconds, endpoint)
    except Exception as store_exc:
        log.error("recording the failure of %s failed", connection.name, exc_info=store_exc)
        outcome.message += f" (not recorded: {type(store_exc).__name__}: {store_exc})"
    return outcome


def _record_failure(
    store: Store,
    connection: Connection,
    scan_id: str,
    outcome: TargetOutcome,
    seconds: float,
    endpoint: str | None = None,
) -> None:
    with store.session() as session:
        conn = session.get(Connection, connection.id)
        assert conn is not None
        conn.health = "failed"
        conn.health_message = outcome.message
        conn.checked_at = utcnow()
        session.add(conn)
        session.add(
            ScanTarget(
                scan_id=scan_id,
                connection_id=connection.id,
                status="failed",
                message=outcome.message,
                seconds=seconds,
                stats={"reason_code": outcome.reason, "endpoint": endpoint},
            )
        )


def _write(
    store: Store,
    tenant: Tenant,
    connection: Connection,
    scan_id: str,
    policies: list[Policy],
    specs: list[ResourceSpec],
    inventory: Inventory,
    results: list[Result],
    now: datetime,
    started: float,
    fixed: Container[str] = frozenset(),
) -> TargetOutcome:
    incomplete = bool(inventory.failures or inventory.detail_failures)
    status = "partial" if incomplete else "succeeded"
    outcome = TargetOutcome(
        connection.name,
        status,
        resources=len(inventory.resources),
        api_calls=inventory.api_calls,
        policies=[p.id for p in policies],
        errored=sorted({r.policy_id for r in results if r.status is Status.ERROR}),
        unknown=sorted({r.policy_id for r in results if r.status is Status.UNKNOWN}),
        results=Counter(r.status.value for r in results),
        failures=inventory.problems(),
    )
    outcome.message = _health_message(inventory)
    # a scope the licence does not cover was not evaluated: its findings stay as they were
    failed = inventory.failed_scopes() | inventory.not_applicable_scopes()
    scope_of = {s.type: s.scope for s in specs}

    def evaluated(rtype: str, region: str) -> bool:
        """Was this resource's scope collected successfully in this scan?"""
        scope = scope_of.get(rtype)
        if scope is None:
            return False
        if scope == "global":
            # a dns type's resources each have their own scope, named after the domain
            return (rtype, GLOBAL) not in failed and (rtype, region) not in failed
        if scope in ("project", "organization"):  # Google Cloud: "<project>/<location>"
            key = collection_scope(region)
            return key in inventory.regions and (rtype, key) not in failed
        return region in inventory.regions and (rtype, region) not in failed

    with store.session() as session:
        _store_inventory(session, scan_id, connection.id, inventory)
        _store_results(session, tenant.id, scan_id, connection.id, results, inventory)
        held = _held_uids(session, connection.id, inventory, scope_of)
        outcome.lifecycle = reconcile(
            session,
            tenant_id=tenant.id,
            connection_id=connection.id,
            scan_id=scan_id,
            now=now,
            results=results,
            policies={p.id: p for p in policies},
            resources={r.uid: r for r in inventory.resources},
            evaluated=evaluated,
            held=held,
            fixed=fixed,
        )
        conn = session.get(Connection, connection.id)
        assert conn is not None
        conn.health = "partial" if incomplete else "ok"
        conn.health_message = outcome.message
        conn.account = inventory.account
        conn.checked_at = now
        session.add(conn)
        session.add(
            ScanTarget(
                scan_id=scan_id,
                connection_id=connection.id,
                status=status,
                message=outcome.message,
                resources=len(inventory.resources),
                api_calls=inventory.api_calls,
                errors=sum(s.errors for s in inventory.stats.values()),
                throttles=sum(s.throttles for s in inventory.stats.values()),
                seconds=time.monotonic() - started,
                stats=inventory.stats_json(),
            )
        )
    return outcome


def _held_uids(
    session: Session, connection_id: str, inventory: Inventory, scope_of: Mapping[str, str]
) -> set[str]:
    """Uids last seen in a member account's scope that could not be read in this scan.

    An organisation connection names such a scope ``ACCOUNT/REGION`` (``ACCOUNT/*``: the
    whole account), so the resources the connection stored for that account before keep
    their findings as they were. Single-account connections have none: no query is made.
    """
    by_account: dict[str, list[tuple[str, str]]] = {}
    for failure in inventory.failures:
        if failure.account:
            region = failure.region.partition("/")[2]
            by_account.setdefault(failure.account, []).append((failure.resource_type, region))
    if not by_account:
        return set()
    rows = session.exec(
        select(
            ResourceRecord.uid, ResourceRecord.type, ResourceRecord.region, ResourceRecord.account
        )
        .join(ScanResource, col(ScanResource.resource_hash) == col(ResourceRecord.hash))
        .where(
            ScanResource.connection_id == connection_id,
            col(ResourceRecord.account).in_(list(by_account)),
        )
        .distinct()
    )
    held: set[str] = set()
    for uid, rtype, region, account in rows:
        for failed_type, failed_region in by_account[account]:
            if failed_type == rtype and (
                failed_region in ("*", region) or scope_of.get(rtype) == "global"
            ):
                held.add(uid)
                break
    return held


def _health_message(inventory: Inventory) -> str:
    """What the connection's health says: failed types, then details that could not be read."""
    parts = []
    if inventory.summary:  # an organisation: accounts read, and which could not be
        parts.append(inventory.summary)
    elif inventory.failures:
        parts.append(f"{len(inventory.failures)} resource type(s) could not be collected")
    parts += [f.describe() for f in inventory.detail_failures[:5]]
    if len(inventory.detail_failures) > 5:
        parts.append(f"{len(inventory.detail_failures) - 5} more detail(s) could not be read")
    return "; ".join(parts)


def _store_inventory(
    session: Session, scan_id: str, connection_id: str, inventory: Inventory
) -> None:
    rows = {}
    for resource in inventory.resources:
        rows[resource.content_hash()] = resource
    hashes = list(rows)
    known: set[str] = set()
    for i in range(0, len(hashes), 500):
        chunk = hashes[i : i + 500]
        known.update(
            session.exec(select(ResourceRecord.hash).where(col(ResourceRecord.hash).in_(chunk)))
        )
    fresh = [
        {
            "hash": h,
            "type": r.type,
            "uid": r.uid,
            "region": r.region,
            "name": r.name,
            "account": r.account,
            "tags": r.tags,
            "data": r.data,
        }
        for h, r in rows.items()
        if h not in known
    ]
    if fresh:
        session.execute(insert(ResourceRecord), fresh)
    existing = set(
        session.exec(
            select(ScanResource.resource_hash).where(
                ScanResource.scan_id == scan_id, ScanResource.connection_id == connection_id
            )
        )
    )
    links = [
        {"scan_id": scan_id, "connection_id": connection_id, "resource_hash": h}
        for h in hashes
        if h not in existing
    ]
    if links:
        session.execute(insert(ScanResource), links)


def _store_results(
    session: Session,
    tenant_id: str,
    scan_id: str,
    connection_id: str,
    results: Sequence[Result],
    inventory: Inventory,
) -> None:
    """Keep every outcome of this scan, passes included (idempotent for a re-run write)."""
    session.execute(
        delete(ResultRecord).where(
            col(ResultRecord.scan_id) == scan_id, col(ResultRecord.connection_id) == connection_id
        )
    )
    names = {r.uid: r.name for r in inventory.resources}
    rows = [
        {
            "tenant_id": tenant_id,
            "scan_id": scan_id,
            "connection_id": connection_id,
            "policy_id": r.policy_id,
            "resource_type": r.resource_type,
            "resource_uid": r.resource_uid,
            "resource_name": names.get(r.resource_uid, ""),
            "region": r.region,
            "status": r.status.value,
            "reason": r.reason,
            "statement": dict(r.statement or {}),
            "evidence": [e.as_dict() for e in r.evidence],
        }
        for r in results
    ]
    for i in range(0, len(rows), 2000):
        session.execute(insert(ResultRecord), rows[i : i + 2000])


def _finish(
    store: Store,
    tenant: Tenant,
    scan_id: str,
    outcomes: list[TargetOutcome],
    seconds: float,
    now: datetime | None = None,
) -> ScanOutcome:
    statuses = {o.status for o in outcomes}
    if statuses == {"succeeded"}:
        status = "succeeded"
    elif statuses == {"failed"}:
        status = "failed"
    else:
        status = "partial"
    with store.session() as session:
        scan = session.get(Scan, scan_id)
        if scan is None:
            raise PostureError(f"scan {scan_id} disappeared from the store")
        summary = open_counts(session, tenant.id)
        scan.status = status
        scan.finished_at = now + timedelta(seconds=seconds) if now else utcnow()
        scan.resources = sum(o.resources for o in outcomes)
        scan.api_calls = sum(o.api_calls for o in outcomes)
        ran = sorted({p for o in outcomes for p in o.policies})
        scan.policies = len(ran)
        scan.summary = {
            "open_by_severity": summary,
            "policies": ran,
            "errored": sorted({p for o in outcomes for p in o.errored}),
            "unknown": sorted({p for o in outcomes for p in o.unknown}),
            "results": dict(sum((o.results for o in outcomes), Counter())),
        }
        scan.message = "; ".join(f"{o.connection}: {o.message}" for o in outcomes if o.message)
        session.add(scan)
    return ScanOutcome(scan_id, tenant.slug, status, outcomes, summary, seconds)


def _abandon(store: Store, scan_id: str, outcomes: list[TargetOutcome], exc: BaseException) -> None:
    """Close a scan that could not finish normally; the original error still propagates."""
    interrupted = isinstance(exc, KeyboardInterrupt | SystemExit)
    status = "interrupted" if interrupted else "failed"
    reason = "interrupted" if interrupted else " ".join(f"{type(exc).__name__}: {exc}".split())
    done = "; ".join(f"{o.connection}: {o.status}" for o in outcomes)
    try:
        with store.session() as session:
            scan = session.get(Scan, scan_id)
            if scan is None or scan.status != "running":
                return
            scan.status = status
            scan.finished_at = utcnow()
            scan.resources = sum(o.resources for o in outcomes)
            scan.api_calls = sum(o.api_calls for o in outcomes)
            scan.message = f"the scan stopped: {reason}" + (f" (done: {done})" if done else "")
            session.add(scan)
    except Exception:
        log.exception("could not mark scan %s as %s", scan_id, status)


__all__ = [
    "ProgressFactory",
    "ScanOutcome",
    "TargetOutcome",
    "run_scan",
]
