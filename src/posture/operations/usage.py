"""Usage per tenant and month: the figures a provider bills from.

Everything is counted from what the scans stored, for the month in each tenant's own
time zone (a tenant in Asia/Tokyo has its December start at 00:00 JST on the 1st):

- ``connections``: connections registered by the end of the month;
- ``connections_scanned``: those covered by at least one scan in the month;
- ``aws_accounts``: distinct AWS accounts whose resources a scan stored in the month (each
  member account an organisation connection read counts, an account it could not read
  does not);
- ``identities``: distinct user accounts seen (IAM users, Entra ID users, Workspace users);
- ``resources``: distinct resources scanned (by uid);
- ``scans`` and ``api_calls``: scans started in the month and the API calls they made.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from posture.errors import UsageError
from posture.operations.access import require, visible
from posture.operations.context import Operations
from posture.operations.tenants import get_tenant
from posture.report.period import zone
from posture.store import Connection, ResourceRecord, Scan, ScanResource, ScanTarget, Tenant
from posture.store.types import utcnow

# resource types whose resources are user accounts (one identity each)
IDENTITY_TYPES = ("aws.iam.user", "m365.entra.user", "gws.directory.user")
USAGE_COLUMNS = (
    "tenant",
    "month",
    "timezone",
    "connections",
    "connections_scanned",
    "identities",
    "resources",
    "scans",
    "api_calls",
    "in_progress",
    "aws_accounts",
)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class UsageRow:
    """One tenant in one month; ``in_progress`` while the month has not ended."""

    tenant: str
    month: str
    timezone: str
    connections: int
    connections_scanned: int
    identities: int
    resources: int
    scans: int
    api_calls: int
    in_progress: bool
    aws_accounts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def month_span(text: str | None, tz_name: str, now: datetime) -> tuple[str, datetime, datetime]:
    """``YYYY-MM`` (default: the current month) as [start, end) in the time zone."""
    tz = zone(tz_name)
    local = now.astimezone(tz)
    if text is None:
        year, mon = local.year, local.month
    else:
        match = _MONTH.match(text.strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise UsageError(f"--month takes YYYY-MM, got '{text}'")
        year, mon = int(match.group(1)), int(match.group(2))
    start = datetime(year, mon, 1, tzinfo=tz)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=tz)
    return f"{year:04d}-{mon:02d}", start, end


def tenant_usage(
    ops: Operations,
    tenant: str | None = None,
    *,
    month: str | None = None,
    now: datetime | None = None,
) -> list[UsageRow]:
    """Usage of the named tenant, or of every tenant, in a month of each one's time zone."""
    moment = now or utcnow()
    if month is not None:
        month_span(month, "UTC", moment)  # a malformed month is refused even without tenants
    with ops.session() as session:
        if tenant:
            tenants: Sequence[Tenant] = [get_tenant(session, tenant)]
            require(ops, "tenant.read", tenants[0].id)
        else:
            require(ops, "tenant.read")
            every = session.exec(select(Tenant).order_by(col(Tenant.slug)))
            tenants = [ten for ten in every if visible(ops, ten.id)]
        return [_usage(session, ten, month, moment) for ten in tenants]


def _usage(session: Session, tenant: Tenant, month: str | None, now: datetime) -> UsageRow:
    label, start, end = month_span(month, tenant.timezone, now)
    in_month = (
        Scan.tenant_id == tenant.id,
        col(Scan.started_at) >= start,
        col(Scan.started_at) < end,
    )
    scans, api_calls = session.exec(
        select(func.count(col(Scan.id)), func.coalesce(func.sum(Scan.api_calls), 0)).where(
            *in_month
        )
    ).one()
    registered = session.exec(
        select(func.count(col(Connection.id))).where(
            Connection.tenant_id == tenant.id, col(Connection.created_at) < end
        )
    ).one()
    scanned = session.exec(
        select(func.count(distinct(col(ScanTarget.connection_id))))
        .join(Scan, col(Scan.id) == col(ScanTarget.scan_id))
        .where(*in_month)
    ).one()
    resources = (
        select(func.count(distinct(col(ResourceRecord.uid))))
        .select_from(ScanResource)
        .join(ResourceRecord, col(ResourceRecord.hash) == col(ScanResource.resource_hash))
        .join(Scan, col(Scan.id) == col(ScanResource.scan_id))
        .where(*in_month)
    )
    identities = resources.where(col(ResourceRecord.type).in_(IDENTITY_TYPES))
    accounts = (
        select(func.count(distinct(col(ResourceRecord.account))))
        .select_from(ScanResource)
        .join(ResourceRecord, col(ResourceRecord.hash) == col(ScanResource.resource_hash))
        .join(Scan, col(Scan.id) == col(ScanResource.scan_id))
        .where(*in_month, col(ResourceRecord.type).startswith("aws."), ResourceRecord.account != "")
    )
    return UsageRow(
        tenant=tenant.slug,
        month=label,
        timezone=tenant.timezone,
        connections=int(registered),
        connections_scanned=int(scanned),
        identities=int(session.exec(identities).one()),
        resources=int(session.exec(resources).one()),
        scans=int(scans),
        api_calls=int(api_calls),
        in_progress=start <= now < end,
        aws_accounts=int(session.exec(accounts).one()),
    )
