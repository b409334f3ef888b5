"""setting repair: fix runs and the global kill switch

Revision ID: 0004_fixes
Revises: 0003_audit
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import posture.store.types

revision = "0004_fixes"
down_revision = "0003_audit"
branch_labels = None
depends_on = None


def _time(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, posture.store.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "fix_run",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("tenant_id", sa.String(), nullable=False),
        sa.Column("connection_id", sa.String(), nullable=False),
        sa.Column("finding_id", sa.String(length=64), nullable=False),
        sa.Column("fix_id", sa.String(length=200), nullable=False),
        sa.Column("policy_id", sa.String(length=200), nullable=False),
        sa.Column("resource_type", sa.String(length=128), nullable=False),
        sa.Column("resource_uid", sa.String(length=2048), nullable=False),
        sa.Column("resource_name", sa.String(length=1024), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("risk", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("resource", sa.JSON(), nullable=False),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column("planned_by", sa.String(length=200), nullable=False),
        _time("planned_at", False),
        sa.Column("approved_by", sa.String(length=200), nullable=False),
        _time("approved_at", True),
        sa.Column("applied_by", sa.String(length=200), nullable=False),
        _time("applied_at", True),
        _time("finished_at", True),
        sa.Column("verify_scan_id", sa.String(length=32), nullable=False),
        sa.Column("notified", sa.Boolean(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        _time("updated_at", False),
        sa.ForeignKeyConstraint(["connection_id"], ["connection.id"]),
        sa.ForeignKeyConstraint(["finding_id"], ["finding.id"]),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_fix_run_connection_id"), "fix_run", ["connection_id"], unique=False)
    op.create_index(op.f("ix_fix_run_finding_id"), "fix_run", ["finding_id"], unique=False)
    op.create_index("ix_fix_run_tenant_state", "fix_run", ["tenant_id", "state"], unique=False)
    op.create_index(
        "ix_fix_run_tenant_applied", "fix_run", ["tenant_id", "applied_at"], unique=False
    )
    control = op.create_table(
        "fix_control",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        _time("changed_at", True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(
        control, [{"id": 1, "disabled": False, "reason": "", "changed_by": "", "changed_at": None}]
    )


def downgrade() -> None:
    op.drop_table("fix_control")
    op.drop_index("ix_fix_run_tenant_applied", table_name="fix_run")
    op.drop_index("ix_fix_run_tenant_state", table_name="fix_run")
    op.drop_index(op.f("ix_fix_run_finding_id"), table_name="fix_run")
    op.drop_index(op.f("ix_fix_run_connection_id"), table_name="fix_run")
    op.drop_table("fix_run")
