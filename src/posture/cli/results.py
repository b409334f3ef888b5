"""posture results"""

from __future__ import annotations

from collections import Counter

import typer
from rich.markup import escape

from posture.cli.output import table, write_raw
from posture.cli.runtime import console, state
from posture.errors import UsageError
from posture.operations import ResultQuery, ResultRow
from posture.operations.exports import RESULT_COLUMNS, result_record, to_csv, to_json
from posture.operations.results import ATTENTION_ORDER, STATUSES, query_results

STATUS_HELP = f"Only this outcome: {', '.join(STATUSES)} (repeatable)."


def results(
    ctx: typer.Context,
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Tenant (default: the only one)."
    ),
    scan: str | None = typer.Option(
        None,
        "--scan",
        metavar="SCAN_ID",
        help="Results of this scan (an id or its unique start) instead of the latest.",
    ),
    status: list[str] = typer.Option(
        [],
        "--status",
        metavar="STATUS",
        help=STATUS_HELP,
    ),
    policy: list[str] = typer.Option(
        [],
        "--policy",
        metavar="POLICY",
        help="Policy id, id prefix (aws.iam) or glob ('aws.s3.*encryption*'); repeatable.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print every matching result as JSON."),
    as_csv: bool = typer.Option(False, "--csv", help="Print every matching result as CSV."),
    no_bom: bool = typer.Option(
        False, "--no-bom", help="CSV without the UTF-8 byte order mark Excel needs for Japanese."
    ),
) -> None:
    """The latest result of every policy on every resource, passes included.

    Per connection, the results of the newest scan that collected it; a connection whose
    newest scan failed, or that was never scanned, shows as one error row.
    """
    if as_json and as_csv:
        raise UsageError("choose one of --json and --csv")
    query = ResultQuery(tenant=tenant, scan=scan, statuses=tuple(status), policies=tuple(policy))
    rows = query_results(state(ctx), query)
    if as_json:
        print(to_json(result_record(r) for r in rows))
    elif as_csv:
        write_raw(to_csv((result_record(r) for r in rows), RESULT_COLUMNS, bom=not no_bom))
    else:
        _table(rows)


def _table(rows: list[ResultRow]) -> None:
    out = table(
        "status",
        "severity",
        "policy",
        "resource",
        "region",
        "connection",
        "reason",
        policy="policy",
        policy_ids=(r.policy_id for r in rows),
    )
    for r in rows:
        out.add_row(
            r.status,
            r.severity,
            r.policy_id,
            escape(r.resource_name or r.resource_uid),
            r.region,
            escape(r.connection),
            escape(r.reason),
        )
    console.print(out)
    counts = Counter(r.status for r in rows)
    detail = ", ".join(f"{s} {counts[s]}" for s in ATTENTION_ORDER if counts[s])
    console.print(f"{len(rows)} result(s)" + (f": {detail}" if detail else ""))
