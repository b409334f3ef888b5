"""Notifications: a tenant's channels, what a scan announces, deliveries and digests.

After a scan has committed, ``notify_scan`` queues one notification per channel for every
finding the scan opened or reopened at or above the channel's minimum severity; the key
(channel, finding, scan) makes each state change notify once, however often it runs.
Channels in ``immediate`` mode are delivered right away, one message per finding;
``digest`` channels wait for ``send_digests``, which a scheduler calls once a day. Every
delivery is recorded: queued, sending, sent or failed, with the attempts and the last error.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from posture.catalog import Catalog
from posture.errors import ConfigurationError, UsageError
from posture.models import Severity
from posture.notify import ChannelSpec, Item, Message, Outcome, deliver, parse_settings
from posture.notify.channels import KINDS, MODES
from posture.notify.content import FixItem
from posture.operations.auditing import audited
from posture.operations.context import Operations
from posture.operations.filters import parse_severity
from posture.operations.rows import PolicyFacts
from posture.operations.tenants import check_active, get_tenant, resolve_tenant
from posture.scan import ScanOutcome
from posture.store import (
    Connection,
    Finding,
    FixRun,
    Notification,
    NotificationChannel,
    Tenant,
)
from posture.store.types import utcnow

log = logging.getLogger(__name__)
NAME_MAX = 100
MAX_RETRIES = 10
STATES = ("queued", "sending", "sent", "failed")
DEFAULT_MIN_SEVERITY = "high"
# a delivery still "sending" after this long was abandoned (its process stopped): queue it
# again. Longer than the longest retry schedule a channel can have.
STALE_CLAIM = timedelta(hours=1)


@dataclass(frozen=True)
class ChannelInfo:
    """A channel as an operator sees it; ``settings`` hold no secret, only variable names."""

    tenant: str
    name: str
    kind: str
    min_severity: str
    mode: str
    retries: int
    backoff_seconds: float
    settings: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, channel: NotificationChannel, tenant: str) -> ChannelInfo:
        return cls(
            tenant=tenant,
            name=channel.name,
            kind=channel.kind,
            min_severity=channel.min_severity,
            mode=channel.mode,
            retries=channel.retries,
            backoff_seconds=channel.backoff_seconds,
            settings=dict(channel.settings),
            created_at=channel.created_at,
        )

    @property
    def target(self) -> str:
        """Where messages go, in one line (addresses and variable names, never secrets)."""
        s = self.settings
        if self.kind == "email":
            return f"{', '.join(s.get('recipients', []))} via {s.get('host')}:{s.get('port')}"
        if self.kind == "webhook":
            return f"{s.get('url')} (signed with ${s.get('secret_env')})"
        return f"URL in ${s.get('url_env')}"


@dataclass
class NotifySummary:
    """What a call queued and delivered; ``errors`` say why deliveries failed."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: NotifySummary) -> None:
        self.queued += other.queued
        self.sent += other.sent
        self.failed += other.failed
        self.errors += other.errors


@dataclass(frozen=True)
class DeliveryRow:
    """One recorded delivery of a finding's state change to a channel."""

    id: str
    channel: str
    finding_id: str
    policy_id: str
    resource_uid: str
    severity: str
    event: str
    scan_id: str
    state: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None


# --- channels ---------------------------------------------------------------------------


@audited("notify.add", lambda c, a, k: (c.tenant, c.name, {"kind": c.kind, "mode": c.mode}))
def add_channel(
    ops: Operations,
    tenant: str,
    name: str,
    kind: str,
    *,
    settings: Mapping[str, Any],
    min_severity: str | None = None,
    mode: str = "immediate",
    retries: int = 3,
    backoff_seconds: float = 2.0,
) -> ChannelInfo:
    """Register a channel; its settings are validated now, its secrets read when sending.

    Without ``min_severity`` the channel takes the tenant's ``notify_min_severity`` option,
    or ``high``.
    """
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise UsageError(f"a channel needs a name of 1 to {NAME_MAX} characters")
    if kind not in KINDS:
        raise UsageError(f"unknown channel kind '{kind}'", hint=f"use one of: {', '.join(KINDS)}")
    if mode not in MODES:
        raise UsageError(f"unknown mode '{mode}'", hint="use immediate or digest")
    if not 0 <= retries <= MAX_RETRIES:
        raise UsageError(f"retries must be between 0 and {MAX_RETRIES}")
    if not 0 <= backoff_seconds <= 300:
        raise UsageError("the back-off must be between 0 and 300 seconds")
    if min_severity is not None:
        parse_severity(min_severity)
    parsed = parse_settings(kind, settings, name)
    try:
        with ops.session() as session:
            ten = get_tenant(session, tenant)
            default = str(ten.options.get("notify_min_severity", DEFAULT_MIN_SEVERITY))
            floor = parse_severity(min_severity or default).value
            channel = NotificationChannel(
                tenant_id=ten.id,
                name=name,
                kind=kind,
                settings=parsed.model_dump(mode="json"),
                min_severity=floor,
                mode=mode,
                retries=retries,
                backoff_seconds=backoff_seconds,
            )
            session.add(channel)
            session.flush()
            return ChannelInfo.of(channel, ten.slug)
    except IntegrityError as exc:
        raise ConfigurationError(f"tenant '{tenant}' already has a channel named '{name}'") from exc


def list_channels(ops: Operations, tenant: str | None = None) -> list[ChannelInfo]:
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        rows = session.exec(
            select(NotificationChannel)
            .where(NotificationChannel.tenant_id == ten.id)
            .order_by(col(NotificationChannel.name))
        )
        return [ChannelInfo.of(c, ten.slug) for c in rows]


@audited("notify.remove", lambda n, a, k: (str(a[1] or ""), str(a[2]), {"deliveries": n}))
def remove_channel(ops: Operations, tenant: str | None, name: str) -> int:
    """Remove a channel and the record of its deliveries; returns how many were recorded."""
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        channel = _channel(session, ten, name)
        deliveries = list(
            session.exec(select(Notification).where(Notification.channel_id == channel.id))
        )
        for row in deliveries:
            session.delete(row)
        session.flush()
        session.delete(channel)
        return len(deliveries)


def send_test(ops: Operations, tenant: str | None, name: str) -> Outcome:
    """Send a test message through a channel (with its retries) and say how it went."""
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        check_active(ten)
        spec = _spec(_channel(session, ten, name))
        message = Message(
            tenant_slug=ten.slug,
            tenant_name=ten.name,
            locale=ten.locale,
            channel=spec.name,
            threshold=spec.min_severity,
            test=True,
        )
    return deliver(spec, message)


def _channel(session: Session, tenant: Tenant, name: str) -> NotificationChannel:
    channel = session.exec(
        select(NotificationChannel).where(
            NotificationChannel.tenant_id == tenant.id, NotificationChannel.name == name
        )
    ).first()
    if channel is None:
        known = session.exec(
            select(NotificationChannel.name).where(NotificationChannel.tenant_id == tenant.id)
        )
        raise ConfigurationError(
            f"tenant '{tenant.slug}' has no channel named '{name}'; "
            f"known channels: {', '.join(sorted(known)) or 'none'}",
            hint="add one with: posture notify add",
        )
    return channel


def _spec(channel: NotificationChannel) -> ChannelSpec:
    return ChannelSpec(
        id=channel.id,
        name=channel.name,
        kind=channel.kind,
        settings=parse_settings(channel.kind, channel.settings, channel.name),
        min_severity=channel.min_severity,
        mode=channel.mode,
        retries=channel.retries,
        backoff_seconds=channel.backoff_seconds,
    )


# --- what a scan announces --------------------------------------------------------------


def notify_scan(
    ops: Operations, outcome: ScanOutcome, *, deliver_now: bool = True
) -> NotifySummary:
    """Queue the scan's new and reopened findings for every channel, then deliver immediate ones.

    Called after the scan's transactions have committed; running it twice for one scan
    queues nothing more.
    """
    events: dict[str, str] = {}
    for target in outcome.targets:
        events.update(dict.fromkeys(target.lifecycle.new_ids, "opened"))
        events.update(dict.fromkeys(target.lifecycle.reopened_ids, "reopened"))
    summary = NotifySummary()
    if events:
        try:
            summary.queued = _enqueue(ops, outcome.tenant, outcome.scan_id, events)
        except IntegrityError:  # another process queued the same scan at the same moment
            summary.queued = _enqueue(ops, outcome.tenant, outcome.scan_id, events)
    if deliver_now:
        summary.add(deliver_queued(ops, outcome.tenant))
    return summary


def _enqueue(ops: Operations, tenant: str, scan_id: str, events: Mapping[str, str]) -> int:
    queued = 0
    with ops.session() as session:
        ten = get_tenant(session, tenant)
        channels = list(
            session.exec(select(NotificationChannel).where(NotificationChannel.tenant_id == ten.id))
        )
        if not channels:
            return 0
        # a finding that a waiver in force covered as soon as it opened is an accepted risk:
        # announcing it would ask the customer to act on what they already decided
        findings = list(
            session.exec(
                select(Finding).where(col(Finding.id).in_(list(events)), Finding.state != "waived")
            )
        )
        done = {
            (n.channel_id, n.finding_id)
            for n in session.exec(select(Notification).where(Notification.scan_id == scan_id))
        }
        for channel in channels:
            floor = _rank(channel.min_severity)
            for finding in findings:
                if _rank(finding.severity) < floor or (channel.id, finding.id) in done:
                    continue
                session.add(
                    Notification(
                        tenant_id=ten.id,
                        channel_id=channel.id,
                        finding_id=finding.id,
                        scan_id=scan_id,
                        event=events[finding.id],
                        severity=finding.severity,
                    )
                )
                queued += 1
    return queued


def _rank(severity: str) -> int:
    try:
        return Severity(severity).rank
    except ValueError:
        return -1


# --- delivery ---------------------------------------------------------------------------


def deliver_queued(ops: Operations, tenant: str | None = None) -> NotifySummary:
    """Deliver every queued notification of immediate channels (of one tenant, or all).

    A paused tenant's notifications stay queued until it is resumed (naming it refuses).
    """
    _requeue_abandoned(ops)
    with ops.session() as session:
        query = (
            select(Notification.id)
            .join(NotificationChannel, col(Notification.channel_id) == col(NotificationChannel.id))
            .join(Tenant, col(Notification.tenant_id) == col(Tenant.id))
            .where(Notification.state == "queued", NotificationChannel.mode == "immediate")
            .where(col(Tenant.paused_at).is_(None))
            .order_by(col(Notification.created_at))
        )
        if tenant:
            ten = get_tenant(session, tenant)
            check_active(ten)
            query = query.where(Notification.tenant_id == ten.id)
        ids = list(session.exec(query))
    summary = NotifySummary()
    for notification_id in ids:
        claimed = _claim(ops, [notification_id])
        if not claimed:
            continue  # another process is delivering it
        spec, message = _message(ops, claimed, digest=False)
        summary.add(_record(ops, claimed, spec, message))
    return summary


def send_digests(ops: Operations, now: datetime | None = None) -> NotifySummary:
    """Send each digest channel's queued notifications (up to ``now``) as one message;
    a paused tenant's stay queued until it is resumed."""
    moment = now or utcnow()
    _requeue_abandoned(ops)
    with ops.session() as session:
        rows = session.exec(
            select(Notification.channel_id, Notification.id)
            .join(NotificationChannel, col(Notification.channel_id) == col(NotificationChannel.id))
            .join(Tenant, col(Notification.tenant_id) == col(Tenant.id))
            .where(
                Notification.state == "queued",
                NotificationChannel.mode == "digest",
                col(Notification.created_at) <= moment,
                col(Tenant.paused_at).is_(None),
            )
            .order_by(col(Notification.created_at))
        )
        per_channel: dict[str, list[str]] = {}
        for channel_id, notification_id in rows:
            per_channel.setdefault(channel_id, []).append(notification_id)
    summary = NotifySummary()
    for ids in per_channel.values():
        claimed = _claim(ops, ids)
        if claimed:
            spec, message = _message(ops, claimed, digest=True)
            summary.add(_record(ops, claimed, spec, message, now=moment))
    return summary


def _requeue_abandoned(ops: Operations) -> None:
    with ops.session() as session:
        session.execute(
            update(Notification)
            .where(
                col(Notification.state) == "sending",
                col(Notification.claimed_at) < utcnow() - STALE_CLAIM,
            )
            .values(state="queued", claimed_at=None)
        )


def _claim(ops: Operations, ids: Sequence[str]) -> list[str]:
    """Mark queued notifications as being sent; only the process that changed a row sends it."""
    claimed: list[str] = []
    with ops.session() as session:
        for notification_id in ids:
            result = session.execute(
                update(Notification)
                .where(col(Notification.id) == notification_id, col(Notification.state) == "queued")
                .values(state="sending", claimed_at=utcnow())
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(notification_id)
    return claimed


def _message(ops: Operations, ids: Sequence[str], *, digest: bool) -> tuple[ChannelSpec, Message]:
    catalog = ops.catalog()
    with ops.session() as session:
        rows = list(
            session.exec(
                select(Notification, Finding)
                .join(Finding, col(Notification.finding_id) == col(Finding.id))
                .where(col(Notification.id).in_(list(ids)))
            )
        )
        first = rows[0][0]
        channel = session.get(NotificationChannel, first.channel_id)
        tenant = session.get(Tenant, first.tenant_id)
        assert channel is not None and tenant is not None
        names = {
            c.id: c.name
            for c in session.exec(select(Connection).where(Connection.tenant_id == tenant.id))
        }
        spec = _spec(channel)
        base = str(channel.settings.get("link_base", ""))
        items = [
            _item(n, f, PolicyFacts.lookup(catalog, f.policy_id), names, base) for n, f in rows
        ]
        message = Message(
            fixes=_auto_fixes(catalog, session, tenant.id),
            tenant_slug=tenant.slug,
            tenant_name=tenant.name,
            locale=tenant.locale,
            channel=channel.name,
            threshold=channel.min_severity,
            items=items,
            digest=digest,
            delivery_id=first.id if not digest else uuid.uuid4().hex,
        )
    return spec, message


def _auto_fixes(catalog: Catalog, session: Session, tenant_id: str) -> list[FixItem]:
    """Automatic fix runs not yet announced, as the notification's short section."""
    from posture.operations.fixes import unnotified_auto_runs

    items = []
    for run in unnotified_auto_runs(session, tenant_id):
        fix = catalog.fixes.get(run.fix_id)
        title = {"en": fix.title.en, "ja": fix.title.ja} if fix else {}
        resource = run.resource_name or run.resource_uid
        items.append(FixItem(run.id, run.fix_id, title, resource, run.state))
    return items


def _mark_fixes_notified(ops: Operations, run_ids: Sequence[str]) -> None:
    if not run_ids:
        return
    with ops.session() as session:
        for run in session.exec(select(FixRun).where(col(FixRun.id).in_(list(run_ids)))):
            run.notified = True
            session.add(run)


def _item(
    n: Notification, f: Finding, facts: PolicyFacts, names: Mapping[str, str], base: str
) -> Item:
    return Item(
        finding_id=f.id,
        event=n.event,
        severity=n.severity,
        policy_id=f.policy_id,
        title=facts.title.as_dict(),
        statement=dict(f.statement),
        recommendation=facts.recommendation.as_dict(),
        resource_uid=f.resource_uid,
        resource_name=f.resource_name,
        resource_type=f.resource_type,
        region=f.region,
        connection=names.get(f.connection_id, ""),
        scan_id=n.scan_id,
        link=f"{base}/findings/{f.id}" if base else "",
    )


def _record(
    ops: Operations,
    ids: Iterable[str],
    spec: ChannelSpec,
    message: Message,
    now: datetime | None = None,
) -> NotifySummary:
    """Send, then write the outcome on every notification the message carried."""
    try:
        outcome = deliver(spec, message)
    except Exception as exc:  # a bug in rendering must not leave rows stuck in "sending"
        log.exception("notification to channel %s failed", spec.name)
        outcome = Outcome(1, f"{type(exc).__name__}: {exc}")
    ids = list(ids)
    with ops.session() as session:
        for row in session.exec(select(Notification).where(col(Notification.id).in_(ids))):
            row.attempts += outcome.attempts
            row.state = "sent" if outcome.sent else "failed"
            row.last_error = outcome.error
            row.sent_at = (now or utcnow()) if outcome.sent else None
            session.add(row)
    if outcome.sent:
        _mark_fixes_notified(ops, [f.run_id for f in message.fixes])
        return NotifySummary(sent=len(ids))
    return NotifySummary(failed=len(ids), errors=[outcome.error])


def list_deliveries(
    ops: Operations, tenant: str | None = None, *, state: str | None = None, limit: int = 50
) -> list[DeliveryRow]:
    """The most recent deliveries of a tenant, newest first (``state`` filters)."""
    if state is not None and state not in STATES:
        raise UsageError(f"unknown state '{state}'", hint=f"use one of: {', '.join(STATES)}")
    if limit < 1:
        raise UsageError("the number of deliveries to list must be at least 1")
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        query = (
            select(Notification, NotificationChannel.name, Finding.policy_id, Finding.resource_uid)
            .join(NotificationChannel, col(Notification.channel_id) == col(NotificationChannel.id))
            .join(Finding, col(Notification.finding_id) == col(Finding.id))
            .where(Notification.tenant_id == ten.id)
            .order_by(col(Notification.created_at).desc())
            .limit(limit)
        )
        if state:
            query = query.where(Notification.state == state)
        return [
            DeliveryRow(
                id=n.id,
                channel=channel,
                finding_id=n.finding_id,
                policy_id=policy_id,
                resource_uid=uid,
                severity=n.severity,
                event=n.event,
                scan_id=n.scan_id,
                state=n.state,
                attempts=n.attempts,
                last_error=n.last_error,
                created_at=n.created_at,
                sent_at=n.sent_at,
            )
            for n, channel, policy_id, uid in session.exec(query)
        ]
