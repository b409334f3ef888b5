"""Database tables (SQLModel). Migrations under ``migrations/`` must follow any change here."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from posture.store.types import UTCDateTime, utcnow


def new_id() -> str:
    return uuid.uuid4().hex


def _json(default: Any = None) -> Any:
    factory = (lambda: {}) if default is None else default
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))


def _time(nullable: bool = False, index: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UTCDateTime, nullable=True, index=index)
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, index=index)


class Tenant(SQLModel, table=True):
    """A customer organisation and the service menu it bought (``options``)."""

    id: str = Field(default_factory=new_id, primary_key=True)
    slug: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    locale: str = Field(default="ja", max_length=8)
    timezone: str = Field(default="Asia/Tokyo", max_length=64)
    contacts: list[str] = _json(list)
    options: dict[str, Any] = _json()
    created_at: datetime = _time()
    # a paused tenant is neither scanned nor notified nor fixed; its history stays readable
    paused_at: datetime | None = _time(nullable=True)
    paused_reason: str = ""
    paused_by: str = Field(default="", max_length=200)


class Connection(SQLModel, table=True):
    """One connected environment of a tenant; ``settings`` hold references, never secrets."""

    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_connection_tenant_name"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True)
    name: str = Field(max_length=100)
    provider: str = Field(max_length=32)
    settings: dict[str, Any] = _json()
    account: str = Field(default="", max_length=128)
    health: str = Field(default="never", max_length=16)  # never | ok | partial | failed
    health_message: str = Field(default="")
    checked_at: datetime | None = _time(nullable=True)
    created_at: datetime = _time()


class Scan(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True)
    status: str = Field(
        default="running", max_length=16
    )  # running|succeeded|partial|failed|interrupted
    started_at: datetime = _time(index=True)
    finished_at: datetime | None = _time(nullable=True)
    policies: int = 0
    resources: int = 0
    api_calls: int = 0
    # open findings by severity after the scan, for trends
    summary: dict[str, Any] = _json()
    message: str = ""


class ScanTarget(SQLModel, table=True):
    """One connection in one scan: its outcome and collection statistics."""

    __table_args__ = (UniqueConstraint("scan_id", "connection_id", name="uq_scan_target"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    scan_id: str = Field(foreign_key="scan.id", index=True)
    connection_id: str = Field(foreign_key="connection.id", index=True)
    status: str = Field(max_length=16)  # succeeded | partial | failed
    message: str = ""
    resources: int = 0
    api_calls: int = 0
    errors: int = 0
    throttles: int = 0
    seconds: float = 0.0
    stats: dict[str, Any] = _json()
    finished_at: datetime = _time()


class ResourceRecord(SQLModel, table=True):
    """A resource's content, stored once per distinct content (hash) across scans."""

    __tablename__ = "resource"

    hash: str = Field(primary_key=True, max_length=64)
    type: str = Field(max_length=128, index=True)
    uid: str = Field(max_length=2048)
    region: str = Field(max_length=64)
    name: str = Field(max_length=1024)
    account: str = Field(default="", max_length=128)
    tags: dict[str, str] = _json()
    data: dict[str, Any] = _json()


class ScanResource(SQLModel, table=True):
    """Which resource contents made up a scan's inventory (kept for offline re-evaluation)."""

    __tablename__ = "scan_resource"

    scan_id: str = Field(foreign_key="scan.id", primary_key=True)
    connection_id: str = Field(foreign_key="connection.id", primary_key=True)
    resource_hash: str = Field(foreign_key="resource.hash", primary_key=True, max_length=64)


class Finding(SQLModel, table=True):
    """A policy failing on a resource, across scans. ``id`` = hash(tenant, policy, uid)."""

    __table_args__ = (
        UniqueConstraint("tenant_id", "policy_id", "resource_uid", name="uq_finding_identity"),
        Index("ix_finding_tenant_state", "tenant_id", "state"),
    )

    id: str = Field(primary_key=True, max_length=64)
    tenant_id: str = Field(foreign_key="tenant.id")
    connection_id: str = Field(foreign_key="connection.id", index=True)
    policy_id: str = Field(max_length=200, index=True)
    resource_type: str = Field(max_length=128)
    resource_uid: str = Field(max_length=2048)
    resource_name: str = Field(default="", max_length=1024)
    region: str = Field(default="", max_length=64)
    severity: str = Field(max_length=16)
    state: str = Field(default="open", max_length=16)  # open | resolved | waived
    evidence: list[dict[str, Any]] = _json(list)
    # the finding sentence per language and the recommendation's filled-in commands
    statement: dict[str, str] = _json()
    commands: list[str] = _json(list)
    first_seen: datetime = _time()
    last_seen: datetime = _time()
    resolved_at: datetime | None = _time(nullable=True)
    reopened: int = 0
    last_scan_id: str = Field(default="", max_length=32)
    # the resource's tags when last seen (waivers scoped by tag match them)
    tags: dict[str, str] = _json()
    waiver_id: str = Field(default="", max_length=32)  # the waiver a waived finding is under


class ResultRecord(SQLModel, table=True):
    """Every outcome of a scan, passes included: the record an auditor asks for."""

    __tablename__ = "result"
    __table_args__ = (Index("ix_result_scan_connection", "scan_id", "connection_id"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True)
    scan_id: str = Field(foreign_key="scan.id")
    connection_id: str = Field(foreign_key="connection.id")
    policy_id: str = Field(max_length=200)
    resource_type: str = Field(max_length=128)
    resource_uid: str = Field(default="", max_length=2048)  # empty for a failed scope
    resource_name: str = Field(default="", max_length=1024)
    region: str = Field(default="", max_length=64)
    status: str = Field(max_length=16)  # pass | fail | not_applicable | error | unknown
    reason: str = ""
    statement: dict[str, str] = _json()
    evidence: list[dict[str, Any]] = _json(list)


class NotificationChannel(SQLModel, table=True):
    """Where a tenant's new and reopened findings are sent: e-mail, Slack, Teams or a webhook.

    ``settings`` hold addresses and the names of environment variables that carry secrets
    (SMTP password, webhook URL with its token, HMAC key), never the secrets themselves.
    """

    __tablename__ = "notification_channel"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name", name="uq_notification_channel_tenant_name"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=16)  # email | slack | teams | webhook
    settings: dict[str, Any] = _json()
    min_severity: str = Field(default="high", max_length=16)
    mode: str = Field(default="immediate", max_length=16)  # immediate | digest
    retries: int = 3  # attempts after the first one
    backoff_seconds: float = 2.0  # the first wait; doubled before each further attempt
    created_at: datetime = _time()


class Notification(SQLModel, table=True):
    """One finding's state change delivered (or to be delivered) to one channel.

    The key (channel, finding, scan that opened or reopened it) makes every state change
    notify once, however often the delivery is retried or the scan's hook runs.
    """

    __table_args__ = (
        UniqueConstraint("channel_id", "finding_id", "scan_id", name="uq_notification_event"),
        Index("ix_notification_channel_state", "channel_id", "state"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True)
    channel_id: str = Field(foreign_key="notification_channel.id")
    finding_id: str = Field(foreign_key="finding.id", max_length=64)
    scan_id: str = Field(foreign_key="scan.id")  # the scan that opened or reopened the finding
    event: str = Field(max_length=16)  # opened | reopened
    severity: str = Field(max_length=16)
    state: str = Field(default="queued", max_length=16)  # queued | sending | sent | failed
    attempts: int = 0
    last_error: str = ""
    created_at: datetime = _time()
    claimed_at: datetime | None = _time(nullable=True)  # when a process began sending it
    sent_at: datetime | None = _time(nullable=True)


class FindingEvent(SQLModel, table=True):
    """One state change of a finding; append-only, the source of every history figure.

    ``kind``: opened | resolved | reopened | waived | waiver_lapsed | unwaived. ``reason`` is
    a code (``no_longer_fails``, ``resource_deleted``, ...) the message catalogs translate;
    ``severity`` is the finding's severity at that moment; ``scan_id`` is empty for a change
    made outside a scan (a waiver added or revoked, the first migration).
    """

    __tablename__ = "finding_event"
    __table_args__ = (
        Index("ix_finding_event_tenant_at", "tenant_id", "at"),
        Index("ix_finding_event_finding_at", "finding_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    finding_id: str = Field(foreign_key="finding.id", max_length=64)
    tenant_id: str = Field(foreign_key="tenant.id")
    scan_id: str = Field(default="", max_length=32)
    at: datetime = _time()
    kind: str = Field(max_length=16)
    reason: str = Field(default="", max_length=32)
    severity: str = Field(max_length=16)
    waiver_id: str = Field(default="", max_length=32)


class Waiver(SQLModel, table=True):
    """An accepted risk: which findings it covers, why, who approved it and until when.

    The scope is every non-empty criterion together (policy id or glob, resource uid glob,
    one tag, one connection), or the whole tenant. It is in force until ``expires_at``, the
    end of the expiry day in the tenant's time zone, unless revoked before.
    """

    id: str = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True)
    policy: str = Field(default="", max_length=200)
    resource: str = Field(default="", max_length=2048)
    tag_key: str = Field(default="", max_length=256)
    tag_value: str = Field(default="", max_length=256)
    connection_id: str | None = Field(default=None, foreign_key="connection.id")
    whole_tenant: bool = False
    reason: str
    requested_by: str = Field(max_length=200)
    approved_by: str = Field(max_length=200)
    expires_on: date
    expires_at: datetime = _time()
    created_at: datetime = _time()
    revoked_at: datetime | None = _time(nullable=True)
    revoked_by: str = Field(default="", max_length=200)
    revoke_reason: str = ""


class Schedule(SQLModel, table=True):
    """A recurring job of a tenant: a scan, the monthly report or retention.

    ``cron`` is a standard five-field crontab expression (0 or 7 = Sunday) read in
    ``timezone``, the tenant's by default. The scheduler's own job store is derived from
    these rows; this table is the source of truth.
    """

    id: str = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True)
    kind: str = Field(max_length=32)  # scan | monthly_report | retention
    cron: str = Field(max_length=200)
    timezone: str = Field(default="Asia/Tokyo", max_length=64)
    options: dict[str, Any] = _json()
    enabled: bool = True
    created_at: datetime = _time()
    updated_at: datetime = _time()


class JobRun(SQLModel, table=True):
    """One run of a schedule for one scheduled time.

    The row is inserted, and committed, before the work starts: the unique
    (schedule, scheduled time) pair is the lock that lets only one scheduler process run
    it, once, across processes and restarts.
    """

    __tablename__ = "job_run"
    __table_args__ = (
        UniqueConstraint("schedule_id", "scheduled_for", name="uq_job_run_schedule_time"),
    )

    id: int | None = Field(default=None, primary_key=True)
    schedule_id: str = Field(max_length=32, index=True)  # kept after the schedule is removed
    tenant_id: str = Field(foreign_key="tenant.id", index=True)
    kind: str = Field(max_length=32)
    scheduled_for: datetime = Field(sa_type=UTCDateTime, nullable=False)
    started_at: datetime = _time()
    finished_at: datetime | None = _time(nullable=True)
    # running | succeeded | failed | missed | interrupted (its process died mid-run)
    # | paused (refused: the tenant was paused)
    outcome: str = Field(default="running", max_length=16)
    error: str = ""
    detail: dict[str, Any] = _json()
    runner: str = Field(default="", max_length=200)  # host:pid of the scheduler process


class AuditEntry(SQLModel, table=True):
    """One operator action. Append-only: ``hash`` chains it to the entry before it.

    ``seq`` numbers the chain without gaps, so a deleted or inserted entry shows; the
    tenant is kept by slug, not by key, so the record outlives the tenant.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_tenant_at", "tenant", "at"),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = _time(index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64, index=True)
    tenant: str = Field(default="", max_length=64)
    target: str = Field(default="", max_length=1024)
    details: dict[str, Any] = _json()
    source: str = Field(default="", max_length=300)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditChain(SQLModel, table=True):
    """The single row holding the chain's head, its anchor and the retention setting.

    Every append locks this row, so concurrent writers on PostgreSQL queue up and the
    chain stays one line. The anchor is the last purged entry: the chain starts after it.
    """

    __tablename__ = "audit_chain"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    head_seq: int = 0
    head_hash: str = Field(default="", max_length=64)
    anchor_seq: int = 0
    anchor_hash: str = Field(default="", max_length=64)
    anchored_at: datetime | None = _time(nullable=True)
    retention_days: int = 90


class FixRun(SQLModel, table=True):
    """One fix on one resource for one finding: plan, approval, before/after, outcome.

    ``state``: planned | approved | applying | applied | verified | failed | aborted |
    rolling_back | rolled_back. Each step commits its state before the next one starts,
    so a process that dies between two steps leaves a state ``resume_fix_runs`` can take up.
    """

    __tablename__ = "fix_run"
    __table_args__ = (
        Index("ix_fix_run_tenant_state", "tenant_id", "state"),
        Index("ix_fix_run_tenant_applied", "tenant_id", "applied_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id")
    connection_id: str = Field(foreign_key="connection.id", index=True)
    finding_id: str = Field(foreign_key="finding.id", max_length=64, index=True)
    fix_id: str = Field(max_length=200)
    policy_id: str = Field(max_length=200)
    resource_type: str = Field(max_length=128)
    resource_uid: str = Field(max_length=2048)
    resource_name: str = Field(default="", max_length=1024)
    region: str = Field(default="", max_length=64)
    risk: str = Field(max_length=8)
    state: str = Field(default="planned", max_length=16)
    reason: str = ""  # why it failed, aborted or was rolled back
    before: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: Any = Field(default=None, sa_column=Column(JSON, nullable=True))
    # the resource as the last scan stored it (what templates read), so apply needs no scan
    resource: dict[str, Any] = _json()
    auto: bool = False  # planned, approved and applied by the automatic mode
    planned_by: str = Field(max_length=200)
    planned_at: datetime = _time()
    approved_by: str = Field(default="", max_length=200)
    approved_at: datetime | None = _time(nullable=True)
    applied_by: str = Field(default="", max_length=200)
    applied_at: datetime | None = _time(nullable=True)  # when the change was started
    finished_at: datetime | None = _time(nullable=True)
    verify_scan_id: str = Field(default="", max_length=32)
    notified: bool = False  # announced in a notification (automatic runs)
    steps: list[dict[str, Any]] = _json(list)  # {at, step, actor, detail} in order
    updated_at: datetime = _time()


class FixControl(SQLModel, table=True):
    """The single row of the global kill switch of setting repair, seen by every process."""

    __tablename__ = "fix_control"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    disabled: bool = False
    reason: str = ""
    changed_by: str = Field(default="", max_length=200)
    changed_at: datetime | None = _time(nullable=True)


class WorkerHeartbeat(SQLModel, table=True):
    """One Celery worker as it last reported itself: alive while its heartbeat is recent."""

    __tablename__ = "worker_heartbeat"

    name: str = Field(primary_key=True, max_length=200)  # the worker's node name, name@host
    pid: int = 0
    queues: list[str] = _json(list)
    concurrency: int = 0
    started_at: datetime = _time()
    last_seen: datetime = _time(index=True)
    stopped_at: datetime | None = _time(nullable=True)
    running: int = 0  # tasks running when it last reported
    processed: int = 0  # tasks it finished since it started
    failed: int = 0  # tasks that ended in an error (a lost child process included)


class UserAccount(SQLModel, table=True):
    """A person who signs in to the console or the API.

    Provider roles (provider_admin, analyst, auditor) have no tenant; customer roles
    (customer_admin, customer_viewer) belong to exactly one. Only an argon2id hash of the
    password is kept.
    """

    __tablename__ = "user_account"

    id: str = Field(default_factory=new_id, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=200)
    display_name: str = Field(default="", max_length=200)
    password_hash: str = Field(default="", max_length=255)
    role: str = Field(max_length=32)
    tenant_id: str | None = Field(default=None, foreign_key="tenant.id", index=True)
    locale: str = Field(default="ja", max_length=8)
    disabled: bool = False
    failed_attempts: int = 0
    locked_until: datetime | None = _time(nullable=True)
    password_changed_at: datetime | None = _time(nullable=True)
    must_change_password: bool = False
    created_at: datetime = _time()
    last_login_at: datetime | None = _time(nullable=True)
    # single sign-on: the address an administrator gave (the first OpenID Connect sign-in
    # with this verified address binds the account), then the identity provider's
    # "issuer|subject", which alone signs the account in from then on
    email: str | None = Field(default=None, unique=True, index=True, max_length=254)
    oidc_subject: str | None = Field(default=None, unique=True, index=True, max_length=600)


class WebSession(SQLModel, table=True):
    """A signed-in browser: only the SHA-256 of its cookie value is kept."""

    __tablename__ = "web_session"

    id: str = Field(default_factory=new_id, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    user_id: str = Field(foreign_key="user_account.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _time()
    last_seen_at: datetime = _time()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    source: str = Field(default="", max_length=300)


class ApiToken(SQLModel, table=True):
    """An API token ``pst_<public_id>_<secret>``: the public id is shown, the secret hashed."""

    __tablename__ = "api_token"

    id: str = Field(default_factory=new_id, primary_key=True)
    public_id: str = Field(unique=True, index=True, max_length=32)
    secret_hash: str = Field(max_length=64)
    user_id: str = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=100)
    scopes: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = _time()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = _time(nullable=True)
    last_used_at: datetime | None = _time(nullable=True)
