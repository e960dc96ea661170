"""Per-account allowance of costly uploads (candidate photos).

The undo binding and the keyed audit chain need no schema change: the scan already records its device and
account, and an audit entry's hash keeps its 64 hex characters (HMAC-SHA256 instead of SHA-256).

Revision ID: 0104
Revises: 0106
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0104"
down_revision = "0106"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("at", portal.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_upload_attempts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_attempts")),
    )
    with op.batch_alter_table("upload_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_upload_attempts_account_id_kind_at", ["account_id", "kind", "at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("upload_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_upload_attempts_account_id_kind_at")
    op.drop_table("upload_attempts")
