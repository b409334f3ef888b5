"""Retention: prune what a tenant no longer needs kept, without losing its current state.

``prune_results`` deletes the results (passes included) of scans older than the retention
period, except those the latest results of each connection still come from: a connection
last scanned two years ago keeps that scan's results, so it never looks clean because its
history was pruned. Findings, scans and their statistics are kept (trends and reports
read them).

Other records with a retention period (the audit log, once it exists) plug in with
``register_purge``: ``run_retention`` calls every registered purge after the results.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select

from posture.errors import UsageError
from posture.operations.access import require
from posture.operations.context import Operations
from posture.operations.results import _latest_picks
from posture.operations.tenants import get_tenant
from posture.store import Connection, ResultRecord, Scan

DEFAULT_RESULT_DAYS = 395  # thirteen months: a year of monthly trends and the month before

# (ops, tenant slug, now) -> how many records the purge removed
Purge = Callable[[Operations, str, datetime], int]
_PURGES: dict[str, Purge] = {}


def register_purge(name: str, purge: Purge) -> None:
    """Add a purge that ``run_retention`` calls for every tenant it runs for.

    A purge owns its own retention period and transaction; it must be idempotent (it
    runs daily and again after a missed run).
    """
    _PURGES[name] = purge


def unregister_purge(name: str) -> None:
    _PURGES.pop(name, None)


@dataclass(frozen=True)
class RetentionOutcome:
    """What was removed, by kind of record (``results`` and every registered purge)."""

    tenant: str
    cutoff: datetime
    removed: dict[str, int] = field(default_factory=dict)


def prune_results(
    ops: Operations, tenant: str, *, days: int = DEFAULT_RESULT_DAYS, now: datetime | None = None
) -> int:
    """Delete the tenant's results of scans started more than ``days`` ago (see module)."""
    if days < 1:
        raise UsageError(f"the retention period must be at least 1 day, got {days}")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    catalog = ops.catalog()
    with ops.session() as session:
        ten = get_tenant(session, tenant)
        require(ops, "service.operate", ten.id)
        connections = list(session.exec(select(Connection).where(Connection.tenant_id == ten.id)))
        picks, _ = _latest_picks(session, ten.id, connections, catalog)
        kept = {(p.scan_id, p.connection.id) for p in picks}
        old = session.exec(
            select(ResultRecord.scan_id, ResultRecord.connection_id)
            .join(Scan, col(Scan.id) == col(ResultRecord.scan_id))
            .where(ResultRecord.tenant_id == ten.id, col(Scan.started_at) < cutoff)
            .distinct()
        )
        removed = 0
        for scan_id, connection_id in list(old):
            if (scan_id, connection_id) in kept:
                continue
            result = session.execute(
                delete(ResultRecord).where(
                    col(ResultRecord.tenant_id) == ten.id,
                    col(ResultRecord.scan_id) == scan_id,
                    col(ResultRecord.connection_id) == connection_id,
                )
            )
            removed += int(getattr(result, "rowcount", 0) or 0)
        return removed


def run_retention(
    ops: Operations,
    tenant: str,
    *,
    result_days: int = DEFAULT_RESULT_DAYS,
    now: datetime | None = None,
) -> RetentionOutcome:
    """Prune the tenant's old results, then run every registered purge."""
    with ops.session() as session:
        require(ops, "service.operate", get_tenant(session, tenant).id)
    moment = now or datetime.now(UTC)
    removed = {"results": prune_results(ops, tenant, days=result_days, now=moment)}
    for name, purge in sorted(_PURGES.items()):
        removed[name] = purge(ops, tenant, moment)
    return RetentionOutcome(tenant, moment - timedelta(days=result_days), removed)
