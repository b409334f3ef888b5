"""schedules and their runs

Revision ID: 0003_schedule
Revises: 0002
Create Date: 2026-12-02

The scheduler's own job table (``apscheduler_jobs``) is created by APScheduler's job
store when a scheduler first starts; it is derived from ``schedule`` and not migrated.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import posture.store.types

revision = "0003_schedule"
down_revision = "0003_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedule",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("tenant_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("cron", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", posture.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", posture.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("schedule_id", sa.String(length=32), nullable=False),
        sa.Column("tenant_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("scheduled_for", posture.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", posture.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", posture.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("runner", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("schedule_id", "scheduled_for", name="uq_job_run_schedule_time"),
    )
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_run_schedule_id"), ["schedule_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_run_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("job_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_run_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_job_run_schedule_id"))
    op.drop_table("job_run")
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_schedule_tenant_id"))
    op.drop_table("schedule")
