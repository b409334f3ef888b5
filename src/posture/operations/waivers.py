"""Waivers (accepted risks): add, list, revoke, apply, and those about to expire.

A waiver covers the findings of its scope: a policy (exact id, id prefix or glob), a
resource uid glob, one tag (``key=value`` on the resource), a connection, any combination
of these, or the whole tenant. Its findings have status ``waived``: they are reported apart,
never hidden. It is in force until the end of its expiry day in the tenant's time zone, at
most ``waiver_max_days`` (a tenant option, default 365) ahead. Adding or revoking a waiver
applies at once; an expiry takes effect at the next scan or with ``apply_waivers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, col, select

from posture.errors import ConfigurationError, UsageError
from posture.lifecycle import EventLog, load_waivers
from posture.lifecycle import apply_waivers as apply_to_findings
from posture.operations.access import require
from posture.operations.auditing import audited
from posture.operations.context import Operations
from posture.operations.filters import GLOB_CHARS, PolicySelector, check_choices
from posture.operations.tenants import resolve_tenant
from posture.report.period import zone
from posture.store import Connection, Finding, Tenant, Waiver
from posture.waivers import waiver_status

DEFAULT_MAX_DAYS = 365
EXPIRING_DAYS = 30
STATUSES = ("active", "expired", "revoked", "all")
SHOWN_CANDIDATES = 5


@dataclass(frozen=True)
class WaiverChanges:
    """What applying the waivers changed: findings waived, lapsed (expired) and unwaived."""

    waived: int = 0
    lapsed: int = 0
    unwaived: int = 0


@dataclass(frozen=True)
class WaiverInfo:
    """A waiver as an operator sees it; ``findings`` = findings waived under it now."""

    id: str
    tenant: str
    policy: str
    resource: str
    tag: str  # key=value, or empty
    connection: str  # connection name, or empty
    whole_tenant: bool
    reason: str
    requested_by: str
    approved_by: str
    expires_on: date  # last day in force, in the tenant's time zone
    expires_at: datetime  # the moment it stops (UTC)
    created_at: datetime
    status: str  # active | expired | revoked
    findings: int = 0
    revoked_at: datetime | None = None
    revoked_by: str = ""
    revoke_reason: str = ""
    changes: WaiverChanges = WaiverChanges()  # what adding or revoking it changed

    @property
    def scope(self) -> str:
        """The scope in one line, e.g. ``policy=aws.s3.* tag=env=dev``."""
        if self.whole_tenant:
            return "tenant"
        parts = [
            f"policy={self.policy}" if self.policy else "",
            f"resource={self.resource}" if self.resource else "",
            f"tag={self.tag}" if self.tag else "",
            f"connection={self.connection}" if self.connection else "",
        ]
        return " ".join(p for p in parts if p)

    def days_left(self, now: datetime) -> int:
        """Whole days until it stops (0 on its last day)."""
        return max(0, (self.expires_at - now) // timedelta(days=1))


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _info(
    waiver: Waiver,
    tenant: Tenant,
    names: dict[str, str],
    counts: dict[str, int],
    now: datetime,
    changes: WaiverChanges | None = None,
) -> WaiverInfo:
    return WaiverInfo(
        id=waiver.id,
        tenant=tenant.slug,
        policy=waiver.policy,
        resource=waiver.resource,
        tag=f"{waiver.tag_key}={waiver.tag_value}" if waiver.tag_key else "",
        connection=names.get(waiver.connection_id or "", ""),
        whole_tenant=waiver.whole_tenant,
        reason=waiver.reason,
        requested_by=waiver.requested_by,
        approved_by=waiver.approved_by,
        expires_on=waiver.expires_on,
        expires_at=waiver.expires_at,
        created_at=waiver.created_at,
        status=waiver_status(waiver, now),
        findings=counts.get(waiver.id, 0),
        revoked_at=waiver.revoked_at,
        revoked_by=waiver.revoked_by,
        revoke_reason=waiver.revoke_reason,
        changes=changes or WaiverChanges(),
    )


def _connection_names(session: Session, tenant: Tenant) -> dict[str, str]:
    rows = session.exec(select(Connection).where(Connection.tenant_id == tenant.id))
    return {c.id: c.name for c in rows}


def _waived_counts(session: Session, tenant: Tenant) -> dict[str, int]:
    rows = session.exec(
        select(Finding.waiver_id).where(Finding.tenant_id == tenant.id, Finding.state == "waived")
    )
    counts: dict[str, int] = {}
    for waiver_id in rows:
        counts[waiver_id] = counts.get(waiver_id, 0) + 1
    return counts


def _apply(session: Session, tenant: Tenant, now: datetime) -> WaiverChanges:
    log = EventLog(tenant.id, "", now)
    findings = session.exec(
        select(Finding).where(
            Finding.tenant_id == tenant.id, col(Finding.state).in_(("open", "waived"))
        )
    )
    apply_to_findings(session, findings, load_waivers(session, tenant.id), log)
    changes = WaiverChanges(
        waived=log.count("waived"),
        lapsed=log.count("waiver_lapsed"),
        unwaived=log.count("unwaived"),
    )
    log.write(session)
    return changes


def max_days(tenant: Tenant) -> int:
    """The longest a waiver of this tenant may run (tenant option ``waiver_max_days``)."""
    value = tenant.options.get("waiver_max_days", DEFAULT_MAX_DAYS)
    try:
        days = int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"tenant '{tenant.slug}': option waiver_max_days must be a number of days, "
            f"got '{value}'"
        ) from exc
    if days < 1:
        raise ConfigurationError(f"tenant '{tenant.slug}': option waiver_max_days must be >= 1")
    return days


def parse_expiry(value: date | str) -> date:
    """A ``YYYY-MM-DD`` date (or a ``date``)."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise UsageError(f"--expires takes a date YYYY-MM-DD, got '{value}'") from exc


def _parse_tag(tag: str) -> tuple[str, str]:
    if not tag:
        return "", ""
    key, sep, value = tag.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--tag takes KEY=VALUE, got '{tag}'")
    return key.strip(), value.strip()


def _connection_id(session: Session, tenant: Tenant, name: str) -> str | None:
    if not name:
        return None
    names = _connection_names(session, tenant)
    for cid, cname in names.items():
        if cname == name:
            return cid
    raise ConfigurationError(
        f"tenant '{tenant.slug}' has no connection '{name}'; "
        f"its connections: {', '.join(sorted(names.values())) or 'none'}"
    )


def _check_policy(ops: Operations, session: Session, tenant: Tenant, policy: str) -> None:
    """A policy id that selects nothing is a typo, not a waiver that silently covers nothing."""
    if not policy or GLOB_CHARS & set(policy):
        return
    known = set(ops.catalog().policies)
    known.update(session.exec(select(Finding.policy_id).where(Finding.tenant_id == tenant.id)))
    PolicySelector.of([policy]).check_known(known)


@audited(
    "waiver.add",
    lambda w, a, k: (w.tenant, w.id, {"reason": w.reason, "approved_by": w.approved_by}),
)
def add_waiver(
    ops: Operations,
    tenant: str | None,
    *,
    reason: str,
    requested_by: str,
    approved_by: str,
    expires: date | str,
    policy: str = "",
    resource: str = "",
    tag: str = "",
    connection: str = "",
    whole_tenant: bool = False,
    now: datetime | None = None,
) -> WaiverInfo:
    """Record an accepted risk and waive the findings it covers at once.

    At least one of ``policy``, ``resource``, ``tag``, ``connection`` is required, or
    ``whole_tenant`` alone. ``expires`` is the last day the waiver is in force, in the
    tenant's time zone: today at the earliest, at most ``waiver_max_days`` ahead.
    """
    moment = _now(now)
    policy, resource, connection = policy.strip(), resource.strip(), connection.strip()
    tag_key, tag_value = _parse_tag(tag.strip())
    scoped = any((policy, resource, tag_key, connection))
    if whole_tenant and scoped:
        raise UsageError("a waiver for the whole tenant takes no other scope")
    if not whole_tenant and not scoped:
        raise UsageError(
            "a waiver needs a scope: --policy, --resource, --tag, --connection or --whole-tenant"
        )
    for label, value in (
        ("reason", reason),
        ("requested by", requested_by),
        ("approved by", approved_by),
    ):
        if not value.strip():
            raise UsageError(f"a waiver needs '{label}'")
    last_day = parse_expiry(expires)
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "waiver.write", ten.id)
        tz = zone(ten.timezone)
        today = moment.astimezone(tz).date()
        limit = max_days(ten)
        if last_day < today:
            raise UsageError(f"the expiry {last_day} is in the past (today is {today})")
        if last_day > today + timedelta(days=limit):
            raise UsageError(
                f"the expiry {last_day} is more than {limit} days ahead "
                f"(at most {today + timedelta(days=limit)})",
                hint="renew the waiver when it expires instead, or raise the tenant option "
                "waiver_max_days",
            )
        _check_policy(ops, session, ten, policy)
        next_day = last_day + timedelta(days=1)
        waiver = Waiver(
            tenant_id=ten.id,
            policy=policy,
            resource=resource,
            tag_key=tag_key,
            tag_value=tag_value,
            connection_id=_connection_id(session, ten, connection),
            whole_tenant=whole_tenant,
            reason=reason.strip(),
            requested_by=requested_by.strip(),
            approved_by=approved_by.strip(),
            expires_on=last_day,
            expires_at=datetime(next_day.year, next_day.month, next_day.day, tzinfo=tz).astimezone(
                UTC
            ),
            created_at=moment,
        )
        session.add(waiver)
        session.flush()
        changes = _apply(session, ten, moment)
        return _info(
            waiver,
            ten,
            _connection_names(session, ten),
            _waived_counts(session, ten),
            moment,
            changes,
        )


def list_waivers(
    ops: Operations,
    tenant: str | None = None,
    *,
    status: str = "active",
    now: datetime | None = None,
) -> list[WaiverInfo]:
    """Waivers of a tenant (``active``, ``expired``, ``revoked`` or ``all``), soonest expiry first."""
    check_choices("--status", [status], STATUSES)
    moment = _now(now)
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "finding.read", ten.id)
        names, counts = _connection_names(session, ten), _waived_counts(session, ten)
        rows = session.exec(
            select(Waiver)
            .where(Waiver.tenant_id == ten.id)
            .order_by(col(Waiver.expires_at), col(Waiver.created_at))
        )
        infos = [_info(w, ten, names, counts, moment) for w in rows]
    return [i for i in infos if status == "all" or i.status == status]


def expiring_waivers(
    ops: Operations,
    tenant: str | None = None,
    *,
    within_days: int = EXPIRING_DAYS,
    now: datetime | None = None,
) -> list[WaiverInfo]:
    """Waivers in force that stop within ``within_days`` (for the report and notifications)."""
    if within_days < 0:
        raise UsageError("the number of days must not be negative")
    moment = _now(now)
    horizon = moment + timedelta(days=within_days)
    return [
        w for w in list_waivers(ops, tenant, status="active", now=moment) if w.expires_at <= horizon
    ]


def find_waiver(session: Session, tenant: Tenant, waiver_id: str) -> Waiver:
    """The waiver of ``tenant`` whose id is or starts with ``waiver_id``."""
    prefix = waiver_id.strip().lower()
    if not prefix:
        raise UsageError("a waiver id (or the start of one) is required")
    matches = list(
        session.exec(
            select(Waiver)
            .where(
                Waiver.tenant_id == tenant.id,
                col(Waiver.id).startswith(prefix, autoescape=True),
            )
            .limit(SHOWN_CANDIDATES + 1)
        )
    )
    exact = [w for w in matches if w.id == prefix]
    if exact:
        return exact[0]
    if not matches:
        raise ConfigurationError(
            f"tenant '{tenant.slug}' has no waiver with id '{waiver_id}'",
            hint="list waivers with: posture waiver list --status all",
        )
    if len(matches) > 1:
        raise UsageError(
            f"waiver id '{waiver_id}' is ambiguous; it starts "
            + ", ".join(w.id for w in matches[:SHOWN_CANDIDATES]),
            hint="give more characters of the id",
        )
    return matches[0]


@audited("waiver.revoke", lambda w, a, k: (w.tenant, w.id, {"reason": k.get("reason", "")}))
def revoke_waiver(
    ops: Operations,
    waiver_id: str,
    *,
    tenant: str | None = None,
    revoked_by: str,
    reason: str = "",
    now: datetime | None = None,
) -> WaiverInfo:
    """End a waiver before its expiry; its findings return to open at once (``unwaived``)."""
    if not revoked_by.strip():
        raise UsageError("say who revokes the waiver")
    moment = _now(now)
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "waiver.write", ten.id)
        waiver = find_waiver(session, ten, waiver_id)
        if waiver.revoked_at is not None:
            raise UsageError(
                f"waiver {waiver.id} was already revoked on {waiver.revoked_at:%Y-%m-%d}"
            )
        waiver.revoked_at = moment
        waiver.revoked_by = revoked_by.strip()
        waiver.revoke_reason = reason.strip()
        session.add(waiver)
        session.flush()
        changes = _apply(session, ten, moment)
        return _info(
            waiver,
            ten,
            _connection_names(session, ten),
            _waived_counts(session, ten),
            moment,
            changes,
        )


def apply_waivers(
    ops: Operations, tenant: str | None = None, *, now: datetime | None = None
) -> WaiverChanges:
    """Bring every unresolved finding of a tenant in line with its waivers now.

    Findings under an expired waiver return to open (``waiver_lapsed``), without waiting for
    the next scan; findings a waiver in force covers become waived.
    """
    moment = _now(now)
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "waiver.write", ten.id)
        return _apply(session, ten, moment)
