"""What a report shows, as plain values; built from the store, rendered by templates.

Templates receive only these objects (plus the message catalog), never a database session
or a provider client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Text:
    """A customer-facing string in both languages."""

    en: str
    ja: str

    def get(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


@dataclass(frozen=True)
class ReportEvidence:
    path: str
    op: str
    expected: Any
    actual: Any
    negated: bool = False


@dataclass(frozen=True)
class ReportFinding:
    finding_id: str  # stable identity (hash of tenant + policy + resource uid)
    policy_id: str
    title: Text
    rationale: Text
    recommendation: Text
    severity: str  # critical | high | medium | low | info
    service: str  # e.g. "s3"
    provider: str  # e.g. "aws"
    resource_type: str
    resource_uid: str
    resource_name: str
    region: str
    connection: str  # connection name
    state: str  # open | resolved
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    evidence: tuple[ReportEvidence, ...]
    controls: tuple[tuple[str, str], ...]  # (framework id, control id)
    is_new: bool  # first seen inside the report period
    statement: Text | None = None  # the finding's sentence, naming resource and values
    commands: tuple[str, ...] = ()  # recommendation commands filled for this resource
    config: Any = None  # the resource's collected configuration (analyst report)


@dataclass(frozen=True)
class ControlScore:
    control_id: str
    title: Text
    status: str  # pass | fail | error | unknown
    failed_findings: int


@dataclass(frozen=True)
class FrameworkScore:
    framework_id: str
    name: Text
    controls_total: int  # in the framework
    controls_evaluated: int  # mapped by at least one policy that ran
    controls_passed: int
    controls: tuple[ControlScore, ...]
    # evaluated controls posture cannot judge by design (``unknown``): neither pass nor fail,
    # so they are left out of the score
    controls_unknown: int = 0

    @property
    def score(self) -> float:
        """Share of the judged evaluated controls that pass, 0..100."""
        judged = self.controls_evaluated - self.controls_unknown
        if judged <= 0:
            return 0.0
        return 100.0 * self.controls_passed / judged


@dataclass(frozen=True)
class TrendPoint:
    """Open findings by severity after one scan."""

    at: datetime
    by_severity: dict[str, int]


@dataclass(frozen=True)
class ConnectionHealth:
    name: str
    provider: str
    account: str
    status: str  # ok | failed | partial | never | no_scan (none in the period)
    message: str
    last_scan_at: datetime | None
    reason_code: str = ""  # why it failed, e.g. endpoint_unreachable (connection_reason.*)


@dataclass(frozen=True)
class ConnectionCoverage:
    """What the scans of the period saw of one connection."""

    name: str
    provider: str
    succeeded: int  # scans that collected it (fully or partly)
    failed: int  # scans in which it failed outright
    first: datetime | None  # first and last successful collection in the period
    last: datetime | None
    failure: str = ""  # message of the latest failure, if any
    failure_code: str = ""  # its reason code (connection_reason.* in the catalogs)

    @property
    def status(self) -> str:
        """covered | failed (only failed attempts) | no_scan (not even attempted)."""
        if self.succeeded:
            return "covered"
        return "failed" if self.failed else "no_scan"


@dataclass(frozen=True)
class CollectionIssue:
    connection: str
    resource_type: str
    region: str
    message: str  # as recorded, in English: shown as a detail under a catalog sentence
    code: str = ""  # the provider's error code, or posture's (InternalError, SpecError)
    permission: str = ""  # the API permission the failed call needs


@dataclass
class ReportData:
    tenant_name: str
    tenant_slug: str
    period_start: datetime
    period_end: datetime
    generated_at: datetime
    scan_id: str | None  # latest scan included
    findings: list[ReportFinding] = field(default_factory=list)  # open ones first
    resolved_in_period: list[ReportFinding] = field(default_factory=list)
    frameworks: list[FrameworkScore] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)
    connections: list[ConnectionHealth] = field(default_factory=list)
    collection_issues: list[CollectionIssue] = field(default_factory=list)
    resources_scanned: int = 0
    policies_evaluated: int = 0
    timezone: str = "UTC"
    coverage: list[ConnectionCoverage] = field(default_factory=list)
    # set while the period is still running: the report covers up to this moment
    covered_until: datetime | None = None
    history: History = field(default_factory=lambda: History())
    branding: Branding = field(default_factory=lambda: Branding())
    # Amazon Inspector's findings per affected resource (empty: no data or switched off)
    vulnerabilities: Any = None
    # setting repair: the period's fix runs (a ``fix_runs.FixRunsReport``; None: not read)
    fix_runs: Any = None

    @property
    def gaps(self) -> list[ConnectionCoverage]:
        """Connections the period has no successful scan of."""
        return [c for c in self.coverage if c.status != "covered"]

    @property
    def open_findings(self) -> list[ReportFinding]:
        return [f for f in self.findings if f.state == "open"]


# ---- history: what the monthly report needs beyond the state of the latest scan ----------


@dataclass(frozen=True)
class MonthTrend:
    """One month of the 12-month trend, as it stood at the end of that month."""

    month: str  # YYYY-MM in the tenant's time zone
    open_by_severity: dict[str, int]
    new: int  # first seen in the month
    resolved: int  # resolved in the month
    score: float | None = None  # posture score 0..100 at the month's last scan, if known


@dataclass(frozen=True)
class PeriodCounts:
    """Changes inside the report period."""

    new: int
    resolved: int
    reopened: int
    mttr_days: float | None  # mean time to resolve of the findings resolved in the period


@dataclass(frozen=True)
class WaiverLine:
    """An accepted risk in force during the period."""

    policy_id: str
    title: Text
    scope: str  # what it covers, e.g. a resource pattern, a connection or "tenant"
    reason: str
    approved_by: str
    expires_at: datetime | None  # None: no expiry
    findings: int  # findings it covers
    expiring: bool = False  # expires within 30 days of the period end


@dataclass
class History:
    """Trend, period counts and waivers; ``None`` fields are not known for this period."""

    months: list[MonthTrend] = field(default_factory=list)  # oldest first, up to 12
    counts: PeriodCounts | None = None
    waivers: list[WaiverLine] | None = None
    # framework id -> controls passing at the end of the previous month
    previous_passed: dict[str, int] | None = None


@dataclass(frozen=True)
class Branding:
    """Cover page: the provider's and the customer's names and optional logos."""

    provider_name: str = ""
    provider_logo: str = ""  # data: URI of an image, or ""
    customer_logo: str = ""
