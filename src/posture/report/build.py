"""Build ``ReportData`` for one tenant and period from the store and the catalog."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from posture.catalog import Catalog, LocalizedText, Policy
from posture.models import Severity
from posture.report.model import (
    CollectionIssue,
    ConnectionHealth,
    ControlScore,
    FrameworkScore,
    ReportData,
    ReportEvidence,
    ReportFinding,
    Text,
    TrendPoint,
)
from posture.store.tables import Connection, Finding, Scan, ScanTarget, Tenant
from posture.store.types import utcnow

_UNKNOWN = Text(en="(policy no longer available)", ja="(ポリシーは現在ありません)")


def _text(value: LocalizedText) -> Text:
    return Text(en=value.en, ja=value.ja)


def _finding(
    f: Finding, policy: Policy | None, connections: dict[str, Connection], start: datetime
) -> ReportFinding:
    parts = f.policy_id.split(".")
    return ReportFinding(
        finding_id=f.id,
        policy_id=f.policy_id,
        title=_text(policy.title) if policy else Text(f.policy_id, f.policy_id),
        rationale=_text(policy.rationale) if policy else _UNKNOWN,
        recommendation=_text(policy.recommendation) if policy else _UNKNOWN,
        severity=f.severity,
        service=parts[1] if len(parts) > 1 else "",
        provider=parts[0],
        resource_type=f.resource_type,
        resource_uid=f.resource_uid,
        resource_name=f.resource_name,
        region=f.region,
        connection=connections[f.connection_id].name if f.connection_id in connections else "",
        state=f.state,
        first_seen=f.first_seen,
        last_seen=f.last_seen,
        resolved_at=f.resolved_at,
        evidence=tuple(
            ReportEvidence(
                path=str(e.get("path", "")),
                op=str(e.get("op", "")),
                expected=e.get("expected"),
                actual=e.get("actual"),
                negated=bool(e.get("negated", False)),
            )
            for e in f.evidence
        ),
        controls=tuple(
            (fw, control)
            for fw, controls in sorted((policy.frameworks if policy else {}).items())
            for control in controls
        ),
        is_new=f.first_seen >= start,
    )


def _sort_key(f: ReportFinding) -> tuple[int, str, str]:
    try:
        rank = Severity(f.severity).rank
    except ValueError:
        rank = -1
    return (-rank, f.policy_id, f.resource_uid)


def framework_scores(
    catalog: Catalog, ran: set[str], open_findings: Iterable[ReportFinding], errored: set[str]
) -> list[FrameworkScore]:
    """A control passes when every policy mapped to it ran and has no open finding."""
    failing: dict[str, int] = defaultdict(int)
    for finding in open_findings:
        failing[finding.policy_id] += 1
    out = []
    for fw in sorted(catalog.frameworks.values(), key=lambda f: f.id):
        mapped: dict[str, list[str]] = defaultdict(list)
        for policy in catalog.policies.values():
            if policy.id in ran:
                for control_id in policy.frameworks.get(fw.id, []):
                    mapped[control_id].append(policy.id)
        if not mapped:
            continue
        scores = []
        for control in fw.controls:
            pids = mapped.get(control.id)
            if not pids:
                continue
            n_failed = sum(failing[p] for p in pids)
            status = (
                "fail" if n_failed else ("error" if any(p in errored for p in pids) else "pass")
            )
            scores.append(ControlScore(control.id, _text(control.title), status, n_failed))
        out.append(
            FrameworkScore(
                framework_id=fw.id,
                name=Text(en=fw.name.en, ja=fw.name.ja),
                controls_total=len(fw.controls),
                controls_evaluated=len(scores),
                controls_passed=sum(1 for s in scores if s.status == "pass"),
                controls=tuple(scores),
            )
        )
    return out


def build_report_data(
    session: Session,
    catalog: Catalog,
    tenant: Tenant,
    period_start: datetime,
    period_end: datetime,
    *,
    generated_at: datetime | None = None,
) -> ReportData:
    connections = {
        c.id: c for c in session.exec(select(Connection).where(Connection.tenant_id == tenant.id))
    }
    scans = list(
        session.exec(
            select(Scan)
            .where(Scan.tenant_id == tenant.id, col(Scan.started_at) < period_end)
            .order_by(col(Scan.started_at))
        )
    )
    finished = [s for s in scans if s.finished_at is not None]
    latest = finished[-1] if finished else None
    rows = session.exec(select(Finding).where(Finding.tenant_id == tenant.id))
    findings = [
        _finding(f, catalog.policies.get(f.policy_id), connections, period_start)
        for f in rows
        if f.first_seen < period_end
    ]
    open_now = sorted((f for f in findings if f.state == "open"), key=_sort_key)
    resolved = sorted(
        (
            f
            for f in findings
            if f.state == "resolved" and f.resolved_at and f.resolved_at >= period_start
        ),
        key=_sort_key,
    )
    data = ReportData(
        tenant_name=tenant.name,
        tenant_slug=tenant.slug,
        period_start=period_start,
        period_end=period_end,
        generated_at=generated_at or utcnow(),
        scan_id=latest.id if latest else None,
        findings=open_now,
        resolved_in_period=resolved,
        trend=[
            TrendPoint(at=s.started_at, by_severity=dict(s.summary.get("open_by_severity", {})))
            for s in finished
            if s.started_at >= period_start
        ],
        resources_scanned=latest.resources if latest else 0,
        policies_evaluated=latest.policies if latest else 0,
    )
    summary = latest.summary if latest else {}
    data.frameworks = framework_scores(
        catalog, set(summary.get("policies", [])), open_now, set(summary.get("errored", []))
    )
    _add_health(session, data, connections, latest)
    return data


def _add_health(
    session: Session, data: ReportData, connections: dict[str, Connection], latest: Scan | None
) -> None:
    targets = (
        {
            t.connection_id: t
            for t in session.exec(select(ScanTarget).where(ScanTarget.scan_id == latest.id))
        }
        if latest
        else {}
    )
    for conn in sorted(connections.values(), key=lambda c: c.name):
        data.connections.append(
            ConnectionHealth(
                name=conn.name,
                provider=conn.provider,
                account=conn.account,
                status=conn.health,
                message=conn.health_message,
                last_scan_at=conn.checked_at,
            )
        )
        target = targets.get(conn.id)
        for failure in target.stats.get("failures", []) if target else []:
            data.collection_issues.append(
                CollectionIssue(
                    connection=conn.name,
                    resource_type=str(failure.get("resource_type", "")),
                    region=str(failure.get("region", "")),
                    message=str(failure.get("message", "")),
                    code=str(failure.get("code", "")),
                    permission=str(failure.get("permission", "")),
                )
            )
        if target and target.status == "failed":
            data.collection_issues.append(CollectionIssue(conn.name, "*", "*", target.message))
