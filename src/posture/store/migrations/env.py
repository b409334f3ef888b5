"""Alembic environment: posture runs migrations in-process with a given connection."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import posture.store.tables  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only with the alembic command line
    raise RuntimeError("run migrations through posture.store.db.migrate()")
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
