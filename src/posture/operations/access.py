"""Who may do what: roles, their permissions, the acting principal and ``require``.

A face that knows who acts (the web console, the API) puts a ``Principal`` on the
``Operations`` it hands down; every operation calls ``require`` with the permission it
needs before it reads or changes anything. The CLI, the scheduler and the workers run as
the local operator (no principal), for whom ``require`` allows everything.

Provider roles see every tenant; customer roles see the one tenant they belong to. A
tenant outside a principal's scope is reported exactly like a tenant that does not exist,
so a guessed slug or id tells nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from posture.errors import AccessDenied, ConfigurationError
from posture.operations.context import Operations

PERMISSIONS = (
    "tenant.read",
    "tenant.write",
    "tenant.pause",
    "connection.write",
    "scan.run",
    "finding.read",
    "waiver.write",
    "fix.request",
    "fix.approve",
    "fix.apply",
    "report.generate",
    "report.read",
    "report.deliver",
    "export.run",
    "schedule.write",
    "channel.write",
    "audit.read",
    "user.manage",
    "token.manage",
    "service.operate",
)


class Role(StrEnum):
    PROVIDER_ADMIN = "provider_admin"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    CUSTOMER_ADMIN = "customer_admin"
    CUSTOMER_VIEWER = "customer_viewer"

    @property
    def is_customer(self) -> bool:
        return self in CUSTOMER_ROLES


CUSTOMER_ROLES = frozenset({Role.CUSTOMER_ADMIN, Role.CUSTOMER_VIEWER})
PROVIDER_ROLES = frozenset({Role.PROVIDER_ADMIN, Role.ANALYST, Role.AUDITOR})

_READS = frozenset(p for p in PERMISSIONS if p.endswith(".read") and p != "audit.read")

RIGHTS: dict[Role, frozenset[str]] = {
    Role.PROVIDER_ADMIN: frozenset(PERMISSIONS),
    # an analyst manages customer users only, never provider users (checked by identity)
    Role.ANALYST: frozenset(PERMISSIONS) - {"tenant.write", "tenant.pause", "service.operate"},
    # exports of what an auditor may read: the audit log (and the findings it already sees)
    Role.AUDITOR: _READS | {"audit.read", "export.run"},
    Role.CUSTOMER_ADMIN: _READS
    | {
        "waiver.write",
        "fix.request",
        "fix.approve",
        "report.generate",
        "export.run",
        "channel.write",
        "user.manage",
        "token.manage",
    },
    Role.CUSTOMER_VIEWER: frozenset({"tenant.read", "finding.read", "report.read", "export.run"}),
}


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        from posture.errors import UsageError

        raise UsageError(
            f"unknown role '{value}'; use one of: {', '.join(r.value for r in Role)}"
        ) from None


def check_permissions(values: Iterable[str]) -> frozenset[str]:
    """The permission strings, each one known (a usage error names the unknown ones)."""
    wanted = frozenset(v.strip() for v in values if v.strip())
    unknown = sorted(wanted - set(PERMISSIONS))
    if unknown:
        from posture.errors import UsageError

        raise UsageError(
            f"unknown permission {', '.join(unknown)}; known: {', '.join(PERMISSIONS)}"
        )
    return wanted


@dataclass(frozen=True)
class Principal:
    """Who acts through the console or the API: a user, or one of its API tokens."""

    user_id: str
    username: str
    role: Role
    tenant_id: str | None = None  # the one tenant of a customer role
    scopes: frozenset[str] | None = None  # an API token's scopes; None = the role's rights
    must_change_password: bool = False  # a one-time password: only a password change is allowed

    @property
    def tenant_scope(self) -> frozenset[str] | None:
        """Tenant ids it may see; None means every tenant."""
        if self.role in CUSTOMER_ROLES:
            return frozenset({self.tenant_id}) if self.tenant_id else frozenset()
        return None

    @property
    def permissions(self) -> frozenset[str]:
        rights = RIGHTS[self.role]
        return rights if self.scopes is None else rights & self.scopes

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def sees(self, tenant_id: str) -> bool:
        scope = self.tenant_scope
        return scope is None or tenant_id in scope


def require(ops: Operations, permission: str, tenant_id: str | None = None) -> None:
    """Refuse unless the acting principal holds ``permission`` (on ``tenant_id``).

    Without a principal (CLI, scheduler, workers) everything is allowed. A tenant outside
    the principal's scope raises the same "unknown tenant" error a wrong slug gives.
    """
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    principal = ops.principal
    if principal is None:
        return
    if tenant_id is not None and not principal.sees(tenant_id):
        raise unknown_tenant(ops, tenant_id)
    if principal.must_change_password:
        raise AccessDenied(
            f"{principal.username} signed in with a one-time password: change it first",
            permission=permission,
            hint="set a new password, then sign in again",
        )
    if not principal.can(permission):
        via = "this API token" if principal.scopes is not None else f"the role {principal.role}"
        raise AccessDenied(
            f"{principal.username} may not do this: {via} lacks the permission {permission}",
            permission=permission,
            hint="ask a provider administrator for a role (or token scope) that has it",
        )


def visible(ops: Operations, tenant_id: str) -> bool:
    """May the acting principal see this tenant at all?"""
    return ops.principal is None or ops.principal.sees(tenant_id)


def unknown_tenant(ops: Operations, tenant_id: str) -> ConfigurationError:
    """The error a wrong slug gives, for a tenant the principal may not see."""
    from sqlmodel import select

    from posture.operations.tenants import _slugs, unknown_tenant_error
    from posture.store import Tenant

    with ops.session() as session:
        slug = session.exec(select(Tenant.slug).where(Tenant.id == tenant_id)).first()
        return unknown_tenant_error(slug or tenant_id, _slugs(session))
