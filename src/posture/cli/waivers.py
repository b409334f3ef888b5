"""posture waiver add|list|revoke: accepted risks and the findings they waive."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from posture.cli import output
from posture.cli.runtime import console, state
from posture.operations.exports import to_json
from posture.operations.waivers import (
    WaiverChanges,
    WaiverInfo,
    add_waiver,
    list_waivers,
    revoke_waiver,
)

app = typer.Typer(
    help="Waivers (accepted risks): their findings are reported as waived, never hidden.",
    no_args_is_help=True,
)

TENANT = typer.Option(None, "--tenant", metavar="SLUG", help="Tenant (default: the only one).")


@app.command("add")
def add(
    ctx: typer.Context,
    tenant: str | None = TENANT,
    policy: str = typer.Option(
        "", "--policy", metavar="POLICY", help="Policy id, id prefix or glob ('aws.s3.*')."
    ),
    resource: str = typer.Option(
        "", "--resource", metavar="GLOB", help="Resource uid pattern, e.g. 'arn:aws:s3:::logs-*'."
    ),
    tag: str = typer.Option("", "--tag", metavar="KEY=VALUE", help="Resources with this tag."),
    connection: str = typer.Option(
        "", "--connection", metavar="NAME", help="Findings of this connection only."
    ),
    whole_tenant: bool = typer.Option(
        False, "--whole-tenant", help="Every finding of the tenant (no other scope)."
    ),
    reason: str = typer.Option(..., "--reason", metavar="TEXT", help="Why the risk is accepted."),
    requested_by: str = typer.Option(
        ..., "--requested-by", metavar="WHO", help="Who asked for the waiver."
    ),
    approved_by: str = typer.Option(..., "--approved-by", metavar="WHO", help="Who approved it."),
    expires: str = typer.Option(
        ...,
        "--expires",
        metavar="YYYY-MM-DD",
        help="Last day in force, in the tenant's time zone (at most 365 days ahead by default).",
    ),
) -> None:
    """Accept a risk until a date; the findings it covers become waived at once."""
    info = add_waiver(
        state(ctx),
        tenant,
        policy=policy,
        resource=resource,
        tag=tag,
        connection=connection,
        whole_tenant=whole_tenant,
        reason=reason,
        requested_by=requested_by,
        approved_by=approved_by,
        expires=expires,
    )
    console.print(
        f"waiver {info.id} added for {escape(info.scope)}, in force until the end of "
        f"{info.expires_on:%Y-%m-%d}"
    )
    _changes(info.changes)


@app.command("list")
def list_(
    ctx: typer.Context,
    tenant: str | None = TENANT,
    status: str = typer.Option(
        "active", "--status", metavar="STATE", help="active, expired, revoked or all."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the waivers as JSON."),
) -> None:
    """Waivers of a tenant, soonest expiry first, with the findings each one waives."""
    waivers = list_waivers(state(ctx), tenant, status=status)
    if as_json:
        print(to_json(_record(w) for w in waivers))
        return
    table = Table("waiver", "scope", "expires", "status", "findings", "approved by", "reason")
    for w in waivers:
        table.add_row(
            w.id,
            escape(w.scope),
            f"{w.expires_on:%Y-%m-%d}",
            w.status,
            str(w.findings),
            escape(w.approved_by),
            escape(w.reason[:60]),
        )
    table.columns[0].no_wrap = True  # ids are copied into 'waiver revoke'
    console.print(table)
    console.print(f"{len(waivers)} waiver(s)")


@app.command("revoke", cls=output.Command)
def revoke(
    ctx: typer.Context,
    waiver_id: str = typer.Argument(
        ..., metavar="WAIVER_ID", help="Waiver id, or its first characters if unique."
    ),
    tenant: str | None = TENANT,
    by: str = typer.Option(..., "--by", metavar="WHO", help="Who revokes the waiver."),
    reason: str = typer.Option("", "--reason", metavar="TEXT", help="Why it ends early."),
) -> None:
    """End a waiver before its expiry; its findings return to open at once."""
    info = revoke_waiver(state(ctx), waiver_id, tenant=tenant, revoked_by=by, reason=reason)
    console.print(f"waiver {info.id} revoked")
    _changes(info.changes)


def _changes(changes: WaiverChanges) -> None:
    console.print(
        f"{changes.waived} finding(s) waived, "
        f"{changes.lapsed + changes.unwaived} finding(s) back to open"
    )


def _record(w: WaiverInfo) -> dict[str, object]:
    return {
        "id": w.id,
        "tenant": w.tenant,
        "status": w.status,
        "policy": w.policy,
        "resource": w.resource,
        "tag": w.tag,
        "connection": w.connection,
        "whole_tenant": w.whole_tenant,
        "reason": w.reason,
        "requested_by": w.requested_by,
        "approved_by": w.approved_by,
        "expires_on": w.expires_on.isoformat(),
        "expires_at": w.expires_at.isoformat(),
        "created_at": w.created_at.isoformat(),
        "revoked_at": w.revoked_at.isoformat() if w.revoked_at else None,
        "revoked_by": w.revoked_by,
        "revoke_reason": w.revoke_reason,
        "findings": w.findings,
    }
