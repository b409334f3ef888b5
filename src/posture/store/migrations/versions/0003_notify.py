"""notification channels and deliveries

Revision ID: 0003_notify
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import posture.store.types

revision = "0003_notify"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_channel",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("tenant_id", sa.String(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("min_severity", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("retries", sa.Integer(), nullable=False),
        sa.Column("backoff_seconds", sa.Float(), nullable=False),
        sa.Column("created_at", posture.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "name", name="uq_notification_channel_tenant_name"),
    )
    with op.batch_alter_table("notification_channel", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_channel_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "notification",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("tenant_id", sa.String(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("finding_id", sa.String(length=64), nullable=False),
        sa.Column("scan_id", sa.String(), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=False),
        sa.Column("created_at", posture.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", posture.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", posture.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["notification_channel.id"]),
        sa.ForeignKeyConstraint(["finding_id"], ["finding.id"]),
        sa.ForeignKeyConstraint(["scan_id"], ["scan.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id", "finding_id", "scan_id", name="uq_notification_event"),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notification_channel_state", ["channel_id", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_notification_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_tenant_id"))
        batch_op.drop_index("ix_notification_channel_state")
    op.drop_table("notification")
    with op.batch_alter_table("notification_channel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_channel_tenant_id"))
    op.drop_table("notification_channel")
