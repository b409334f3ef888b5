"""Tenant scope of a session: the first wall between tenants, on every database.

A session opened for a principal that may see only some tenants carries their ids in
``session.info["tenant_scope"]``. Every ORM query it runs (``select``, ``Session.get``,
ORM ``update``/``delete``) then gets extra criteria limiting each tenant-owned table to
those tenants, so a row of another tenant is simply not there — an id guessed or copied
from elsewhere finds nothing, exactly like an id that never existed.

On PostgreSQL, row-level security (``posture.store.rls``) enforces the same scope a second
time, below the ORM: raw SQL cannot cross it either.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlmodel import Session, col, select

from posture.store.tables import (
    Connection,
    Finding,
    FindingEvent,
    FixRun,
    JobRun,
    Notification,
    NotificationChannel,
    ResultRecord,
    Scan,
    ScanResource,
    ScanTarget,
    Schedule,
    Tenant,
    UserAccount,
    Waiver,
)

SCOPE_KEY = "tenant_scope"

#: the tables holding a ``tenant_id`` column; ``tenant`` itself is scoped by its ``id``
TENANT_OWNED: tuple[type[Any], ...] = (
    Connection,
    Scan,
    Finding,
    ResultRecord,
    NotificationChannel,
    Notification,
    FindingEvent,
    Waiver,
    Schedule,
    JobRun,
    FixRun,
    UserAccount,
)
#: tables that belong to a tenant through their connection
CONNECTION_OWNED: tuple[type[Any], ...] = (ScanTarget, ScanResource)


def session_scope(session: Session) -> frozenset[str] | None:
    """The tenant ids this session may see; ``None``: every tenant."""
    scope = session.info.get(SCOPE_KEY)
    return None if scope is None else frozenset(scope)


def in_scope(session: Session, tenant_id: str) -> bool:
    scope = session_scope(session)
    return scope is None or tenant_id in scope


def _limit(state: ORMExecuteState) -> None:
    scope = state.session.info.get(SCOPE_KEY)
    if scope is None or state.is_column_load or state.is_relationship_load:
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    ids = sorted(scope)
    options: list[Any] = [
        with_loader_criteria(Tenant, col(Tenant.id).in_(ids), include_aliases=True)
    ]
    options += [
        with_loader_criteria(table, col(table.tenant_id).in_(ids), include_aliases=True)
        for table in TENANT_OWNED
    ]
    owned = select(Connection.id).where(col(Connection.tenant_id).in_(ids))
    options += [
        with_loader_criteria(table, col(table.connection_id).in_(owned), include_aliases=True)
        for table in CONNECTION_OWNED
    ]
    state.statement = state.statement.options(*options)


def install() -> None:
    """Limit every scoped session's ORM statements (idempotent)."""
    if not event.contains(Session, "do_orm_execute", _limit):
        event.listen(Session, "do_orm_execute", _limit)
