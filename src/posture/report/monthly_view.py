"""The parts of the monthly report that read history: score and trend, the period's
changes, the top fixes ranked by risk, waivers and the compact appendix.

Ranking and wording are decided here, once, for both the PDF and the analyst HTML.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from posture.report.findings_view import FindingView, severity_rank
from posture.report.fix_runs import OUTCOMES, FixRunLine, FixRunsReport
from posture.report.formatting import percent, short_date, timestamp
from posture.report.i18n import Messages
from posture.report.model import FrameworkScore, PeriodCounts, ReportData

# risk of a policy = weight of its severity x number of affected resources
SEVERITY_WEIGHT = {"critical": 10, "high": 5, "medium": 2, "low": 1, "info": 0}
TOP_FIXES = 10
COMMANDS_SHOWN = 3
VULNERABILITY_ROWS_SHOWN = 50  # in the PDF; the analyst report lists every resource
APPENDIX_MAX_LINES = 5000  # beyond this the PDF refers to the analyst report and exports
FAILING_SHOWN = 10  # failing controls listed per framework in the PDF


@dataclass(frozen=True)
class FixView:
    rank: int
    policy_id: str
    title: str
    severity: str
    severity_label: str
    affected: int
    risk: int
    recommendation: str
    commands: tuple[str, ...]  # the first few resources' commands
    more: str  # "and N more resources" or ""


@dataclass(frozen=True)
class AppendixRow:
    resource: str
    uid: str
    statement: str


@dataclass(frozen=True)
class AppendixGroup:
    """Open findings of one policy: its severity and title once, then one line each."""

    policy_id: str
    severity: str
    severity_label: str
    title: str
    rows: tuple[AppendixRow, ...]


@dataclass(frozen=True)
class MonthView:
    label: str
    open_total: int
    new: int
    resolved: int
    score: str


@dataclass(frozen=True)
class WaiverView:
    title: str
    scope: str
    reason: str
    approved_by: str
    expires: str
    findings: int
    expiring: bool


@dataclass(frozen=True)
class FailingControl:
    control_id: str
    title: str
    status: str
    status_label: str
    failed_findings: int


@dataclass(frozen=True)
class ComplianceLine:
    name: str
    passed: int
    failing: int
    evaluated: int
    score: str
    change: str
    top_failing: tuple[FailingControl, ...] = ()  # most failed findings first
    more_failing: str = ""  # "N more failing controls..." or ""
    unknown: int = 0  # evaluated controls posture cannot judge: neither passing nor failing


@dataclass(frozen=True)
class VulnerabilityRow:
    resource: str
    kind: str  # in the reader's language
    critical: int
    high: int
    exploitable: int
    fixable: int
    top: str  # the most serious vulnerability ids, comma separated


@dataclass(frozen=True)
class RepairRow:
    """One fix run in the reader's language; ``before``/``after`` as indented JSON text."""

    run_id: str
    fix_id: str
    fix_title: str
    policy_id: str
    policy_title: str
    resource: str
    uid: str  # the resource's uid when it differs from its name, else ""
    connection: str
    region: str
    approved_by: str
    applied_by: str
    applied: str
    finished: str
    outcome: str  # the run's state
    outcome_label: str
    reason: str
    resolved: str  # the finding it resolved, or the "nothing resolved" mark
    before: str
    after: str


@dataclass(frozen=True)
class RepairView:
    counts: tuple[tuple[str, str, int], ...]  # (outcome, label, runs)
    rows: tuple[RepairRow, ...]
    note: str  # sentence when the period has no runs, or ""


@dataclass(frozen=True)
class MonthlyView:
    score: str  # posture score of the latest month, or the "not available" mark
    score_note: str  # its change since the month before, one sentence
    counts: tuple[tuple[str, str], ...]  # (label, value): new, resolved, reopened, MTTR
    months: tuple[MonthView, ...]
    months_note: str  # sentence when there is no trend
    fixes: tuple[FixView, ...]
    appendix: tuple[AppendixGroup, ...]
    appendix_more: str  # sentence when the appendix is cut at APPENDIX_MAX_LINES, or ""
    waivers: tuple[WaiverView, ...]
    waivers_note: str  # sentence when none are listed
    compliance: tuple[ComplianceLine, ...]
    provider_name: str
    provider_logo: str
    customer_logo: str
    vulnerabilities: tuple[VulnerabilityRow, ...] = ()  # every affected resource, worst first
    vulnerabilities_shown: int = 0  # how many the PDF prints
    vulnerabilities_more: str = ""  # sentence when the PDF cuts the list
    repair: RepairView | None = None  # setting repair: None when not shown at all


def risk_weight(severity: str) -> int:
    return SEVERITY_WEIGHT.get(severity, 0)


def top_fixes(open_views: Sequence[FindingView], messages: Messages) -> tuple[FixView, ...]:
    """Policies with open findings ranked by severity weight x affected resources."""
    per_policy: dict[str, list[FindingView]] = {}
    for view in open_views:
        per_policy.setdefault(view.policy_id, []).append(view)
    ranked = sorted(
        per_policy.values(),
        key=lambda found: (
            -risk_weight(found[0].severity) * len(found),
            -severity_rank(found[0].severity),
            -len(found),
            found[0].policy_id,
        ),
    )
    out = []
    for rank, found in enumerate(ranked[:TOP_FIXES], start=1):
        commands: list[str] = []
        with_commands = [f for f in found if f.commands]
        for f in with_commands[:COMMANDS_SHOWN]:
            commands.extend(c for c in f.commands if c not in commands)
        rest = len(with_commands) - COMMANDS_SHOWN
        first = found[0]
        out.append(
            FixView(
                rank=rank,
                policy_id=first.policy_id,
                title=first.title,
                severity=first.severity,
                severity_label=first.severity_label,
                affected=len(found),
                risk=risk_weight(first.severity) * len(found),
                recommendation=first.recommendation,
                commands=tuple(commands),
                more=messages("fixes.more", count=rest) if rest > 0 else "",
            )
        )
    return tuple(out)


def appendix(open_views: Sequence[FindingView]) -> tuple[AppendixGroup, ...]:
    """Open findings per policy, most serious first, in the builder's order otherwise.

    At most ``APPENDIX_MAX_LINES`` lines: the most serious are kept (the builder sorts by
    severity), the rest are counted in ``MonthlyView.appendix_more``.
    """
    members: dict[str, list[FindingView]] = {}
    for view in open_views[:APPENDIX_MAX_LINES]:
        members.setdefault(view.policy_id, []).append(view)
    groups = [
        AppendixGroup(
            policy_id=policy_id,
            severity=found[0].severity,
            severity_label=found[0].severity_label,
            title=found[0].title,
            rows=tuple(
                AppendixRow(
                    v.resource_name,
                    v.resource_uid if v.resource_uid != v.resource_name else "",
                    v.statement,
                )
                for v in found
            ),
        )
        for policy_id, found in members.items()
    ]
    return tuple(sorted(groups, key=lambda g: -severity_rank(g.severity)))


def _days(value: float | None, messages: Messages) -> str:
    if value is None:
        return messages("report.not_available")
    return messages("history.days", days=f"{value:.1f}")


def _compliance(data: ReportData, messages: Messages) -> tuple[ComplianceLine, ...]:
    previous = data.history.previous_passed
    out = []
    for fw in data.frameworks:
        change = ""
        if previous is not None and fw.framework_id in previous:
            delta = fw.controls_passed - previous[fw.framework_id]
            change = messages("compliance.change", delta=f"{delta:+d}")
        out.append(_compliance_line(fw, change, messages))
    return tuple(out)


def _compliance_line(fw: FrameworkScore, change: str, messages: Messages) -> ComplianceLine:
    failing_controls = sorted(
        (c for c in fw.controls if c.status == "fail"), key=lambda c: -c.failed_findings
    )
    failing = len(failing_controls)
    label = messages.get("control_status.fail", "fail")
    return ComplianceLine(
        name=fw.name.get(messages.lang),
        passed=fw.controls_passed,
        failing=failing,
        evaluated=fw.controls_evaluated,
        score=percent(fw.score, messages)
        if fw.controls_evaluated
        else messages("report.not_available"),
        change=change or messages("compliance.change_unknown"),
        top_failing=tuple(
            FailingControl(
                c.control_id, c.title.get(messages.lang), c.status, label, c.failed_findings
            )
            for c in failing_controls[:FAILING_SHOWN]
        ),
        more_failing=messages("compliance.more_failing", count=failing - FAILING_SHOWN)
        if failing > FAILING_SHOWN
        else "",
        unknown=fw.controls_unknown,
    )


def _vulnerability_rows(data: ReportData, messages: Messages) -> tuple[VulnerabilityRow, ...]:
    found = data.vulnerabilities
    if found is None:
        return ()
    return tuple(
        VulnerabilityRow(
            resource=r.resource_id,
            kind=messages.get(f"vulnerabilities.kind.{r.kind}", r.kind or "-"),
            critical=r.critical,
            high=r.high,
            exploitable=r.exploitable,
            fixable=r.fixable,
            top=", ".join(r.top),
        )
        for r in found.resources
    )


def state_json(value: Any) -> str:
    """A before/after state as indented JSON text (templates escape it when printed)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _repair_row(run: FixRunLine, messages: Messages) -> RepairRow:
    lang = messages.lang
    dash = messages("report.not_available")
    return RepairRow(
        run_id=run.run_id,
        fix_id=run.fix_id,
        fix_title=run.fix_title.get(lang),
        policy_id=run.policy_id,
        policy_title=run.policy_title.get(lang),
        resource=run.resource_name or run.resource_uid,
        uid=run.resource_uid if run.resource_uid != (run.resource_name or run.resource_uid) else "",
        connection=run.connection,
        region=run.region,
        approved_by=messages("fix_report.automatic") if run.auto else (run.approved_by or dash),
        applied_by=messages("fix_report.automatic") if run.auto else (run.applied_by or dash),
        applied=timestamp(run.applied_at, messages) if run.applied_at else dash,
        finished=timestamp(run.finished_at, messages) if run.finished_at else dash,
        outcome=run.state,
        outcome_label=messages.get(f"fix_report.state.{run.state}", run.state),
        reason=run.reason,
        resolved=run.resolved.get(lang) if run.resolved else dash,
        before=state_json(run.before),
        after=state_json(run.after),
    )


def repair_view(data: ReportData, messages: Messages) -> RepairView | None:
    """The period's fix runs, counted by outcome; None when the tenant has no setting repair
    and the period no runs."""
    found = data.fix_runs
    if not isinstance(found, FixRunsReport) or not found.shown:
        return None
    keys = [*OUTCOMES] + (["in_progress"] if found.counts.get("in_progress") else [])
    return RepairView(
        counts=tuple(
            (k, messages(f"fix_report.outcome.{k}"), found.counts.get(k, 0)) for k in keys
        ),
        rows=tuple(_repair_row(r, messages) for r in found.runs),
        note="" if found.runs else messages("fix_report.none"),
    )


def monthly_view(data: ReportData, views: Sequence[FindingView], messages: Messages) -> MonthlyView:
    history = data.history
    dash = messages("report.not_available")
    months = tuple(
        MonthView(
            label=m.month,
            open_total=sum(m.open_by_severity.values()),
            new=m.new,
            resolved=m.resolved,
            score=percent(m.score, messages) if m.score is not None else dash,
        )
        for m in history.months
    )
    scores = [m.score for m in history.months if m.score is not None]
    score = percent(scores[-1], messages) if scores else dash
    if len(scores) >= 2:
        score_note = messages("history.score_change", delta=f"{scores[-1] - scores[-2]:+.1f}")
    elif scores:
        score_note = messages("history.score_first")
    else:
        score_note = messages("history.score_none")
    c = history.counts or PeriodCounts(
        new=sum(1 for v in views if v.is_new),
        resolved=sum(1 for v in views if v.state == "resolved"),
        reopened=0,
        mttr_days=None,
    )
    counts = (
        (messages("history.new"), str(c.new)),
        (messages("history.resolved"), str(c.resolved)),
        (messages("history.reopened"), str(c.reopened) if history.counts else dash),
        (messages("history.mttr"), _days(c.mttr_days, messages)),
    )
    open_views = [v for v in views if v.state == "open"]
    if history.waivers is None:
        waivers: tuple[WaiverView, ...] = ()
        waivers_note = messages("waivers.unknown")
    else:
        waivers = tuple(
            WaiverView(
                title=w.title.get(messages.lang),
                scope=w.scope,
                reason=w.reason,
                approved_by=w.approved_by,
                expires=short_date(w.expires_at, messages)
                if w.expires_at
                else messages("waivers.no_expiry"),
                findings=w.findings,
                expiring=w.expiring,
            )
            for w in history.waivers
        )
        waivers_note = "" if waivers else messages("waivers.none")
    return MonthlyView(
        score=score,
        score_note=score_note,
        counts=counts,
        months=months,
        months_note="" if months else messages("history.no_trend"),
        fixes=top_fixes(open_views, messages),
        appendix=appendix(open_views),
        appendix_more=messages("appendix_list.more", count=len(open_views) - APPENDIX_MAX_LINES)
        if len(open_views) > APPENDIX_MAX_LINES
        else "",
        waivers=waivers,
        waivers_note=waivers_note,
        compliance=_compliance(data, messages),
        vulnerabilities=(vulns := _vulnerability_rows(data, messages)),
        vulnerabilities_shown=min(len(vulns), VULNERABILITY_ROWS_SHOWN),
        vulnerabilities_more=messages(
            "vulnerabilities.more", count=len(vulns) - VULNERABILITY_ROWS_SHOWN
        )
        if len(vulns) > VULNERABILITY_ROWS_SHOWN
        else "",
        repair=repair_view(data, messages),
        provider_name=data.branding.provider_name,
        provider_logo=data.branding.provider_logo,
        customer_logo=data.branding.customer_logo,
    )
