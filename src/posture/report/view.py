"""``ReportData`` -> ``ReportView``: everything a template prints, already decided.

Both the analyst HTML and the customer PDF read the same view, so the two deliverables
never disagree on a count, a label or an order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from posture.report.evidence import Line
from posture.report.findings_view import (
    ControlNames,
    FindingGroup,
    FindingView,
    finding_view,
    group_by_severity,
    report_findings,
    severity_keys,
)
from posture.report.formatting import (
    long_date,
    percent,
    period_end_inclusive,
    period_text,
    timestamp,
)
from posture.report.health import IssueView, connection_message, issue_view
from posture.report.i18n import Messages, load_messages
from posture.report.model import (
    ConnectionHealth,
    FrameworkScore,
    ReportData,
    ReportEvidence,
    ReportFinding,
)
from posture.report.monthly_view import MonthlyView, monthly_view


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class SeverityCount:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class ServiceRow:
    service: str
    counts: tuple[int, ...]  # in the order of ``ReportView.severities``
    total: int


@dataclass(frozen=True)
class ControlView:
    control_id: str
    title: str
    status: str
    status_label: str
    failed_findings: int


@dataclass(frozen=True)
class FrameworkView:
    name: str
    score: int  # 0..100, rounded: also the width of the score bar
    score_text: str
    summary: str
    evaluated: bool
    attention: tuple[ControlView, ...]  # failing or not evaluated
    controls: tuple[ControlView, ...]


@dataclass(frozen=True)
class ConnectionView:
    name: str
    provider: str
    account: str
    status: str
    status_label: str
    message: str
    detail: str
    last_scan: str


@dataclass(frozen=True)
class ReportView:
    lang: str
    tenant: str
    period: str
    intro: str
    generated_at: str
    scan_id: str
    severities: tuple[SeverityCount, ...]  # open findings, every severity, most serious first
    open_count: int
    new_count: int
    resolved_count: int
    resources_scanned: int
    policies_evaluated: int
    services: tuple[ServiceRow, ...]
    findings: tuple[FindingView, ...]  # open, then resolved in the period
    open_groups: tuple[FindingGroup, ...]
    resolved: tuple[FindingView, ...]
    frameworks: tuple[FrameworkView, ...]
    connections: tuple[ConnectionView, ...]
    issues: tuple[IssueView, ...]
    service_choices: tuple[Choice, ...]
    state_choices: tuple[Choice, ...]
    notices: tuple[str, ...] = ()  # first-page warnings: gaps in what the period covers
    coverage: tuple[str, ...] = ()  # one line per connection: how often, from when to when
    times_note: str = ""
    has_data: bool = True  # False: no successful scan at all in the period
    monthly: MonthlyView | None = None  # history, top fixes, waivers, compact appendix


def build_view(data: ReportData, lang: str, *, with_config: bool = False) -> ReportView:
    """Resolve every label and count once, in Python, for one language."""
    messages = load_messages(lang)
    merged = report_findings(data)
    names = ControlNames(data.frameworks, lang)
    lines: dict[ReportEvidence, Line] = {}  # evidence sentences, once per distinct item
    views = tuple(
        finding_view(f, i, messages, names, with_config=with_config, lines=lines)
        for i, f in enumerate(merged, start=1)
    )
    has_data = any(c.status == "covered" for c in data.coverage) or (
        not data.coverage and data.scan_id is not None
    )
    open_findings = [f for f in merged if f.state == "open"]
    keys = severity_keys(merged)
    severities = _severity_counts(open_findings, keys, messages)
    new_count = sum(1 for f in merged if f.is_new)
    resolved_count = sum(1 for f in merged if f.state == "resolved")
    return ReportView(
        lang=lang,
        tenant=data.tenant_name,
        period=period_text(data.period_start, data.period_end, messages),
        intro=_intro(data, (len(open_findings), new_count, resolved_count), messages)
        if has_data
        else messages("coverage.none_at_all", tenant=data.tenant_name),
        generated_at=timestamp(data.generated_at, messages),
        scan_id=data.scan_id or messages("report.none"),
        severities=severities,
        open_count=len(open_findings),
        new_count=new_count,
        resolved_count=resolved_count,
        resources_scanned=data.resources_scanned,
        policies_evaluated=data.policies_evaluated,
        services=_service_rows(open_findings, keys),
        findings=views,
        open_groups=group_by_severity(views, keys, messages),
        resolved=tuple(v for v in views if v.state == "resolved"),
        frameworks=tuple(_framework_view(fw, messages) for fw in data.frameworks),
        connections=tuple(_connection_view(c, messages) for c in data.connections),
        issues=tuple(issue_view(i, messages) for i in data.collection_issues),
        service_choices=tuple(Choice(s, s) for s in sorted({f.service for f in merged})),
        state_choices=_state_choices(merged, messages),
        notices=_notices(data, messages),
        coverage=tuple(
            messages(
                "coverage.dates",
                connection=c.name,
                count=c.succeeded,
                first=timestamp(c.first, messages),
                last=timestamp(c.last, messages),
            )
            for c in data.coverage
            if c.status == "covered"
        ),
        times_note=messages("coverage.times_note", tz=data.timezone),
        has_data=has_data,
        monthly=monthly_view(data, views, messages),
    )


def _moment(value: datetime, messages: Messages) -> str:
    """ "December 2, 2026 08:15 JST" / "2026年12月2日 08:15 JST" for running text."""
    zone = value.tzname()
    return f"{long_date(value, messages)} {value:%H:%M}" + (f" {zone}" if zone else "")


def _failure_text(message: str, code: str, messages: Messages) -> str:
    """The translated reason of a failed connection, with the recorded text as detail."""
    reason = messages.get(f"connection_reason.{code}", "") if code else ""
    if reason and message:
        return f"{reason} {message}"
    return reason or message or messages("report.not_available")


def _notices(data: ReportData, messages: Messages) -> tuple[str, ...]:
    """What the first page must say before any figure: the period's gaps."""
    out: list[str] = []
    if data.covered_until is not None:
        out.append(
            messages(
                "coverage.in_progress",
                start=long_date(data.period_start, messages),
                now=_moment(data.covered_until, messages),
            )
        )
    for gap in data.gaps:
        if gap.status == "failed":
            out.append(
                messages(
                    "coverage.failed",
                    connection=gap.name,
                    count=gap.failed,
                    message=_failure_text(gap.failure, gap.failure_code, messages),
                )
            )
        else:
            out.append(messages("coverage.no_scan", connection=gap.name))
    return tuple(out)


def _intro(data: ReportData, counts: tuple[int, int, int], messages: Messages) -> str:
    """The one-paragraph summary; ``counts`` is (open, new, resolved)."""
    open_count, new_count, resolved_count = counts
    return messages(
        "summary.intro",
        tenant=data.tenant_name,
        start=long_date(data.period_start, messages),
        end=long_date(period_end_inclusive(data.period_start, data.period_end), messages),
        open=open_count,
        new=new_count,
        resolved=resolved_count,
    )


def _severity_counts(
    open_findings: Sequence[ReportFinding], keys: Sequence[str], messages: Messages
) -> tuple[SeverityCount, ...]:
    counts = Counter(f.severity for f in open_findings)
    return tuple(SeverityCount(k, messages.get(f"severity.{k}", k), counts[k]) for k in keys)


def _service_rows(
    open_findings: Sequence[ReportFinding], keys: Sequence[str]
) -> tuple[ServiceRow, ...]:
    """One row per service with open findings, the busiest first."""
    per_service: dict[str, Counter[str]] = {}
    for finding in open_findings:
        per_service.setdefault(finding.service, Counter())[finding.severity] += 1
    rows = [
        ServiceRow(service, tuple(c[k] for k in keys), sum(c.values()))
        for service, c in per_service.items()
    ]
    return tuple(sorted(rows, key=lambda r: (-r.total, r.service)))


def _framework_view(framework: FrameworkScore, messages: Messages) -> FrameworkView:
    controls = tuple(
        ControlView(
            c.control_id,
            c.title.get(messages.lang),
            c.status,
            messages.get(f"control_status.{c.status}", c.status),
            c.failed_findings,
        )
        for c in framework.controls
    )
    summary = messages(
        "compliance.summary",
        passed=framework.controls_passed,
        evaluated=framework.controls_evaluated,
        total=framework.controls_total,
    )
    if framework.controls_unknown:
        summary += " " + messages("compliance.unknown_note", count=framework.controls_unknown)
    return FrameworkView(
        name=framework.name.get(messages.lang),
        score=round(framework.score),
        score_text=percent(framework.score, messages),
        summary=summary,
        evaluated=framework.controls_evaluated > 0,
        attention=tuple(c for c in controls if c.status != "pass"),
        controls=controls,
    )


def _connection_view(connection: ConnectionHealth, messages: Messages) -> ConnectionView:
    last = connection.last_scan_at
    message, detail = connection_message(connection, messages)
    return ConnectionView(
        name=connection.name,
        provider=connection.provider,
        account=connection.account,
        status=connection.status,
        status_label=messages.get(f"connection_status.{connection.status}", connection.status),
        message=message,
        detail=detail,
        last_scan=timestamp(last, messages) if last else messages("connections.never"),
    )


def _state_choices(merged: Sequence[ReportFinding], messages: Messages) -> tuple[Choice, ...]:
    states = sorted({f.state for f in merged}, key=lambda s: (s != "open", s))
    return tuple(Choice(s, messages.get(f"state.{s}", s)) for s in states)
