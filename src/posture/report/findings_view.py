"""Findings as templates print them: labels resolved, dates formatted, evidence as lines.

Ordering and grouping happen here, not in templates (reports/ holds no business logic).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from posture.models import Severity
from posture.report.config_view import ConfigLine, config_lines
from posture.report.evidence import Line, describe
from posture.report.formatting import short_date
from posture.report.i18n import Messages
from posture.report.model import FrameworkScore, ReportData, ReportEvidence, ReportFinding

STANDARD_SEVERITIES = tuple(s.value for s in Severity.ordered())


def severity_rank(severity: str) -> int:
    """Higher is more serious; an unknown severity sorts last instead of failing the report."""
    try:
        return Severity(severity).rank
    except ValueError:
        return -1


@dataclass(frozen=True)
class ControlRef:
    framework: str
    control_id: str
    title: str


@dataclass(frozen=True)
class FindingView:
    dom_id: str
    finding_id: str
    policy_id: str
    title: str
    rationale: str
    recommendation: str
    severity: str
    severity_label: str
    severity_rank: int
    state: str
    state_label: str
    is_new: bool
    service: str
    region: str
    connection: str
    location: str
    resource_name: str
    resource_uid: str
    resource_type: str
    first_seen: str
    last_seen: str
    resolved_at: str
    evidence: tuple[Line, ...]
    controls: tuple[ControlRef, ...]
    statement: str = ""  # the finding's sentence (falls back to the title)
    commands: tuple[str, ...] = ()
    config: tuple[ConfigLine, ...] = ()


@dataclass(frozen=True)
class PolicyGroup:
    """Open findings of one policy: the customer reads the why and the fix once, then the
    affected resources. Also keeps a 200-finding PDF short and quick to lay out."""

    policy_id: str
    title: str
    severity: str
    severity_label: str
    rationale: str
    recommendation: str
    controls: tuple[ControlRef, ...]
    findings: tuple[FindingView, ...]


@dataclass(frozen=True)
class FindingGroup:
    severity: str
    heading: str
    findings: tuple[FindingView, ...]
    policies: tuple[PolicyGroup, ...]


class ControlNames:
    """Framework names and control titles, to show "CIS … 2.8 — title" next to a finding."""

    def __init__(self, frameworks: Iterable[FrameworkScore], lang: str) -> None:
        self._frameworks = {fw.framework_id: fw.name.get(lang) for fw in frameworks}
        self._controls = {
            (fw.framework_id, c.control_id): c.title.get(lang)
            for fw in frameworks
            for c in fw.controls
        }

    def ref(self, framework_id: str, control_id: str) -> ControlRef:
        name = self._frameworks.get(framework_id, framework_id)
        return ControlRef(name, control_id, self._controls.get((framework_id, control_id), ""))


def report_findings(data: ReportData) -> list[ReportFinding]:
    """Open findings and those resolved in the period, once each, open and serious first."""
    seen: set[str] = set()
    merged: list[ReportFinding] = []
    for finding in [*data.findings, *data.resolved_in_period]:
        if finding.finding_id not in seen:
            seen.add(finding.finding_id)
            merged.append(finding)
    return sorted(merged, key=lambda f: (f.state != "open", -severity_rank(f.severity)))


def finding_view(
    finding: ReportFinding,
    index: int,
    messages: Messages,
    names: ControlNames,
    *,
    with_config: bool = False,
    lines: dict[ReportEvidence, Line] | None = None,  # shared by the findings of one view
) -> FindingView:
    lang = messages.lang
    return FindingView(
        dom_id=f"finding-{index}",
        finding_id=finding.finding_id,
        policy_id=finding.policy_id,
        title=finding.title.get(lang),
        rationale=finding.rationale.get(lang),
        recommendation=finding.recommendation.get(lang),
        severity=finding.severity,
        severity_label=messages.get(f"severity.{finding.severity}", finding.severity),
        severity_rank=severity_rank(finding.severity),
        state=finding.state,
        state_label=messages.get(f"state.{finding.state}", finding.state),
        is_new=finding.is_new,
        service=finding.service,
        region=finding.region,
        connection=finding.connection,
        location=_location(finding, messages),
        resource_name=finding.resource_name or finding.resource_uid,
        resource_uid=finding.resource_uid,
        resource_type=finding.resource_type,
        first_seen=short_date(finding.first_seen, messages),
        last_seen=short_date(finding.last_seen, messages),
        resolved_at=short_date(finding.resolved_at, messages),
        evidence=tuple(_describe(e, messages, lines) for e in finding.evidence),
        controls=tuple(names.ref(fw, control) for fw, control in finding.controls),
        statement=finding.statement.get(lang) if finding.statement else finding.title.get(lang),
        commands=finding.commands,
        config=config_lines(finding.config, finding.evidence) if with_config else (),
    )


def _describe(
    evidence: ReportEvidence, messages: Messages, lines: dict[ReportEvidence, Line] | None
) -> Line:
    """``describe``, once per distinct evidence item when ``lines`` is given."""
    if lines is None:
        return describe(evidence, messages)
    try:
        line = lines.get(evidence)
    except TypeError:  # a list or mapping value is not hashable: described each time
        return describe(evidence, messages)
    if line is None:
        line = lines[evidence] = describe(evidence, messages)
    return line


def _location(finding: ReportFinding, messages: Messages) -> str:
    dash = messages("report.not_available")
    return messages(
        "findings.location",
        service=finding.service or dash,
        region=finding.region or dash,
        connection=finding.connection or dash,
    )


def severity_keys(findings: Iterable[ReportFinding]) -> tuple[str, ...]:
    """The five standard severities, then any unexpected ones found in the data."""
    extra = sorted({f.severity for f in findings} - set(STANDARD_SEVERITIES))
    return (*STANDARD_SEVERITIES, *extra)


def group_by_severity(
    views: Sequence[FindingView], keys: Sequence[str], messages: Messages
) -> tuple[FindingGroup, ...]:
    """Open findings per severity, most serious first; empty severities are left out."""
    groups = []
    for key in keys:
        members = tuple(v for v in views if v.severity == key and v.state == "open")
        if members:
            label = messages.get(f"severity.{key}", key)
            heading = messages("findings.group_heading", severity=label, count=len(members))
            groups.append(FindingGroup(key, heading, members, group_by_policy(members)))
    return tuple(groups)


def group_by_policy(views: Sequence[FindingView]) -> tuple[PolicyGroup, ...]:
    """Policies in the order their first finding appears (the builder's order)."""
    members: dict[str, list[FindingView]] = {}
    for view in views:
        members.setdefault(view.policy_id, []).append(view)
    return tuple(
        PolicyGroup(
            policy_id=policy_id,
            title=found[0].title,
            severity=found[0].severity,
            severity_label=found[0].severity_label,
            rationale=found[0].rationale,
            recommendation=found[0].recommendation,
            controls=found[0].controls,
            findings=tuple(found),
        )
        for policy_id, found in members.items()
    )
