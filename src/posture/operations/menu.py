"""The service menu a tenant bought: its plan and options, and the usage against them.

Everything lives in ``tenant.options`` (set with ``posture tenant set-option``):

``plan``                ``sspm``, ``cspm`` or ``sspm+cspm`` (absent: both) — which providers
                        may be connected and scanned: SSPM covers the SaaS tenants (m365, gws),
                        CSPM the cloud accounts (aws, gcp)
``vulnerability_view``  the monthly vulnerability view (on unless ``false``)
``setting_repair``      a mapping; ``enabled: true`` means the tenant bought setting repair
                        (its other keys belong to the fixes)
``max_connections``     connections the plan includes (absent: no limit)
``extra_connections``   connections bought on top of the plan
``strict_limits``       ``true``: adding a connection beyond the limit is refused, not warned

A connection beyond the limit is allowed (with a warning) unless ``strict_limits``: the
overage is visible in ``posture tenant show``, ``posture tenant menu`` and ``posture usage``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import object_session
from sqlmodel import select

from posture.errors import OptionNotSubscribed, UsageError
from posture.operations.context import Operations
from posture.store import Connection, Tenant

SSPM, CSPM = "sspm", "cspm"
#: which option covers each provider
PROVIDER_OPTION: Mapping[str, str] = {"m365": SSPM, "gws": SSPM, "aws": CSPM, "gcp": CSPM}
PLANS = ("sspm", "cspm", "sspm+cspm")
SETTING_REPAIR = "setting_repair"
VULNERABILITY_VIEW = "vulnerability_view"
OPTIONS = (SSPM, CSPM, VULNERABILITY_VIEW, SETTING_REPAIR)
SET_OPTION_HINT = "a provider admin subscribes it with: posture tenant set-option {slug} {key}"


@dataclass(frozen=True)
class Menu:
    """A tenant's plan, what it includes, and how many connections it uses."""

    tenant: str
    plan: str
    sspm: bool
    cspm: bool
    vulnerability_view: bool
    setting_repair: bool
    max_connections: int | None  # None: no limit
    extra_connections: int
    strict_limits: bool
    connections: int  # in use

    @property
    def connection_limit(self) -> int | None:
        if self.max_connections is None:
            return None
        return self.max_connections + self.extra_connections

    @property
    def over_limit(self) -> int:
        """Connections in use beyond the limit (0 when within it)."""
        limit = self.connection_limit
        return 0 if limit is None else max(0, self.connections - limit)

    def includes(self, option: str) -> bool:
        return bool(getattr(self, option, False)) if option in OPTIONS else False

    def options(self) -> dict[str, bool]:
        return {name: self.includes(name) for name in OPTIONS}


def plan_of(options: Mapping[str, Any]) -> str:
    plan = str(options.get("plan") or "sspm+cspm").lower().replace(" ", "")
    return "sspm+cspm" if plan == "cspm+sspm" else plan


def tenant_menu(tenant: Tenant, *, connections: int | None = None) -> Menu:
    """The menu of a tenant; ``connections`` in use are counted when not given."""
    options: Mapping[str, Any] = tenant.options if isinstance(tenant.options, dict) else {}
    parts = set(plan_of(options).split("+"))
    repair = options.get(SETTING_REPAIR)
    if connections is None:
        session = object_session(tenant)
        connections = 0
        if session is not None:
            counted = session.execute(
                select(func.count())
                .select_from(Connection)
                .where(Connection.tenant_id == tenant.id)
            ).scalar_one()
            connections = int(counted)
    return Menu(
        tenant=tenant.slug,
        plan=plan_of(options),
        sspm=_flag(options.get(SSPM), SSPM in parts),
        cspm=_flag(options.get(CSPM), CSPM in parts),
        vulnerability_view=options.get(VULNERABILITY_VIEW, True) is not False,
        setting_repair=isinstance(repair, Mapping) and repair.get("enabled") is True,
        max_connections=_count(options.get("max_connections")),
        extra_connections=_count(options.get("extra_connections")) or 0,
        strict_limits=options.get("strict_limits") is True,
        connections=connections,
    )


def _flag(value: Any, default: bool) -> bool:
    return default if value is None else value is True


def _count(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return None


def require_option(tenant: Tenant, option: str) -> None:
    """Refuse with ``OptionNotSubscribed`` unless the tenant's menu includes ``option``."""
    if option not in OPTIONS:
        raise UsageError(f"unknown option '{option}'; options: {', '.join(OPTIONS)}")
    if not tenant_menu(tenant, connections=0).includes(option):
        key = f"{option}.enabled=true" if option == SETTING_REPAIR else f"{option}=true"
        if option in (SSPM, CSPM):
            key = "plan=sspm+cspm"
        raise OptionNotSubscribed(
            f"tenant '{tenant.slug}' has not subscribed to the option '{option}'",
            option=option,
            hint=SET_OPTION_HINT.format(slug=tenant.slug, key=key),
        )


def require_provider(tenant: Tenant, provider: str) -> None:
    """Refuse a provider the tenant's plan does not cover (an unknown one passes)."""
    option = PROVIDER_OPTION.get(provider)
    if option is not None:
        try:
            require_option(tenant, option)
        except OptionNotSubscribed as exc:
            raise OptionNotSubscribed(
                f"tenant '{tenant.slug}' has not subscribed to the option '{option}', "
                f"which {provider} connections need (plan: {plan_of(tenant.options)})",
                option=option,
                hint=exc.hint,
            ) from exc


def show_menu(ops: Operations, tenant: str | None = None) -> Menu:
    """The service menu of the named tenant (or the only one), with its connections in use."""
    from posture.operations.access import require
    from posture.operations.tenants import resolve_tenant

    with ops.session() as session:
        found = resolve_tenant(session, tenant)
        require(ops, "tenant.read", found.id)
        return tenant_menu(found)
