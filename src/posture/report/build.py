"""Build ``ReportData`` for one tenant and period from the store and the catalog."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from posture.catalog import Catalog, LocalizedText, Policy
from posture.models import Severity
from posture.report.fix_runs import read_fix_runs
from posture.report.history_view import HistoryReader, read_recorded, report_history
from posture.report.model import (
    Branding,
    CollectionIssue,
    ConnectionCoverage,
    ConnectionHealth,
    ControlScore,
    FrameworkScore,
    ReportData,
    ReportEvidence,
    ReportFinding,
    Text,
    TrendPoint,
    WaiverLine,
)
from posture.report.period import zone
from posture.report.vulnerabilities import read_vulnerabilities
from posture.store.tables import (
    Connection,
    Finding,
    ResourceRecord,
    Scan,
    ScanResource,
    ScanTarget,
    Tenant,
)
from posture.store.types import utcnow

_UNKNOWN = Text(en="(policy no longer available)", ja="(ポリシーは現在ありません)")


def _text(value: LocalizedText) -> Text:
    return Text(en=value.en, ja=value.ja)


@dataclass(frozen=True)
class _PolicyTexts:
    title: Text
    rationale: Text
    recommendation: Text
    controls: tuple[tuple[str, str], ...]


def _policy_texts(policy: Policy | None, policy_id: str) -> _PolicyTexts:
    """What every finding of a policy shares."""
    if policy is None:
        return _PolicyTexts(Text(policy_id, policy_id), _UNKNOWN, _UNKNOWN, ())
    return _PolicyTexts(
        _text(policy.title),
        _text(policy.rationale),
        _text(policy.recommendation),
        tuple(
            (fw, control)
            for fw, controls in sorted(policy.frameworks.items())
            for control in controls
        ),
    )


def _finding(
    f: Any,  # a Finding, or a row of its table
    policy: Policy | None,
    connections: dict[str, Connection],
    start: datetime,
    tz: tzinfo,
    shared: dict[str, _PolicyTexts] | None = None,  # built once per policy when given
) -> ReportFinding:
    parts = f.policy_id.split(".")
    statement = f.statement or {}
    texts = shared.get(f.policy_id) if shared is not None else None
    if texts is None:
        texts = _policy_texts(policy, f.policy_id)
        if shared is not None:
            shared[f.policy_id] = texts
    return ReportFinding(
        finding_id=f.id,
        policy_id=f.policy_id,
        title=texts.title,
        rationale=texts.rationale,
        recommendation=texts.recommendation,
        severity=f.severity,
        service=parts[1] if len(parts) > 1 else "",
        provider=parts[0],
        resource_type=f.resource_type,
        resource_uid=f.resource_uid,
        resource_name=f.resource_name,
        region=f.region,
        connection=connections[f.connection_id].name if f.connection_id in connections else "",
        state=f.state,
        first_seen=f.first_seen.astimezone(tz),
        last_seen=f.last_seen.astimezone(tz),
        resolved_at=f.resolved_at.astimezone(tz) if f.resolved_at else None,
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
        controls=texts.controls,
        is_new=f.first_seen >= start,
        statement=Text(en=statement["en"], ja=statement.get("ja", statement["en"]))
        if statement.get("en")
        else None,
        commands=tuple(f.commands or ()),
    )


def _sort_key(f: ReportFinding) -> tuple[int, str, str]:
    try:
        rank = Severity(f.severity).rank
    except ValueError:
        rank = -1
    return (-rank, f.policy_id, f.resource_uid)


def framework_scores(
    catalog: Catalog,
    ran: set[str],
    open_findings: Iterable[Any],
    errored: set[str],
    unknown: set[str] | None = None,
) -> list[FrameworkScore]:
    """A control passes when every policy mapped to it ran, judged and has no open finding.

    Otherwise it fails (an open finding), is in error (a policy could not read its data) or
    is unknown (a policy met a fact posture cannot see, e.g. a bucket of another account).
    ``open_findings`` are anything with a ``policy_id``: report findings, or the finding
    states of a month's end.
    """
    unseen = unknown or set()
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
            if n_failed:
                status = "fail"
            elif any(p in errored for p in pids):
                status = "error"
            elif any(p in unseen for p in pids):
                status = "unknown"
            else:
                status = "pass"
            scores.append(ControlScore(control.id, _text(control.title), status, n_failed))
        out.append(
            FrameworkScore(
                framework_id=fw.id,
                name=Text(en=fw.name.en, ja=fw.name.ja),
                controls_total=len(fw.controls),
                controls_evaluated=len(scores),
                controls_passed=sum(1 for s in scores if s.status == "pass"),
                controls=tuple(scores),
                controls_unknown=sum(1 for s in scores if s.status == "unknown"),
            )
        )
    return out


def _as_at_end(
    findings: list[ReportFinding],
    recorded: Any,
) -> list[ReportFinding]:
    """A closed month shows each finding as it stood at the month's end, from the recorded
    finding events, whatever happened since."""
    from dataclasses import replace

    at_end = {s.finding_id: s for s in recorded.findings}
    out = []
    for f in findings:
        state = at_end.get(f.finding_id)
        if state is not None:
            out.append(replace(f, state=state.status))  # open or waived then
        else:
            out.append(replace(f, state="resolved"))  # not open at the end of the month
    return out


def build_report_data(
    session: Session,
    catalog: Catalog,
    tenant: Tenant,
    period_start: datetime,
    period_end: datetime,
    *,
    generated_at: datetime | None = None,
    with_config: bool = True,
    history: HistoryReader | None = None,
) -> ReportData:
    """The report of ``tenant`` for [period_start, period_end), times in its time zone.

    Only scans started inside the period count: a period without a successful scan of a
    connection is reported as such, never as healthy.
    """
    tz = zone(tenant.timezone)
    now = generated_at or utcnow()
    connections = {
        c.id: c for c in session.exec(select(Connection).where(Connection.tenant_id == tenant.id))
    }
    scans = list(
        session.exec(
            select(Scan)
            .where(
                Scan.tenant_id == tenant.id,
                col(Scan.started_at) >= period_start,
                col(Scan.started_at) < period_end,
            )
            .order_by(col(Scan.started_at))
        )
    )
    finished = [s for s in scans if s.finished_at is not None and s.status != "failed"]
    latest = finished[-1] if finished else None
    # plain rows of the finding table: no ORM identity map for what is only read
    table = Finding.__table__  # type: ignore[attr-defined]
    rows = session.execute(
        select_columns(table).where(table.c.tenant_id == tenant.id, table.c.first_seen < period_end)
    )
    shared: dict[str, _PolicyTexts] = {}
    findings = [
        _finding(f, catalog.policies.get(f.policy_id), connections, period_start, tz, shared)
        for f in rows
    ]
    recorded = read_recorded(session, tenant, period_start, period_end, tz, history)
    if period_end <= now and recorded is not None:
        findings = _as_at_end(findings, recorded)
    open_now = sorted((f for f in findings if f.state == "open"), key=_sort_key)
    if with_config:
        open_now = _with_config(session, open_now, tenant.id)
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
        period_start=period_start.astimezone(tz),
        period_end=period_end.astimezone(tz),
        generated_at=now.astimezone(tz),
        scan_id=latest.id if latest else None,
        findings=open_now,
        resolved_in_period=resolved,
        trend=[
            TrendPoint(
                at=s.started_at.astimezone(tz),
                by_severity=dict(s.summary.get("open_by_severity", {})),
            )
            for s in finished
        ],
        resources_scanned=latest.resources if latest else 0,
        policies_evaluated=latest.policies if latest else 0,
        timezone=tenant.timezone,
        covered_until=now.astimezone(tz) if period_start <= now < period_end else None,
    )
    summary = latest.summary if latest else {}
    data.frameworks = framework_scores(
        catalog,
        set(summary.get("policies", [])),
        open_now,
        set(summary.get("errored", [])),
        set(summary.get("unknown", [])),
    )
    _add_health(session, data, connections, scans, latest, tz)
    data.history = report_history(session, tenant, period_start, period_end, tz, recorded)
    data.history = replace(
        data.history,
        waivers=_titled(data.history.waivers, catalog),
        previous_passed=_previous_passed(session, catalog, tenant, period_start, tz, history),
    )
    data.branding = branding(tenant)
    data.vulnerabilities = read_vulnerabilities(session, tenant, latest.id if latest else None)
    data.fix_runs = read_fix_runs(session, catalog, tenant, period_start, period_end, tz)
    return data


def _titled(waivers: list[WaiverLine] | None, catalog: Catalog) -> list[WaiverLine] | None:
    """A waiver of one policy is shown by that policy's title, in the reader's language."""
    if waivers is None:
        return None
    out = []
    for w in waivers:
        policy = catalog.policies.get(w.policy_id) if w.policy_id else None
        out.append(replace(w, title=_text(policy.title)) if policy else w)
    return out


def _previous_passed(
    session: Session,
    catalog: Catalog,
    tenant: Tenant,
    period_start: datetime,
    tz: tzinfo,
    history: HistoryReader | None,
) -> dict[str, int] | None:
    """Controls passing per framework at the end of the month before, as its last scan and
    the recorded finding events left it; None when that month had no scan or no record."""
    from posture.report.period import Period

    if history is None:
        return None
    local = period_start.astimezone(tz)
    year, index = divmod(local.year * 12 + local.month - 2, 12)
    start = datetime(year, index + 1, 1, tzinfo=tz)
    last = session.exec(
        select(Scan)
        .where(
            Scan.tenant_id == tenant.id,
            col(Scan.started_at) >= start,
            col(Scan.started_at) < period_start,
            col(Scan.finished_at).is_not(None),
            Scan.status != "failed",
        )
        .order_by(col(Scan.started_at).desc())
    ).first()
    if last is None:
        return None
    span = Period(start, period_start, f"{year:04d}-{index + 1:02d}")
    before = history(session, tenant, span, months=1)
    open_then = [f for f in before.findings if f.status == "open"]
    summary = last.summary or {}
    scores = framework_scores(
        catalog, set(summary.get("policies", [])), open_then, set(summary.get("errored", []))
    )
    return {fw.framework_id: fw.controls_passed for fw in scores}


_LOGO_PREFIXES = ("data:image/png;base64,", "data:image/jpeg;base64,", "data:image/svg+xml;base64,")


def _logo(value: Any) -> str:
    """A logo is accepted only as an inline image (the reports load nothing from outside)."""
    text = str(value or "")
    return text if text.startswith(_LOGO_PREFIXES) else ""


def branding(tenant: Tenant) -> Branding:
    """Cover names and logos from the tenant's ``options.report``."""
    options = tenant.options.get("report", {}) if isinstance(tenant.options, dict) else {}
    if not isinstance(options, dict):
        options = {}
    return Branding(
        provider_name=str(options.get("provider_name", "")),
        provider_logo=_logo(options.get("provider_logo")),
        customer_logo=_logo(options.get("customer_logo")),
    )


def _with_config(
    session: Session, findings: list[ReportFinding], tenant_id: str
) -> list[ReportFinding]:
    """Attach each open finding's collected configuration from its latest scan."""
    rows = session.exec(
        select(Finding.id, Finding.last_scan_id, Finding.resource_uid).where(
            Finding.tenant_id == tenant_id, Finding.state == "open"
        )
    )
    wanted = {fid: (scan_id, uid) for fid, scan_id, uid in rows}
    by_scan: dict[str, set[str]] = defaultdict(set)
    for scan_id, uid in wanted.values():
        by_scan[scan_id].add(uid)
    documents: dict[tuple[str, str], Any] = {}
    for scan_id, uids in by_scan.items():
        uid_list = sorted(uids)
        for i in range(0, len(uid_list), 500):
            query = (
                select(ResourceRecord.uid, ResourceRecord.data)
                .join(ScanResource, col(ScanResource.resource_hash) == col(ResourceRecord.hash))
                .where(
                    ScanResource.scan_id == scan_id,
                    col(ResourceRecord.uid).in_(uid_list[i : i + 500]),
                )
            )
            for uid, doc in session.exec(query):
                documents[(scan_id, uid)] = doc
    return [replace(f, config=documents.get(wanted.get(f.finding_id, ("", "")))) for f in findings]


_STATUS_OF_TARGET = {"succeeded": "ok", "partial": "partial", "failed": "failed"}


def _add_health(
    session: Session,
    data: ReportData,
    connections: dict[str, Connection],
    scans: list[Scan],
    latest: Scan | None,
    tz: tzinfo,
) -> None:
    """Connection health and coverage as the period's scans saw them."""
    scan_ids = [s.id for s in scans]
    targets: list[ScanTarget] = []
    for i in range(0, len(scan_ids), 500):
        targets.extend(
            session.exec(
                select(ScanTarget).where(col(ScanTarget.scan_id).in_(scan_ids[i : i + 500]))
            )
        )
    order = {s.id: n for n, s in enumerate(scans)}
    targets.sort(key=lambda t: order.get(t.scan_id, -1))
    per_connection: dict[str, list[ScanTarget]] = defaultdict(list)
    for target in targets:
        per_connection[target.connection_id].append(target)
    for conn in sorted(connections.values(), key=lambda c: c.name):
        seen = per_connection.get(conn.id, [])
        ok = [t for t in seen if t.status in ("succeeded", "partial")]
        failed = [t for t in seen if t.status == "failed"]
        last = seen[-1] if seen else None
        data.coverage.append(
            ConnectionCoverage(
                name=conn.name,
                provider=conn.provider,
                succeeded=len(ok),
                failed=len(failed),
                first=ok[0].finished_at.astimezone(tz) if ok else None,
                last=ok[-1].finished_at.astimezone(tz) if ok else None,
                failure=failed[-1].message if failed else "",
                failure_code=str(failed[-1].stats.get("reason_code", "")) if failed else "",
            )
        )
        data.connections.append(
            ConnectionHealth(
                name=conn.name,
                provider=conn.provider,
                account=conn.account,
                status=_STATUS_OF_TARGET.get(last.status, "never") if last else "no_scan",
                message=last.message if last else "",
                last_scan_at=last.finished_at.astimezone(tz) if last else None,
                reason_code=str(last.stats.get("reason_code", "")) if last else "",
            )
        )
        if last is None or latest is None:
            continue
        in_latest = next((t for t in seen if t.scan_id == latest.id), None)
        for failure in in_latest.stats.get("failures", []) if in_latest else []:
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
        if in_latest and in_latest.status == "failed":
            data.collection_issues.append(CollectionIssue(conn.name, "*", "*", in_latest.message))
