"""Tenants: register, list, look up, and find the one meant when none is named."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from posture.errors import ConfigurationError, NotFound, TenantPaused, UsageError
from posture.operations.access import require
from posture.operations.audit import record
from posture.operations.context import Operations
from posture.store import Tenant
from posture.store.scope import in_scope, session_scope
from posture.store.types import utcnow

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
LOCALES = ("ja", "en")
ADD_HINT = "add one with: posture tenant add SLUG --name NAME"


@dataclass(frozen=True)
class TenantInfo:
    slug: str
    name: str
    locale: str
    timezone: str
    contacts: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    paused_at: datetime | None = None
    paused_reason: str = ""
    paused_by: str = ""

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    @classmethod
    def of(cls, tenant: Tenant) -> TenantInfo:
        return cls(
            slug=tenant.slug,
            name=tenant.name,
            locale=tenant.locale,
            timezone=tenant.timezone,
            contacts=list(tenant.contacts),
            options=dict(tenant.options),
            created_at=tenant.created_at,
            paused_at=tenant.paused_at,
            paused_reason=tenant.paused_reason,
            paused_by=tenant.paused_by,
        )


def get_tenant(session: Session, slug: str) -> Tenant:
    """The tenant with this slug; an unknown slug names the known ones.

    A session with a tenant scope sees only its tenants (``posture.store.scope``): a tenant
    outside it is reported exactly like a slug that does not exist.
    """
    tenant = session.exec(select(Tenant).where(Tenant.slug == slug)).first()
    if tenant is None or not in_scope(session, tenant.id):
        raise unknown_tenant_error(slug, _slugs(session))
    return tenant


def unknown_tenant_error(slug: str, known: Sequence[str]) -> ConfigurationError:
    return NotFound(
        f"unknown tenant '{slug}'; known tenants: {', '.join(known) or 'none'}",
        hint=ADD_HINT,
    )


def resolve_tenant(session: Session, slug: str | None) -> Tenant:
    """The named tenant, or the only one when none is named (an error otherwise)."""
    if slug:
        return get_tenant(session, slug)
    query = select(Tenant).order_by(col(Tenant.slug))
    scope = session_scope(session)
    if scope is not None:
        query = query.where(col(Tenant.id).in_(scope))
    tenants = list(session.exec(query.limit(2)))
    if len(tenants) == 1:
        return tenants[0]
    if not tenants:
        raise ConfigurationError("there are no tenants yet", hint=ADD_HINT)
    raise UsageError(
        f"several tenants exist, name one of: {', '.join(_slugs(session))}",
        hint="pass --tenant SLUG",
    )


def default_tenant(ops: Operations, slug: str | None) -> str:
    """Slug of the named tenant, or of the only one."""
    with ops.session() as session:
        return resolve_tenant(session, slug).slug


def _slugs(session: Session) -> list[str]:
    query = select(Tenant.slug).order_by(col(Tenant.slug))
    scope = session_scope(session)
    if scope is not None:
        query = query.where(col(Tenant.id).in_(scope))
    return list(session.exec(query))


def add_tenant(
    ops: Operations,
    slug: str,
    *,
    name: str,
    locale: str = "ja",
    timezone: str = "Asia/Tokyo",
    contacts: Sequence[str] = (),
    options: Mapping[str, Any] | None = None,
) -> TenantInfo:
    """Register a customer organisation; its slug is how every other command names it."""
    require(ops, "tenant.write")
    if ops.effective_scope() is not None:
        raise UsageError("a user limited to some tenants cannot register tenants")
    if not SLUG.match(slug):
        raise UsageError(f"invalid tenant slug '{slug}': use lower-case letters, digits and dashes")
    if not name.strip():
        raise UsageError("a tenant needs a display name")
    if locale not in LOCALES:
        raise UsageError(f"invalid locale '{locale}': use ja or en")
    _check_timezone(timezone)
    require(ops, "tenant.write")
    tenant = Tenant(
        slug=slug,
        name=name.strip(),
        locale=locale,
        timezone=timezone,
        contacts=list(contacts),
        options=dict(options or {}),
    )
    try:
        with ops.session() as session:
            session.add(tenant)
            session.flush()
            details: dict[str, Any] = {"name": tenant.name, "locale": locale}
            details["timezone"] = timezone
            details |= {"contacts": list(contacts), "options": dict(options or {})}
            record(ops, "tenant.add", tenant=slug, target=slug, details=details, session=session)
    except IntegrityError as exc:
        raise ConfigurationError(f"tenant '{slug}' already exists") from exc
    return TenantInfo.of(tenant)


def _check_timezone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        if not zoneinfo.available_timezones():
            return  # no time zone database on this system: nothing to check against
        raise UsageError(
            f"unknown time zone '{name}'", hint="use an IANA name such as Asia/Tokyo or UTC"
        ) from exc


def list_tenants(ops: Operations) -> list[TenantInfo]:
    """Every tenant the context may see."""
    require(ops, "tenant.read")
    with ops.session() as session:
        query = select(Tenant).order_by(col(Tenant.slug))
        scope = session_scope(session)
        if scope is not None:
            query = query.where(col(Tenant.id).in_(scope))
        return [TenantInfo.of(t) for t in session.exec(query)]


def show_tenant(ops: Operations, slug: str | None = None) -> TenantInfo:
    with ops.session() as session:
        tenant = resolve_tenant(session, slug)
        require(ops, "tenant.read", tenant.id)
        return TenantInfo.of(tenant)


def check_active(tenant: Tenant) -> None:
    """Refuse work that acts on a paused tenant (scans, scheduled jobs, fixes, notifications)."""
    if tenant.paused_at is None:
        return
    since = tenant.paused_at.strftime("%Y-%m-%d %H:%M UTC")
    reason = tenant.paused_reason or "no reason given"
    raise TenantPaused(
        f"tenant {tenant.slug} is paused since {since}: {reason}",
        tenant=tenant.slug,
        hint=f"resume it with: posture tenant resume {tenant.slug}",
    )


def pause_tenant(ops: Operations, slug: str, *, reason: str) -> TenantInfo:
    """Stop scans, scheduled jobs, fixes and notifications of a tenant; its history stays."""
    require(ops, "tenant.pause")
    from posture.operations.audit import actor_of

    if not reason.strip():
        raise UsageError("pausing a tenant needs a reason (--reason)")
    with ops.session() as session:
        tenant = get_tenant(session, slug)
        if tenant.paused_at is not None:
            raise ConfigurationError(
                f"tenant '{tenant.slug}' is already paused since "
                f"{tenant.paused_at:%Y-%m-%d %H:%M} UTC: {tenant.paused_reason}"
            )
        tenant.paused_at = utcnow()
        tenant.paused_reason = reason.strip()
        tenant.paused_by = actor_of(ops)
        session.add(tenant)
        details = {"reason": tenant.paused_reason}
        record(ops, "tenant.pause", tenant=tenant.slug, target=tenant.slug, details=details,
               session=session)  # fmt: skip
        return TenantInfo.of(tenant)


def resume_tenant(ops: Operations, slug: str) -> TenantInfo:
    """Let a paused tenant be scanned, notified and fixed again."""
    require(ops, "tenant.pause")
    with ops.session() as session:
        tenant = get_tenant(session, slug)
        if tenant.paused_at is None:
            raise ConfigurationError(f"tenant '{tenant.slug}' is not paused")
        details = {"paused_at": tenant.paused_at.isoformat(), "reason": tenant.paused_reason}
        tenant.paused_at, tenant.paused_reason, tenant.paused_by = None, "", ""
        session.add(tenant)
        record(ops, "tenant.resume", tenant=tenant.slug, target=tenant.slug, details=details,
               session=session)  # fmt: skip
        return TenantInfo.of(tenant)


def set_option(ops: Operations, slug: str, key: str, value: Any) -> TenantInfo:
    """Set (or, with ``value`` None, remove) one option of a tenant's service menu.

    A dotted key sets a key inside a mapping option, e.g. ``setting_repair.enabled``.
    """
    from posture.operations.menu import PLANS, plan_of

    path = [part for part in key.split(".")]
    if not key or any(not part for part in path):
        raise UsageError(f"invalid option name '{key}'")
    if path == ["plan"] and value is not None and plan_of({"plan": value}) not in PLANS:
        raise UsageError(f"invalid plan '{value}'; plans: {', '.join(PLANS)}")
    with ops.session() as session:
        tenant = get_tenant(session, slug)
        require(ops, "tenant.write", tenant.id)
        options: dict[str, Any] = dict(tenant.options)
        before = options.get(path[0])
        holder = options
        for part in path[:-1]:
            inner = holder.get(part)
            holder[part] = dict(inner) if isinstance(inner, dict) else {}
            holder = holder[part]
        if value is None:
            holder.pop(path[-1], None)
        else:
            holder[path[-1]] = value
        tenant.options = options  # a new object, so the JSON column is written
        session.add(tenant)
        details = {"option": key, "value": value, "before": before}
        record(ops, "tenant.set_option", tenant=tenant.slug, target=key, details=details,
               session=session)  # fmt: skip
        return TenantInfo.of(tenant)
