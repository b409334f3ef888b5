"""posture findings"""

from __future__ import annotations

import typer
from rich.markup import escape

from posture.cli.output import table, write_raw
from posture.cli.runtime import console, state
from posture.errors import UsageError
from posture.operations import FindingQuery, FindingRow
from posture.operations.exports import FINDING_COLUMNS, finding_record, to_csv, to_json
from posture.operations.filters import parse_severity
from posture.operations.findings import open_at_or_above, query_findings


def findings(
    ctx: typer.Context,
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Tenant (default: the only one)."
    ),
    severity: list[str] = typer.Option(
        [], "--severity", metavar="SEVERITY", help="Only these severities (repeatable)."
    ),
    min_severity: str | None = typer.Option(
        None, "--min-severity", metavar="SEVERITY", help="This severity or higher."
    ),
    status: str = typer.Option(
        "open", "--status", metavar="STATE", help="open, waived, resolved or all."
    ),
    policy: list[str] = typer.Option(
        [],
        "--policy",
        metavar="POLICY",
        help="Policy id, id prefix (aws.iam) or glob ('aws.s3.*encryption*'); repeatable.",
    ),
    service: list[str] = typer.Option(
        [], "--service", metavar="SERVICE", help="Service, e.g. s3 (repeatable)."
    ),
    resource_type: list[str] = typer.Option(
        [],
        "--resource-type",
        metavar="TYPE",
        help="Resource type, e.g. aws.s3.bucket (repeatable).",
    ),
    region: list[str] = typer.Option(
        [], "--region", metavar="REGION", help="Region, e.g. ap-northeast-1 (repeatable)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print every matching finding as JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print every matching finding as CSV."),
    no_bom: bool = typer.Option(
        False, "--no-bom", help="CSV without the UTF-8 byte order mark Excel needs for Japanese."
    ),
    fail_on: str | None = typer.Option(
        None,
        "--fail-on",
        metavar="SEVERITY",
        help="Exit 1 if a listed open finding has this severity or higher.",
    ),
) -> None:
    """List findings of a tenant with filters."""
    if as_json and as_csv:
        raise UsageError("choose one of --json and --csv")
    if fail_on:
        parse_severity(fail_on)
    query = FindingQuery(
        tenant=tenant,
        status=status,
        severities=tuple(severity),
        min_severity=min_severity,
        policies=tuple(policy),
        services=tuple(service),
        resource_types=tuple(resource_type),
        regions=tuple(region),
    )
    rows = query_findings(state(ctx), query)
    if as_json:
        print(to_json(finding_record(r) for r in rows))
    elif as_csv:
        write_raw(to_csv((finding_record(r) for r in rows), FINDING_COLUMNS, bom=not no_bom))
    else:
        _table(rows)
    if fail_on and open_at_or_above(rows, fail_on):
        raise typer.Exit(1)


def _table(rows: list[FindingRow]) -> None:
    out = table(
        "severity",
        "policy",
        "resource",
        "region",
        "status",
        "title",
        policy="policy",
        policy_ids=(r.policy_id for r in rows),
    )
    for r in rows:
        out.add_row(
            r.severity,
            r.policy_id,
            escape(r.resource_name or r.resource_uid),
            r.region,
            r.status,
            escape(r.title.en),
        )
    console.print(out)
    console.print(f"{len(rows)} finding(s)")
