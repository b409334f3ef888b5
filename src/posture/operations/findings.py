"""Finding queries: a tenant's findings with filters, and open counts by severity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import case, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from posture.errors import ConfigurationError
from posture.lifecycle import open_counts
from posture.models import Severity
from posture.operations.access import require
from posture.operations.context import Operations
from posture.operations.filters import PolicySelector, check_choices, parse_severity
from posture.operations.history import EventRow, finding_events
from posture.operations.rows import FindingRow, PolicyFacts, Text
from posture.operations.tenants import resolve_tenant
from posture.store import Connection, Finding

STATES = ("open", "waived", "resolved", "all")
READ_CHUNK = 500  # finding ids per query when a page is read in full


@dataclass(frozen=True)
class FindingQuery:
    """Which findings to list; every filter is optional, ``tenant`` defaults to the only one."""

    tenant: str | None = None
    status: str = "open"  # open | waived | resolved | all
    severities: tuple[str, ...] = ()
    min_severity: str | None = None
    policies: tuple[str, ...] = ()  # exact ids, id prefixes or globs
    services: tuple[str, ...] = ()
    resource_types: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    connections: tuple[str, ...] = ()  # connection names
    providers: tuple[str, ...] = ()  # aws, m365, gws, gcp, ...
    text: str = ""  # words that must appear in the policy id, resource or title (any case)


@dataclass(frozen=True)
class FindingDetail:
    """One finding with its evidence (in ``row``) and its state changes, oldest first."""

    row: FindingRow
    events: list[EventRow]


def query_findings(ops: Operations, query: FindingQuery) -> list[FindingRow]:
    """Findings of one tenant, most severe first."""
    return page_findings(ops, query, offset=0, limit=None).rows


@dataclass(frozen=True)
class FindingPage:
    """One page of a finding query: its rows and how many findings match in all."""

    rows: list[FindingRow]
    total: int


def page_findings(
    ops: Operations, query: FindingQuery, *, offset: int, limit: int | None
) -> FindingPage:
    """One page of a finding query (``limit`` None: every match from ``offset``).

    A page whose filters are all columns is chosen, counted, sorted and cut in the database
    (the list's usual request, whatever the number of findings); otherwise (policy patterns,
    services, text search, or the whole list) the matching findings are chosen and sorted on
    a few columns here, and only the page's rows are read in full."""
    check_choices("--status", [query.status], STATES)
    wanted = {parse_severity(s).value for s in query.severities}
    floor = parse_severity(query.min_severity).rank if query.min_severity else None
    selector = PolicySelector.of(query.policies)
    catalog = ops.catalog()
    words = query.text.casefold().split()
    titles: dict[str, str] = {}

    def title_of(policy_id: str) -> str:
        if policy_id not in titles:
            facts = PolicyFacts.lookup(catalog, policy_id)
            titles[policy_id] = f"{facts.title.en} {facts.title.ja}".casefold()
        return titles[policy_id]

    with ops.session() as session:
        tenant = resolve_tenant(session, query.tenant)
        require(ops, "finding.read", tenant.id)
        light = sa_select(
            col(Finding.id),
            col(Finding.severity),
            col(Finding.policy_id),
            col(Finding.resource_uid),
            col(Finding.resource_name),
        ).where(col(Finding.tenant_id) == tenant.id)
        if query.status != "all":
            light = light.where(col(Finding.state) == query.status)
        if wanted:
            light = light.where(col(Finding.severity).in_(wanted))
        if query.resource_types:
            light = light.where(col(Finding.resource_type).in_(query.resource_types))
        if query.regions:
            light = light.where(col(Finding.region).in_(query.regions))
        conns = list(session.exec(select(Connection).where(Connection.tenant_id == tenant.id)))
        names = {c.id: c.name for c in conns}
        if query.connections or query.providers:
            picked = [
                c.id
                for c in conns
                if (not query.connections or c.name in query.connections)
                and (not query.providers or c.provider in query.providers)
            ]
            light = light.where(col(Finding.connection_id).in_(picked))
        if limit is not None and all(w.isascii() for w in words):
            # a page: every filter becomes SQL, and the database chooses, counts, sorts and
            # cuts it on narrow columns; only the page's rows are read in full. (Words with
            # other than ASCII letters keep the path below: SQL's lower() is not casefold.)
            if floor is not None:
                light = light.where(
                    col(Finding.severity).in_([s.value for s in Severity if s.rank >= floor])
                )
            if selector or query.services or words:
                present = list(
                    session.exec(
                        select(Finding.policy_id).where(Finding.tenant_id == tenant.id).distinct()
                    )
                )
                if selector:
                    selector.check_known([*catalog.policies, *present])
                picked = [
                    p
                    for p in present
                    if selector.matches(p) and (not query.services or _service(p) in query.services)
                ]
                if selector or query.services:
                    light = light.where(col(Finding.policy_id).in_(picked))
                for word in words:
                    titled = [p for p in picked if word in p.casefold() or word in title_of(p)]
                    light = light.where(
                        or_(
                            col(Finding.policy_id).in_(titled),
                            func.lower(col(Finding.resource_uid)).contains(word, autoescape=True),
                            func.lower(col(Finding.resource_name)).contains(word, autoescape=True),
                        )
                    )
            total = session.execute(
                sa_select(func.count()).select_from(light.subquery())
            ).scalar_one()
            rank = case({s.value: s.rank for s in Severity}, value=col(Finding.severity), else_=-1)
            binary = session.get_bind().dialect.name == "postgresql"  # Python's string order
            keys = (
                light.with_only_columns(col(Finding.id))
                .order_by(
                    rank.desc(),
                    col(Finding.policy_id).collate("C") if binary else col(Finding.policy_id),
                    col(Finding.resource_uid).collate("C") if binary else col(Finding.resource_uid),
                    col(Finding.id),
                )
                .offset(offset)
                .limit(limit)
            )
            ids = [r[0] for r in session.execute(keys)]
            page_rows = {
                f.id: f for f in session.exec(select(Finding).where(col(Finding.id).in_(ids)))
            }
            rows = [
                finding_row(
                    page_rows[i], PolicyFacts.lookup(catalog, page_rows[i].policy_id), names
                )
                for i in ids
                if i in page_rows
            ]
            return FindingPage(rows, int(total))
        found = [tuple(r) for r in session.execute(light)]
        if selector:
            selector.check_known([*catalog.policies, *(f[2] for f in found)])
        chosen = [
            f
            for f in found
            if (floor is None or severity_rank(f[1]) >= floor)
            and selector.matches(f[2])
            and (not query.services or _service(f[2]) in query.services)
            and (
                not words
                or all(
                    w in f"{f[2]} {f[3]} {f[4]}".casefold() or w in title_of(f[2]) for w in words
                )
            )
        ]
        chosen.sort(key=lambda f: (-severity_rank(f[1]), f[2], f[3]))
        ids = [f[0] for f in chosen[offset : None if limit is None else offset + limit]]
        full: dict[str, Finding] = {}
        for i in range(0, len(ids), READ_CHUNK):  # bounded IN lists, whatever the page size
            chunk = ids[i : i + READ_CHUNK]
            full |= {
                f.id: f for f in session.exec(select(Finding).where(col(Finding.id).in_(chunk)))
            }
    rows = [
        finding_row(full[i], PolicyFacts.lookup(catalog, full[i].policy_id), names)
        for i in ids
        if i in full
    ]
    return FindingPage(rows, len(chosen))


def show_finding(ops: Operations, finding_id: str, tenant: str | None = None) -> FindingDetail:
    """One finding of a tenant by its id: the row every face shows, and its history."""
    catalog = ops.catalog()
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "finding.read", ten.id)
        found = session.exec(
            select(Finding).where(Finding.id == finding_id, Finding.tenant_id == ten.id)
        ).first()
        if found is None:
            raise ConfigurationError(f"no finding with id '{finding_id}'")
        names = {
            c.id: c.name
            for c in session.exec(select(Connection).where(Connection.tenant_id == ten.id))
        }
        slug = ten.slug
    row = finding_row(found, PolicyFacts.lookup(catalog, found.policy_id), names)
    return FindingDetail(row, finding_events(ops, finding_id, slug))


def severity_rank(severity: str) -> int:
    """Rank of a stored severity for sorting; -1 for one posture no longer knows."""
    try:
        return Severity(severity).rank
    except ValueError:
        return -1


def _service(policy_id: str) -> str:
    parts = policy_id.split(".")
    return parts[1] if len(parts) > 1 else ""


def finding_row(f: Finding, facts: PolicyFacts, names: Mapping[str, str]) -> FindingRow:
    """A stored finding as every face and export shows it."""
    return FindingRow(
        id=f.id,
        policy_id=f.policy_id,
        status=f.state,
        severity=f.severity,
        title=facts.title,
        statement=Text.of(f.statement),
        commands=list(f.commands),
        recommendation=facts.recommendation,
        resource_uid=f.resource_uid,
        resource_name=f.resource_name,
        resource_type=f.resource_type,
        connection=names.get(f.connection_id, ""),
        region=f.region,
        frameworks=facts.frameworks,
        evidence=list(f.evidence),
        scan_id=f.last_scan_id,
        first_seen=f.first_seen,
        last_seen=f.last_seen,
        resolved_at=f.resolved_at,
        waiver_id=f.waiver_id,
    )


def open_at_or_above(rows: Iterable[FindingRow], severity: str) -> bool:
    """Is any of ``rows`` an open finding of ``severity`` or higher? (``--fail-on``)"""
    floor = parse_severity(severity).rank
    return any(r.status == "open" and severity_rank(r.severity) >= floor for r in rows)


def open_by_severity(ops: Operations, tenant: str | None = None) -> dict[str, int]:
    """Open findings per severity now, e.g. for a dashboard tile or a trend point."""
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        require(ops, "finding.read", ten.id)
        return open_counts(session, ten.id)
