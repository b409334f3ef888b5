"""The API's response and request bodies: precise shapes for the OpenAPI schema.

Responses are built from the operations' own dataclasses (``from_attributes``), so a field
the operations add does not leak into the API unnoticed, and one they drop fails loudly.
Settings of connections (which may name credential files or environment variables) and
the raw options of tenants are left out on purpose.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class Model(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Body(BaseModel):
    """A request body: unknown fields are refused, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")


class TextOut(Model):
    en: str
    ja: str


class Page(Model, Generic[T]):
    """One page of a list; ``next`` is the URL of the following page (null on the last)."""

    items: list[T]
    total: int
    offset: int
    limit: int
    next: str | None = None


class Me(Model):
    user_id: str
    username: str
    role: str
    tenant: str | None = None
    scopes: list[str] | None = None
    tenants: list[str] | None = Field(None, description="Tenant ids it may see; null: every tenant")


class TenantOut(Model):
    slug: str
    name: str
    locale: str
    timezone: str
    created_at: datetime | None = None
    paused: bool = False
    paused_at: datetime | None = None
    paused_reason: str = ""


class PauseRequest(Body):
    reason: str = Field(
        min_length=1, max_length=500, description="Why (shown wherever it is paused)"
    )


class MenuOut(Model):
    """The service menu a tenant bought and how much of it is in use."""

    tenant: str
    plan: str
    sspm: bool
    cspm: bool
    vulnerability_view: bool
    setting_repair: bool
    max_connections: int | None = None
    extra_connections: int = 0
    strict_limits: bool = False
    connections: int
    connection_limit: int | None = None
    over_limit: int = 0


class WorkerOut(Model):
    name: str
    pid: int
    queues: list[str]
    concurrency: int
    started_at: datetime
    last_seen: datetime
    stopped_at: datetime | None = None
    alive: bool
    running: int
    processed: int
    failed: int


class ServiceStatusOut(Model):
    """Workers (alive while their heartbeat is recent) and the depth of each queue."""

    checked_at: datetime
    workers: list[WorkerOut]
    queues: dict[str, int]
    broker: str
    broker_error: str


class ConnectionOut(Model):
    tenant: str
    name: str
    provider: str
    account: str
    health: str
    health_message: str
    checked_at: datetime | None = None


class ConnectionCheckOut(Model):
    tenant: str
    connection: str
    health: str
    message: str
    account: str = ""
    reason: str = ""


class ScanOut(Model):
    id: str
    tenant: str
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    policies: int
    resources: int
    api_calls: int
    open_by_severity: dict[str, int]
    message: str


class TypeStatsOut(Model):
    resource_type: str
    calls: int
    errors: int
    throttles: int
    resources: int
    seconds: float


class ScopeFailureOut(Model):
    resource_type: str
    region: str
    message: str
    code: str = ""
    permission: str = ""


class TargetOut(Model):
    connection: str
    provider: str
    status: str
    message: str
    resources: int
    api_calls: int
    reason: str = ""
    types: list[TypeStatsOut]
    failures: list[ScopeFailureOut]


class ScanDetailOut(Model):
    scan: ScanOut
    targets: list[TargetOut]


class ScanRequest(Body):
    connections: list[str] = Field(default_factory=list, max_length=100)
    policies: list[str] = Field(
        default_factory=list, max_length=500, description="Exact ids, id prefixes or globs"
    )


class ScanStarted(Model):
    scan_id: str
    tenant: str
    status: Literal["running"] = "running"
    url: str


class FindingOut(Model):
    id: str
    policy_id: str
    status: str
    severity: str
    title: TextOut
    statement: TextOut
    resource_uid: str
    resource_name: str
    resource_type: str
    connection: str
    region: str
    scan_id: str
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None = None
    waiver_id: str = ""


class EventOut(Model):
    at: datetime
    kind: str
    reason: str
    severity: str
    scan_id: str
    waiver_id: str


class FindingDetailOut(FindingOut):
    recommendation: TextOut
    commands: list[str]
    frameworks: dict[str, list[str]]
    evidence: list[dict[str, Any]]
    events: list[EventOut] = Field(default_factory=list)


class WaiverChangesOut(Model):
    waived: int = 0
    lapsed: int = 0
    unwaived: int = 0


class WaiverOut(Model):
    id: str
    tenant: str
    policy: str
    resource: str
    tag: str
    connection: str
    whole_tenant: bool
    reason: str
    requested_by: str
    approved_by: str
    expires_on: date
    expires_at: datetime
    created_at: datetime
    status: str
    findings: int = 0
    revoked_at: datetime | None = None
    revoked_by: str = ""
    revoke_reason: str = ""
    changes: WaiverChangesOut


class WaiverRequest(Body):
    reason: str = Field(min_length=1, max_length=2000)
    expires: date = Field(description="Last day in force, in the tenant's time zone")
    requested_by: str = Field("", max_length=200, description="Default: the caller")
    policy: str = Field("", max_length=200)
    resource: str = Field("", max_length=2048)
    tag: str = Field("", max_length=512, description="key=value")
    connection: str = Field("", max_length=200)
    whole_tenant: bool = False


class RevokeRequest(Body):
    reason: str = Field("", max_length=2000)


class FileOut(Model):
    id: str
    tenant: str
    kind: str
    format: str
    size: int
    created_at: datetime
    url: str


ReportFormat = Literal["pdf", "html"]
PDF: ReportFormat = "pdf"


class ReportRequest(Body):
    period: str | None = Field(None, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")
    formats: list[ReportFormat] = Field(default_factory=lambda: [PDF], min_length=1)
    languages: list[Literal["ja", "en"]] = Field(default_factory=list)


class ReportFileOut(Model):
    name: str = Field(description="The report's id in its tenant's report folder")
    format: str
    language: str
    period: str
    size: int
    written_at: datetime
    delivered_at: datetime | None = None
    delivered_by: str = ""
    delivered_to: str = ""
    url: str = ""


class DeliveredRequest(Body):
    to: str = Field("", max_length=500, description="Who received it (an address, a name)")


class ReportGenerated(Model):
    period: str
    files: list[ReportFileOut]
    gaps: list[str] = Field(description="Connections without a successful scan in the period")


class ExportRequest(Body):
    format: Literal["csv", "json", "ocsf"]
    month: str | None = Field(None, pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")
    lang: Literal["ja", "en"] | None = None


class AuditOut(Model):
    seq: int
    at: datetime
    actor: str
    action: str
    tenant: str
    target: str
    details: dict[str, Any]
    source: str
    prev_hash: str
    hash: str


class UsageOut(Model):
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


class Health(Model):
    status: Literal["ok"] = "ok"


class Ready(Model):
    ready: bool
    store: str


class UserOut(Model):
    username: str
    display_name: str
    role: str
    tenant: str | None = None
    locale: str
    email: str | None = None
    sso_linked: bool = Field(False, description="A single sign-on identity is linked")
    disabled: bool
    locked_until: datetime | None = None
    must_change_password: bool
    created_at: datetime | None = None
    last_login_at: datetime | None = None


class UserRequest(Body):
    username: str = Field(min_length=1, max_length=100)
    role: Literal["provider_admin", "analyst", "auditor", "customer_admin", "customer_viewer"]
    tenant: str | None = Field(None, max_length=63, description="For the customer roles")
    display_name: str = Field("", max_length=200)
    locale: Literal["ja", "en"] = "ja"
    email: str | None = Field(
        None, max_length=254, description="Single sign-on links the account by this address"
    )


class EmailRequest(Body):
    email: str | None = Field(
        max_length=254, description="The new address; null removes it (and the SSO link)"
    )


class UserCreated(Model):
    user: UserOut
    one_time_password: str = Field(description="Shown once; changed at the first sign-in")


class RoleRequest(Body):
    role: Literal["provider_admin", "analyst", "auditor", "customer_admin", "customer_viewer"]


class TokenOut(Model):
    id: str
    prefix: str
    name: str
    username: str
    scopes: list[str] | None = None
    created_at: datetime | None = None
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    state: Literal["active", "expired", "revoked"]


class TokenRequest(Body):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] | None = Field(
        None, max_length=30, description="Permissions; null: every right of the caller's role"
    )
    expires_days: int = Field(90, ge=1, le=366)


class TokenCreated(Model):
    token: TokenOut
    secret: str = Field(description="Shown once: send it as 'Authorization: Bearer <secret>'")


class FixRunOut(Model):
    id: str
    tenant: str
    connection: str
    fix_id: str
    policy_id: str
    finding_id: str
    resource_uid: str
    resource_name: str
    region: str
    risk: str
    state: str
    reason: str
    before: Any = None
    after: Any = None
    auto: bool
    planned_by: str
    planned_at: datetime
    approved_by: str
    approved_at: datetime | None = None
    applied_by: str
    applied_at: datetime | None = None
    finished_at: datetime | None = None
    verify_scan_id: str
    steps: list[dict[str, Any]] = Field(default_factory=list)


class FixRefusalOut(Model):
    finding_id: str
    policy_id: str
    resource_uid: str
    reason: str
    message: str


class ManualStepOut(Model):
    finding_id: str
    policy_id: str
    resource_uid: str
    fix_id: str
    recommendation: dict[str, str]
    commands: list[str]


class FixPlanOut(Model):
    runs: list[FixRunOut]
    refused: list[FixRefusalOut]
    manual: list[ManualStepOut]


class FixPlanRequest(Body):
    findings: list[str] = Field(default_factory=list, max_length=500)
    policies: list[str] = Field(default_factory=list, max_length=100)
    resources: list[str] = Field(default_factory=list, max_length=500)
    connection: str | None = Field(None, max_length=200)
    max_risk: Literal["low", "medium", "high"] | None = None


class FixApplyRequest(Body):
    execute: bool = Field(False, description="False: only re-check the live state (a dry run)")


class FixApplyOut(Model):
    run: FixRunOut
    executed: bool
    live: Any = None
    would_abort: str = ""
