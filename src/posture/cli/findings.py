"""posture findings"""

from __future__ import annotations

import csv
import json
import sys
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlmodel import col, select

from posture.cli.runtime import console, state
from posture.errors import UsageError
from posture.models import Severity
from posture.scan import get_tenant
from posture.store import Connection, Finding

STATES = ("open", "resolved", "all")


def findings(
    ctx: typer.Context,
    tenant: str = typer.Option(..., "--tenant"),
    severity: list[str] = typer.Option(
        [], "--severity", help="Only these severities (repeatable)."
    ),
    min_severity: str | None = typer.Option(
        None, "--min-severity", help="This severity or higher."
    ),
    status: str = typer.Option("open", "--status", help="open, resolved or all."),
    policy: list[str] = typer.Option([], "--policy", help="Policy id or id prefix (repeatable)."),
    service: list[str] = typer.Option([], "--service", help="Service, e.g. s3 (repeatable)."),
    resource_type: list[str] = typer.Option([], "--resource-type"),
    region: list[str] = typer.Option([], "--region"),
    as_json: bool = typer.Option(False, "--json", help="Print every matching finding as JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print every matching finding as CSV."),
    fail_on: str | None = typer.Option(
        None, "--fail-on", help="Exit 1 if a listed finding has this severity or higher."
    ),
) -> None:
    """List findings of a tenant with filters."""
    if status not in STATES:
        raise UsageError(f"--status takes one of {', '.join(STATES)}")
    wanted = {_severity(s).value for s in severity}
    floor = _severity(min_severity).rank if min_severity else None
    threshold = _severity(fail_on).rank if fail_on else None
    st = state(ctx)
    catalog = st.catalog()
    with st.store().session() as session:
        ten = get_tenant(session, tenant)
        query = select(Finding).where(Finding.tenant_id == ten.id)
        if status != "all":
            query = query.where(Finding.state == status)
        if resource_type:
            query = query.where(col(Finding.resource_type).in_(resource_type))
        if region:
            query = query.where(col(Finding.region).in_(region))
        rows = list(session.exec(query))
        names = {
            c.id: c.name
            for c in session.exec(select(Connection).where(Connection.tenant_id == ten.id))
        }
    rows = [
        f
        for f in rows
        if (not wanted or f.severity in wanted)
        and (floor is None or Severity(f.severity).rank >= floor)
        and (not policy or any(f.policy_id == p or f.policy_id.startswith(p + ".") for p in policy))
        and (not service or f.policy_id.split(".")[1] in service)
    ]
    rows.sort(key=lambda f: (-Severity(f.severity).rank, f.policy_id, f.resource_uid))
    if as_json:
        print(json.dumps([_as_json(f, catalog, names) for f in rows], ensure_ascii=False, indent=2))
    elif as_csv:
        _csv([_as_json(f, catalog, names) for f in rows])
    else:
        _table(rows, catalog)
    if threshold is not None and any(
        Severity(f.severity).rank >= threshold for f in rows if f.state == "open"
    ):
        raise typer.Exit(1)


def _severity(value: str | None) -> Severity:
    try:
        return Severity(str(value).lower())
    except ValueError as exc:
        raise UsageError(
            f"unknown severity '{value}'; use one of {', '.join(s.value for s in Severity)}"
        ) from exc


def _as_json(f: Finding, catalog: Any, names: dict[str, str]) -> dict[str, Any]:
    policy = catalog.policies.get(f.policy_id)
    return {
        "id": f.id,
        "policy_id": f.policy_id,
        "title": {"en": policy.title.en, "ja": policy.title.ja} if policy else None,
        "severity": f.severity,
        "status": f.state,
        "resource_uid": f.resource_uid,
        "resource_name": f.resource_name,
        "resource_type": f.resource_type,
        "region": f.region,
        "connection": names.get(f.connection_id, ""),
        "evidence": f.evidence,
        "frameworks": policy.frameworks if policy else {},
        "recommendation": {"en": policy.recommendation.en, "ja": policy.recommendation.ja}
        if policy
        else None,
        "first_seen": f.first_seen.isoformat(),
        "last_seen": f.last_seen.isoformat(),
        "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None,
    }


CSV_COLUMNS = (
    "severity",
    "status",
    "policy_id",
    "title_en",
    "title_ja",
    "resource_type",
    "resource_uid",
    "resource_name",
    "region",
    "connection",
    "controls",
    "first_seen",
    "last_seen",
    "resolved_at",
)


def safe_cell(value: object) -> str:
    """Text for a spreadsheet cell that cannot start a formula (resource names are untrusted)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(rows: list[dict[str, Any]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        title = row.get("title") or {}
        controls = "; ".join(f"{fw} {c}" for fw, ids in row["frameworks"].items() for c in ids)
        flat = {
            **row,
            "title_en": title.get("en", ""),
            "title_ja": title.get("ja", ""),
            "controls": controls,
        }
        writer.writerow([safe_cell(flat.get(column)) for column in CSV_COLUMNS])


def _table(rows: list[Finding], catalog: Any) -> None:
    table = Table("severity", "policy", "resource", "region", "status", "title")
    for f in rows:
        policy = catalog.policies.get(f.policy_id)
        table.add_row(
            f.severity,
            f.policy_id,
            escape(f.resource_name or f.resource_uid),
            f.region,
            f.state,
            escape(policy.title.en if policy else ""),
        )
    console.print(table)
    console.print(f"{len(rows)} finding(s)")
