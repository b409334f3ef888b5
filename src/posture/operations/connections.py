"""Connections: add, list, check their credentials, and the permissions a scan needs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from posture.connectors.registry import CONNECTORS, checker
from posture.errors import ConfigurationError, PostureError, UsageError, failure_reason
from posture.operations.audit import record
from posture.operations.context import Operations
from posture.operations.menu import require_provider, tenant_menu
from posture.operations.tenants import resolve_tenant
from posture.store import Connection, Tenant
from posture.store.types import utcnow

MAX_NAME = 100
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionInfo:
    tenant: str
    name: str
    provider: str
    account: str
    health: str  # never | ok | partial | failed
    health_message: str
    checked_at: datetime | None
    settings: dict[str, Any] = field(default_factory=dict)
    warning: str = ""  # e.g. the tenant now uses more connections than its plan includes

    @classmethod
    def of(cls, connection: Connection, tenant: Tenant) -> ConnectionInfo:
        return cls(
            tenant=tenant.slug,
            name=connection.name,
            provider=connection.provider,
            account=connection.account,
            health=connection.health,
            health_message=connection.health_message,
            checked_at=connection.checked_at,
            settings=dict(connection.settings),
        )


@dataclass(frozen=True)
class ConnectionCheck:
    """The outcome of signing in with one connection's credentials."""

    tenant: str
    connection: str
    health: str  # ok | failed
    message: str
    account: str = ""
    reason: str = ""  # why it failed: endpoint_unreachable, credentials_rejected, ...
    # an organisation: one line per member account (found, role assumed or why not)
    details: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.health == "ok"


def add_connection(
    ops: Operations,
    tenant: str | None,
    name: str,
    provider: str,
    settings: Mapping[str, Any],
) -> ConnectionInfo:
    """Record a connection; ``settings`` hold references to credentials, never secrets."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise UsageError(f"a connection name needs 1 to {MAX_NAME} characters")
    if provider not in CONNECTORS:
        raise UsageError(
            f"unknown provider '{provider}'; available: {', '.join(sorted(CONNECTORS))}"
        )
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        slug = ten.slug  # a failed flush expires the loaded rows
        require_provider(ten, provider)
        warning = _limit_warning(ten)
        row = Connection(tenant_id=ten.id, name=name, provider=provider, settings=dict(settings))
        session.add(row)
        try:
            session.flush()
        except IntegrityError as exc:
            raise ConfigurationError(
                f"tenant '{slug}' already has a connection named '{name}'"
            ) from exc
        details: dict[str, Any] = {"provider": provider, "settings": dict(settings)}
        if warning:
            details["warning"] = warning
        record(ops, "connection.add", tenant=slug, target=name, details=details, session=session)
        return replace(ConnectionInfo.of(row, ten), warning=warning)


def _limit_warning(tenant: Tenant) -> str:
    """Why one more connection exceeds the tenant's plan ('' when it does not); refused
    outright when the tenant has ``strict_limits``."""
    menu = tenant_menu(tenant)
    limit = menu.connection_limit
    if limit is None or menu.connections < limit:
        return ""
    message = (
        f"tenant '{tenant.slug}' has {menu.connections} connection(s) and its plan includes "
        f"{limit} (max_connections {menu.max_connections} + extra_connections "
        f"{menu.extra_connections})"
    )
    hint = f"raise it with: posture tenant set-option {tenant.slug} extra_connections=N"
    if menu.strict_limits:
        raise ConfigurationError(f"{message}: no more can be added", hint=hint)
    return f"{message}: this one is beyond the plan"


def add_aws_connection(
    ops: Operations,
    tenant: str | None,
    name: str,
    *,
    profile: str | None = None,
    role_arn: str | None = None,
    external_id: str | None = None,
    regions: Sequence[str] = (),
    endpoint_url: str | None = None,
    organization: bool = False,
    member_role_name: str | None = None,
    include_accounts: Sequence[str] = (),
    exclude_accounts: Sequence[str] = (),
    exclude_ous: Sequence[str] = (),
    max_concurrent_accounts: int | None = None,
) -> ConnectionInfo:
    """An AWS account, reached through a named profile and/or a role to assume; with
    ``organization`` the management (or delegated administrator) account of an AWS
    Organizations organisation, whose member accounts are read through ``member_role_name``
    (the external id, if any, is sent to every member role too)."""
    from posture.connectors.aws.entry import parse_settings

    typed: dict[str, Any] = {"profile": profile, "role_arn": role_arn, "regions": list(regions)}
    typed |= {"external_id": external_id, "endpoint_url": endpoint_url}
    typed |= {"organization": organization or None, "member_role_name": member_role_name}
    typed |= {"include_accounts": list(include_accounts)}
    typed |= {"exclude_accounts": list(exclude_accounts), "exclude_ous": list(exclude_ous)}
    typed |= {"max_concurrent_accounts": max_concurrent_accounts}
    settings = parse_settings(name, {k: v for k, v in typed.items() if v not in (None, [])})
    return add_connection(
        ops, tenant, name, "aws", settings.model_dump(mode="json", exclude_defaults=True)
    )


def add_m365_connection(
    ops: Operations,
    tenant: str | None,
    name: str,
    *,
    tenant_id: str,
    client_id: str,
    client_secret_env: str | None = None,
    certificate: str | None = None,
    authority: str | None = None,
    graph_url: str | None = None,
    ca_bundle: str | None = None,
    dns_server: str | None = None,
    dkim_selectors: Sequence[str] = (),
) -> ConnectionInfo:
    """A Microsoft 365 tenant, read by an Entra ID application with app-only permissions.

    The secret stays in the named environment variable (or the certificate in its file):
    only the variable's name or the file's path is stored.
    """
    from posture.connectors.m365.settings import parse_settings as m365_settings

    typed: dict[str, Any] = {"tenant_id": tenant_id, "client_id": client_id}
    typed |= {"client_secret_env": client_secret_env, "certificate": _file(name, certificate)}
    typed |= {"authority": authority, "graph_url": graph_url, "ca_bundle": _file(name, ca_bundle)}
    typed |= _dns_options(name, dns_server, dkim_selectors)
    settings = m365_settings(name, {k: v for k, v in typed.items() if v not in (None, "")})
    return add_connection(
        ops, tenant, name, "m365", settings.model_dump(mode="json", exclude_defaults=True)
    )


def _dns_options(
    connection: str, dns_server: str | None, dkim_selectors: Sequence[str]
) -> dict[str, Any]:
    """``--dns-server`` and ``--dkim-selector`` checked here, so an error names the option."""
    from posture.connectors.dns import check_selectors, parse_server

    try:
        if dns_server is not None:
            parse_server(dns_server)
    except ValueError as exc:
        raise ConfigurationError(f"connection '{connection}': --dns-server: {exc}") from exc
    try:
        selectors = check_selectors(list(dkim_selectors)) if dkim_selectors else None
    except ValueError as exc:
        raise ConfigurationError(f"connection '{connection}': --dkim-selector: {exc}") from exc
    return {"dns_server": dns_server, "dkim_selectors": selectors}


def _file(connection: str, path: str | None) -> str | None:
    """An absolute path, so the stored setting still works from another directory."""
    if not path:
        return None
    resolved = Path(path).expanduser().resolve()
    if not resolved.is_file():
        raise ConfigurationError(f"connection '{connection}': file '{path}' does not exist")
    return str(resolved)


def add_gws_connection(
    ops: Operations,
    tenant: str | None,
    name: str,
    *,
    customer_id: str,
    admin_email: str,
    key_file: str,
    root_url: str | None = None,
    ca_bundle: str | None = None,
    dns_server: str | None = None,
    dkim_selectors: Sequence[str] = (),
) -> ConnectionInfo:
    """A Google Workspace customer, read by a service account with domain-wide delegation
    acting as ``admin_email``; the key file is referenced by path, never stored."""
    from posture.connectors.gws.entry import parse_settings

    def absolute(path: str | None) -> str | None:
        # scans run from any directory (a scheduler, a worker): store where the file is
        return str(Path(path).expanduser().resolve()) if path else path

    typed: dict[str, Any] = {"customer_id": customer_id, "admin_email": admin_email}
    typed |= {"key_file": absolute(key_file), "root_url": root_url}
    typed |= {"ca_bundle": absolute(ca_bundle)}
    typed |= _dns_options(name, dns_server, dkim_selectors)
    settings = parse_settings(name, {k: v for k, v in typed.items() if v is not None})
    return add_connection(
        ops, tenant, name, "gws", settings.model_dump(mode="json", exclude_defaults=True)
    )


def add_gcp_connection(
    ops: Operations,
    tenant: str | None,
    name: str,
    *,
    organization_id: str | None = None,
    projects: Sequence[str] = (),
    key_file: str | None = None,
    root_url: str | None = None,
    ca_bundle: str | None = None,
) -> ConnectionInfo:
    """A Google Cloud organisation (its ACTIVE projects) or a list of projects, read with a
    service account key (referenced by path, never stored) or the application-default
    credentials."""
    from posture.connectors.gcp.entry import parse_settings

    typed: dict[str, Any] = {"organization_id": organization_id, "projects": list(projects)}
    typed |= {"key_file": _file(name, key_file), "root_url": root_url}
    typed |= {"ca_bundle": _file(name, ca_bundle)}
    settings = parse_settings(name, {k: v for k, v in typed.items() if v not in (None, [])})
    return add_connection(
        ops, tenant, name, "gcp", settings.model_dump(mode="json", exclude_defaults=True)
    )


def list_connections(ops: Operations, tenant: str | None = None) -> list[ConnectionInfo]:
    """Connections of one tenant, or of every tenant when none is named."""
    with ops.session() as session:
        query = (
            select(Connection, Tenant)
            .join(Tenant, col(Connection.tenant_id) == col(Tenant.id))
            .order_by(col(Tenant.slug), col(Connection.name))
        )
        if tenant:
            query = query.where(Connection.tenant_id == resolve_tenant(session, tenant).id)
        return [ConnectionInfo.of(conn, ten) for conn, ten in session.exec(query)]


def check_connections(
    ops: Operations,
    tenant: str | None,
    name: str | None = None,
    *,
    on_checked: Callable[[ConnectionCheck], None] | None = None,
) -> list[ConnectionCheck]:
    """Sign in with each (or the named) connection and record its health.

    Each connection's health is written as soon as it is known, so a slow or stuck
    provider does not hold back what was learnt about the others.
    """
    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        query = select(Connection).where(Connection.tenant_id == ten.id)
        conns = list(session.exec(query.order_by(col(Connection.name))))
    if name:
        conns = [c for c in conns if c.name == name]
    if not conns:
        raise ConfigurationError(
            f"tenant '{ten.slug}' has no connection{f' named {name!r}' if name else 's'}"
        )
    checks = []
    for conn in conns:
        check = _check(ten.slug, conn)
        with ops.session() as session:
            row = session.get(Connection, conn.id)
            if row is not None:
                row.health, row.health_message, row.checked_at = (
                    check.health,
                    check.message,
                    utcnow(),
                )
                row.account = check.account or row.account
                session.add(row)
                details = {"health": check.health, "reason": check.reason, "account": row.account}
                record(
                    ops,
                    "connection.check",
                    tenant=ten.slug,
                    target=conn.name,
                    details=details,
                    session=session,
                )
        checks.append(check)
        if on_checked:
            on_checked(check)
    return checks


def _check(tenant: str, conn: Connection) -> ConnectionCheck:
    try:
        info = checker(conn.provider)(conn.name, conn.settings)
    except Exception as exc:  # one bad connection must not hide the others' health
        if not isinstance(exc, PostureError):
            log.error("checking connection %s failed unexpectedly", conn.name, exc_info=exc)
            exc = PostureError(f"connection '{conn.name}': unexpected {type(exc).__name__}: {exc}")
        reason = failure_reason(exc).value
        return ConnectionCheck(tenant, conn.name, "failed", exc.message, reason=reason)
    regions = len(info.get("regions", []))
    account = str(info.get("account", ""))
    summary = info.get("summary")
    if not summary and "scopes" in info:
        summary = f"customer {account or '?'}, {len(info['scopes'])} OAuth scope(s) granted"
    message = str(summary or f"account {account or '?'}, {regions} region(s)")
    details = tuple(_account_line(a) for a in info.get("accounts", []))
    # an organisation whose member role fails in some account is usable, but not whole
    health = "partial" if info.get("healthy") is False else "ok"
    return ConnectionCheck(tenant, conn.name, health, message, account, details=details)


def _account_line(account: Mapping[str, Any]) -> str:
    """One member account of an organisation check, as a line a person reads."""
    name = f"{account['id']} ({account.get('name') or '-'})"
    if account.get("status") == "failed":
        return f"{name}: failed - {account.get('code')}: {account.get('message')}"
    how = f"role {account['role_arn']} assumed" if account.get("role_arn") else "signed in"
    return f"{name}: ok - {how}, {len(account.get('regions') or [])} region(s)"


def required_permissions(ops: Operations, provider: str = "aws") -> list[str]:
    """The read-only API permissions a scan needs, derived from the collection specs."""
    if provider == "m365":
        from posture.connectors.m365.permissions import required_permissions as graph_permissions

        return graph_permissions(ops.catalog().specs.values())
    if provider == "gws":
        from posture.connectors.gws.entry import required_scopes

        return required_scopes(ops.catalog().specs.values())
    if provider == "gcp":
        from posture.connectors.gcp.entry import required_permissions as gcp_permissions

        return gcp_permissions(ops.catalog().specs.values())
    if provider != "aws":
        raise UsageError(
            f"no permission list for provider '{provider}'; available: aws, m365, gws, gcp"
        )
    from posture.connectors.aws.organization import is_organization_type
    from posture.connectors.aws.validate import required_permissions as aws_permissions

    # a single account never reads the organisation-level types (see --organization)
    specs = ops.catalog().specs.values()
    return aws_permissions([s for s in specs if not is_organization_type(s)])


@dataclass(frozen=True)
class OrganizationPermissions:
    """What an organization connection needs, per side.

    ``management``: the connection's credentials in the management (or delegated
    administrator) account: listing the accounts, the organisation-level types, and
    ``sts:AssumeRole`` on ``member_role_arn``. ``member``: the member role in each account
    (the connection's credentials need it too: they read the account they sign in to).
    """

    management: list[str]
    member: list[str]
    member_role_arn: str

    def policies(self) -> dict[str, Any]:
        from posture.connectors.aws.permissions import POLICY_VERSION, policy_document

        management = {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Sid": "PostureOrganizationRead",
                    "Effect": "Allow",
                    "Action": self.management,
                    "Resource": "*",
                },
                {
                    "Sid": "PostureAssumeMemberRole",
                    "Effect": "Allow",
                    "Action": ["sts:AssumeRole"],
                    "Resource": self.member_role_arn,
                },
            ],
        }
        return {"management": management, "member": policy_document(self.member)}


def organization_permissions(
    ops: Operations, member_role_name: str | None = None
) -> OrganizationPermissions:
    """The two permission lists of an organization connection, derived from the specs."""
    from posture.connectors.aws.organization import DISCOVERY_CALLS, is_organization_type
    from posture.connectors.aws.permissions import iam_action
    from posture.connectors.aws.session import AwsSettings
    from posture.connectors.aws.validate import required_permissions as aws_permissions

    if member_role_name is not None:
        # the same check a connection's setting gets, so a typo is refused here too
        from posture.connectors.settings import parse_settings

        parse_settings(
            AwsSettings, "permissions", {"organization": True, "member_role_name": member_role_name}
        )
    specs = [s for s in ops.catalog().specs.values() if s.provider == "aws"]
    org = aws_permissions([s for s in specs if is_organization_type(s)])
    discovery = {a for service, call in DISCOVERY_CALLS if (a := iam_action(service, call))}
    member = aws_permissions([s for s in specs if not is_organization_type(s)])
    role = member_role_name or "ROLE_NAME"
    return OrganizationPermissions(
        management=sorted(set(org) | discovery),
        member=member,
        member_role_arn=f"arn:aws:iam::*:role/{role}",
    )


def permission_policy(ops: Operations, provider: str = "aws") -> dict[str, Any]:
    """The permissions as a policy document to attach to the scanning role (AWS), the
    Graph application permissions to grant the scanning application (M365), or the scopes
    as the Admin console's domain-wide delegation form takes them (Google Workspace)."""
    if provider == "m365":
        return {"graph_application_permissions": required_permissions(ops, provider)}
    if provider == "gws":
        scopes = required_permissions(ops, provider)
        return {"oauth_scopes": scopes, "domain_wide_delegation": ",".join(scopes)}
    if provider == "gcp":
        from posture.connectors.gcp.entry import ROLES

        return {
            "roles": [{"role": role, "grants": why} for role, why in ROLES],
            "permissions": required_permissions(ops, provider),
        }
    from posture.connectors.aws.permissions import policy_document

    return policy_document(required_permissions(ops, provider))


def set_write_credentials(
    ops: Operations,
    tenant: str | None,
    name: str,
    *,
    role_arn: str | None = None,
    profile: str | None = None,
    external_id: str | None = None,
) -> ConnectionInfo:
    """Give a connection the write credentials setting repair signs in with (AWS: a role
    assumed through STS and/or a profile), distinct from the scanning credentials."""
    from posture.connectors.aws.session import AwsSettings
    from posture.connectors.settings import parse_settings

    with ops.session() as session:
        ten = resolve_tenant(session, tenant)
        row = session.exec(
            select(Connection).where(Connection.tenant_id == ten.id, Connection.name == name)
        ).first()
        if row is None:
            raise ConfigurationError(f"tenant '{ten.slug}' has no connection named '{name}'")
        if row.provider != "aws":
            raise UsageError(
                f"connection '{name}' is a {row.provider} connection; write credentials can "
                "be set for AWS connections so far"
            )
        write = {
            k: v
            for k, v in (
                ("role_arn", role_arn),
                ("profile", profile),
                ("external_id", external_id),
            )
            if v
        }
        settings = {**row.settings, "write": write}
        parse_settings(AwsSettings, name, settings)  # refused here, not at the first fix
        row.settings = settings
        session.add(row)
        record(
            ops,
            "connection.set_write",
            tenant=ten.slug,
            target=name,
            details={"write": write},
            session=session,
        )
        return ConnectionInfo.of(row, ten)
