"""workers: the heartbeat of each Celery worker

Revision ID: 0007_workers
Revises: 0003_audit
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import posture.store.types

revision = "0007_workers"
down_revision = "0006_tenancy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeat",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("started_at", posture.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen", posture.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", posture.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("running", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_worker_heartbeat_last_seen", "worker_heartbeat", ["last_seen"])


def downgrade() -> None:
    op.drop_index("ix_worker_heartbeat_last_seen", table_name="worker_heartbeat")
    op.drop_table("worker_heartbeat")
