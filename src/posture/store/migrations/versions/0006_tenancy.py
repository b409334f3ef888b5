"""tenancy: pausing a tenant, and row-level security by tenant on PostgreSQL

Revision ID: 0006_tenancy
Revises: 0003_audit
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import posture.store.types
from posture.store import rls

revision = "0006_tenancy"
down_revision = "0005_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenant") as batch:
        batch.add_column(
            sa.Column("paused_at", posture.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("paused_reason", sa.String(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("paused_by", sa.String(length=200), nullable=False, server_default="")
        )
    # row-level security (PostgreSQL only; the helpers do nothing elsewhere)
    rls.enable_rls(op, "tenant", "id")
    for table in rls.TENANT_TABLES:
        rls.enable_rls(op, table)
    for table in rls.CONNECTION_TABLES:
        rls.enable_rls_via_connection(op, table)
    rls.ensure_role(op)


def downgrade() -> None:
    for table in (*rls.CONNECTION_TABLES, *rls.TENANT_TABLES, "tenant"):
        rls.disable_rls(op, table)
    with op.batch_alter_table("tenant") as batch:
        batch.drop_column("paused_by")
        batch.drop_column("paused_reason")
        batch.drop_column("paused_at")
