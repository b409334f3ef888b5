"""posture connection add aws|m365|gws|gcp, list, check, permissions"""

from __future__ import annotations

import json

import typer
from rich.markup import escape
from rich.table import Table

from posture.cli import output
from posture.cli.runtime import console, err_console, state
from posture.errors import UsageError
from posture.operations.connections import (
    ConnectionCheck,
    ConnectionInfo,
    add_aws_connection,
    add_gcp_connection,
    add_gws_connection,
    add_m365_connection,
    check_connections,
    list_connections,
    organization_permissions,
    permission_policy,
    required_permissions,
    set_write_credentials,
)

app = typer.Typer(
    help="Manage connections (cloud accounts and SaaS tenants).", no_args_is_help=True
)
add_app = typer.Typer(help="Add a connection.", no_args_is_help=True)
app.add_typer(add_app, name="add")

TENANT_HELP = "Tenant (default: the only one)."


DNS_SERVER_HELP = (
    "IP address of the DNS server for the mail domains' SPF, DKIM and DMARC look-ups "
    "(default: the system's resolvers; port 53; IPv6 as [ADDRESS]:PORT)."
)


@add_app.command("aws")
def add_aws(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
    name: str = typer.Option(
        ..., "--name", metavar="NAME", help="Connection name, unique within the tenant."
    ),
    profile: str | None = typer.Option(
        None, "--profile", metavar="PROFILE", help="Named profile of the AWS config files."
    ),
    role_arn: str | None = typer.Option(
        None, "--role-arn", metavar="ARN", help="Role to assume in the customer account."
    ),
    external_id: str | None = typer.Option(
        None, "--external-id", metavar="ID", help="External id required by the role."
    ),
    region: list[str] = typer.Option(
        [],
        "--region",
        metavar="REGION",
        help="Region to scan (repeatable; default: all enabled).",
    ),
    endpoint_url: str | None = typer.Option(
        None, "--endpoint-url", metavar="URL", help="API endpoint override, e.g. moto_server."
    ),
    organization: bool = typer.Option(
        False,
        "--organization",
        help="The credentials sign in to an AWS Organizations management (or delegated "
        "administrator) account: scan every active member account through --member-role-name.",
    ),
    member_role_name: str | None = typer.Option(
        None,
        "--member-role-name",
        metavar="ROLE",
        help="Role assumed in each member account (with --external-id, if given).",
    ),
    include_account: list[str] = typer.Option(
        [],
        "--include-account",
        metavar="ID",
        help="Scan only this member account (repeatable; default: every active account).",
    ),
    exclude_account: list[str] = typer.Option(
        [], "--exclude-account", metavar="ID", help="Do not scan this member account (repeatable)."
    ),
    exclude_ou: list[str] = typer.Option(
        [],
        "--exclude-ou",
        metavar="OU",
        help="Do not scan the accounts anywhere below this organizational unit (repeatable).",
    ),
    max_concurrent_accounts: int | None = typer.Option(
        None,
        "--max-concurrent-accounts",
        metavar="N",
        help="Member accounts scanned at the same time (default 4).",
    ),
) -> None:
    """Add an AWS account or organisation. Credentials are referenced (profile, role), never
    stored."""
    info = add_aws_connection(
        state(ctx),
        tenant,
        name,
        profile=profile,
        role_arn=role_arn,
        external_id=external_id,
        regions=region,
        endpoint_url=endpoint_url,
        organization=organization,
        member_role_name=member_role_name,
        include_accounts=include_account,
        exclude_accounts=exclude_account,
        exclude_ous=exclude_ou,
        max_concurrent_accounts=max_concurrent_accounts,
    )
    _added(info, "aws")


@add_app.command("m365")
def add_m365(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
    name: str = typer.Option(
        ..., "--name", metavar="NAME", help="Connection name, unique within the tenant."
    ),
    tenant_id: str = typer.Option(
        ..., "--tenant-id", metavar="ID", help="Directory (tenant) id of the Microsoft 365 tenant."
    ),
    client_id: str = typer.Option(
        ..., "--client-id", metavar="ID", help="Application (client) id of the scanning app."
    ),
    client_secret_env: str | None = typer.Option(
        None,
        "--client-secret-env",
        metavar="VAR",
        help="Environment variable holding the client secret (the secret is never stored).",
    ),
    certificate: str | None = typer.Option(
        None, "--certificate", metavar="PATH", help="PEM file with the app's certificate and key."
    ),
    authority: str | None = typer.Option(
        None,
        "--authority",
        metavar="URL",
        help="Entra ID sign-in host (default https://login.microsoftonline.com).",
    ),
    graph_url: str | None = typer.Option(
        None,
        "--graph-url",
        metavar="URL",
        help="Graph root without version (default https://graph.microsoft.com).",
    ),
    ca_bundle: str | None = typer.Option(
        None, "--ca-bundle", metavar="PATH", help="PEM file trusted for sign-in and Graph."
    ),
    dns_server: str | None = typer.Option(
        None,
        "--dns-server",
        metavar="HOST[:PORT]",
        help=DNS_SERVER_HELP,
    ),
    dkim_selector: list[str] = typer.Option(
        [],
        "--dkim-selector",
        metavar="SELECTOR",
        help="DKIM selector to look up instead of the default (repeatable): selector1, selector2.",
    ),
) -> None:
    """Add a Microsoft 365 tenant, read with app-only Graph permissions."""
    info = add_m365_connection(
        state(ctx),
        tenant,
        name,
        tenant_id=tenant_id,
        client_id=client_id,
        client_secret_env=client_secret_env,
        certificate=certificate,
        authority=authority,
        graph_url=graph_url,
        ca_bundle=ca_bundle,
        dns_server=dns_server,
        dkim_selectors=dkim_selector,
    )
    _added(info, "m365")


@add_app.command("gws")
def add_gws(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
    name: str = typer.Option(
        ..., "--name", metavar="NAME", help="Connection name, unique within the tenant."
    ),
    customer_id: str = typer.Option(
        "my_customer",
        "--customer-id",
        metavar="ID",
        help="Workspace customer id (C0...) or my_customer.",
    ),
    admin_email: str = typer.Option(
        ..., "--admin-email", metavar="SUBJECT", help="Administrator the service account acts as."
    ),
    key_file: str = typer.Option(
        ...,
        "--key-file",
        metavar="PATH",
        help="Service account JSON key (referenced, never stored); its token_uri is used.",
    ),
    root_url: str | None = typer.Option(
        None,
        "--root-url",
        metavar="URL",
        help="Replaces https://www.googleapis.com/ and the API roots, e.g. a proxy or test server.",
    ),
    ca_bundle: str | None = typer.Option(
        None, "--ca-bundle", metavar="PATH", help="PEM file trusted for HTTPS to these servers."
    ),
    dns_server: str | None = typer.Option(
        None,
        "--dns-server",
        metavar="HOST[:PORT]",
        help=DNS_SERVER_HELP,
    ),
    dkim_selector: list[str] = typer.Option(
        [],
        "--dkim-selector",
        metavar="SELECTOR",
        help="DKIM selector to look up instead of the default (repeatable): google.",
    ),
) -> None:
    """Add a Google Workspace customer read through domain-wide delegation."""
    info = add_gws_connection(
        state(ctx),
        tenant,
        name,
        customer_id=customer_id,
        admin_email=admin_email,
        key_file=key_file,
        root_url=root_url,
        ca_bundle=ca_bundle,
        dns_server=dns_server,
        dkim_selectors=dkim_selector,
    )
    _added(info, "gws")


@add_app.command("gcp")
def add_gcp(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
    name: str = typer.Option(
        ..., "--name", metavar="NAME", help="Connection name, unique within the tenant."
    ),
    organization: str | None = typer.Option(
        None,
        "--organization",
        metavar="ORG_ID",
        help="Numeric organisation id: every ACTIVE project under it, through its folders.",
    ),
    project: list[str] = typer.Option(
        [],
        "--project",
        metavar="PROJECT_ID",
        help="Project id to scan instead of an organisation (repeatable).",
    ),
    key_file: str | None = typer.Option(
        None,
        "--key-file",
        metavar="PATH",
        help="Service account JSON key (referenced, never stored; its token_uri is used). "
        "Without it: the application-default credentials.",
    ),
    root_url: str | None = typer.Option(
        None,
        "--root-url",
        metavar="URL",
        help="Replaces https://www.googleapis.com/ and every API's own root, e.g. a proxy or "
        "test server.",
    ),
    ca_bundle: str | None = typer.Option(
        None, "--ca-bundle", metavar="PATH", help="PEM file trusted for HTTPS to these servers."
    ),
) -> None:
    """Add a Google Cloud organisation or a list of projects."""
    info = add_gcp_connection(
        state(ctx),
        tenant,
        name,
        organization_id=organization,
        projects=project,
        key_file=key_file,
        root_url=root_url,
        ca_bundle=ca_bundle,
    )
    _added(info, "gcp")


@app.command("set-write", cls=output.Command)
def set_write(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
    name: str = typer.Option(..., "--name", metavar="NAME", help="Connection name."),
    role_arn: str | None = typer.Option(
        None, "--role-arn", metavar="ARN", help="Role setting repair assumes (AWS)."
    ),
    profile: str | None = typer.Option(
        None, "--profile", metavar="PROFILE", help="Profile setting repair signs in with (AWS)."
    ),
    external_id: str | None = typer.Option(
        None, "--external-id", metavar="ID", help="External id required by the role."
    ),
) -> None:
    """Set the write credentials of setting repair, distinct from the scanning ones."""
    info = set_write_credentials(
        state(ctx), tenant, name, role_arn=role_arn, profile=profile, external_id=external_id
    )
    console.print(f"connection {escape(info.name)}: write credentials set for setting repair")


@app.command("list")
def list_(
    ctx: typer.Context,
    tenant: str | None = typer.Option(
        None, "--tenant", metavar="SLUG", help="Only this tenant (default: every tenant)."
    ),
) -> None:
    """List connections and their health."""
    table = Table("tenant", "connection", "provider", "account", "health", "checked", "message")
    for conn in list_connections(state(ctx), tenant):
        table.add_row(
            escape(conn.tenant),
            escape(conn.name),
            conn.provider,
            escape(conn.account),
            conn.health,
            conn.checked_at.strftime("%Y-%m-%d %H:%M") if conn.checked_at else "-",
            escape(conn.health_message[:80]),
        )
    console.print(table)


@app.command("check")
def check(
    ctx: typer.Context,
    tenant: str | None = typer.Option(None, "--tenant", metavar="SLUG", help=TENANT_HELP),
    name: str | None = typer.Option(None, "--name", metavar="NAME", help="Only this connection."),
) -> None:
    """Sign in with each connection's credentials and record its health (exit 1 if any fails)."""

    def show(result: ConnectionCheck) -> None:
        out = console if result.ok else err_console
        shown = f"failed ({result.reason})" if result.reason else result.health
        out.print(
            f"{escape(result.connection)}: {shown} - {escape(result.message)}", soft_wrap=True
        )
        for line in result.details:
            out.print(f"  {escape(line)}", soft_wrap=True)

    checks = check_connections(state(ctx), tenant, name, on_checked=show)
    if any(not c.ok for c in checks):
        raise typer.Exit(1)


@app.command("permissions", cls=output.Command)
def permissions(
    ctx: typer.Context,
    provider: str = typer.Argument(
        "aws",
        metavar="PROVIDER",
        help="Provider whose read permissions to list: aws, m365, gws or gcp.",
    ),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print an IAM policy document (aws), or a JSON object (m365: Graph permissions; "
        "gws: OAuth scopes; gcp: predefined roles and IAM permissions).",
    ),
    organization: bool = typer.Option(
        False,
        "--organization",
        help="aws: what an organization connection needs, in the management account and in "
        "each member role (with --json: both policy documents).",
    ),
    member_role_name: str | None = typer.Option(
        None,
        "--member-role-name",
        metavar="ROLE",
        help="aws --organization: the member role to name in sts:AssumeRole.",
    ),
) -> None:
    """The read-only API permissions a scan needs, derived from the collection specs."""
    if organization:
        if provider != "aws":
            raise UsageError("--organization is an aws option")
        needs = organization_permissions(state(ctx), member_role_name)
        if as_json:
            print(json.dumps(needs.policies(), indent=2))
            return
        console.print(
            "# management (or delegated administrator) account: the connection's credentials",
            markup=False,
        )
        for action in needs.management:
            console.print(action, markup=False)
        console.print(f"sts:AssumeRole on {needs.member_role_arn}", markup=False)
        console.print(
            "# member role in each account (the connection's credentials need these too: "
            "they read the account they sign in to)",
            markup=False,
        )
        for action in needs.member:
            console.print(action, markup=False)
        return
    if as_json:
        print(json.dumps(permission_policy(state(ctx), provider), indent=2))
        return
    if provider == "gcp":
        from posture.connectors.gcp.entry import ROLES

        console.print("Predefined roles to grant (on the organisation, or on each project):")
        for role, why in ROLES:
            console.print(f"  {role}  ({why})", markup=False)
        console.print("IAM permissions the scan uses:")
        for action in required_permissions(state(ctx), provider):
            console.print(f"  {action}", markup=False)
        return
    for action in required_permissions(state(ctx), provider):
        console.print(action, markup=False)


def _added(info: ConnectionInfo, provider: str) -> None:
    console.print(
        f"connection [bold]{escape(info.name)}[/] ({provider}) added to tenant {escape(info.tenant)}"
    )
    if info.warning:
        err_console.print(f"[yellow]warning:[/] {escape(info.warning)}")
