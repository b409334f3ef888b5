"""Engines, sessions and schema migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine

from posture.errors import StoreError
from posture.store import rls, scope

scope.install()

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def default_url() -> str:
    """``POSTURE_DATABASE_URL``, else a SQLite file under ``POSTURE_HOME`` (``~/.posture``)."""
    url = os.environ.get("POSTURE_DATABASE_URL")
    if url:
        return url
    home = Path(os.environ.get("POSTURE_HOME", Path.home() / ".posture"))
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'posture.db'}"


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    url = url or default_url()
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise StoreError(f"cannot open the store at {_safe(url)}: {exc}") from exc
    return engine


def _safe(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}:***@{host}"
    return url


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the store at {_safe(str(engine.url))}: {exc}") from exc


class Store:
    """The database of one posture installation.

    ``rls_role`` (default ``POSTURE_DATABASE_RLS_ROLE``) is the PostgreSQL role a session
    with a tenant scope switches to, so row-level security holds even when the service
    connects as the tables' owner or a superuser (see ``posture.store.rls``).
    """

    def __init__(
        self, url: str | None = None, *, auto_migrate: bool = True, rls_role: str | None = None
    ) -> None:
        self.engine = make_engine(url)
        self.rls_role = rls_role or os.environ.get("POSTURE_DATABASE_RLS_ROLE") or None
        if auto_migrate:
            migrate(self.engine)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self, *, tenant_scope: Iterable[str] | None = None) -> Iterator[Session]:
        """A session whose work commits as one transaction, or not at all.

        With ``tenant_scope`` (tenant ids) the session sees only those tenants' rows: its
        ORM queries are limited (``posture.store.scope``) and, on PostgreSQL, so is the
        transaction itself (row-level security).
        """
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                if tenant_scope is not None:
                    self._limit(session, frozenset(tenant_scope))
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def _limit(self, session: Session, ids: frozenset[str]) -> None:
        session.info[scope.SCOPE_KEY] = ids
        if not self.is_postgres:
            return
        # an empty scope sees nothing: a value no tenant id can equal, not '' (= every tenant)
        value = ",".join(sorted(ids)) or "-"
        connection = session.connection()
        connection.execute(
            text("SELECT set_config(:name, :value, true)"), {"name": rls.SETTING, "value": value}
        )
        if self.rls_role:
            quoted = self.engine.dialect.identifier_preparer.quote(self.rls_role)
            connection.execute(text(f"SET LOCAL ROLE {quoted}"))

    def dispose(self) -> None:
        self.engine.dispose()
