"""oidc: a user's e-mail address and its single sign-on identity

Revision ID: 0008_oidc
Revises: 0007_workers
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_oidc"
down_revision = "0007_workers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("oidc_subject", sa.String(length=600), nullable=True))
    op.create_index(op.f("ix_user_account_email"), "user_account", ["email"], unique=True)
    op.create_index(
        op.f("ix_user_account_oidc_subject"), "user_account", ["oidc_subject"], unique=True
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_user_account_oidc_subject"), table_name="user_account")
    op.drop_index(op.f("ix_user_account_email"), table_name="user_account")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("oidc_subject")
        batch.drop_column("email")
