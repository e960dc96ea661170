"""account trust: second-factor failure counts and replay guard, who added an account, the first-run setup code

Revision ID: 0102
Revises: 0105
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0102"
down_revision = "0105"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "setup_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("used_at", portal.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_setup_codes")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_setup_codes_code_digest")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("mfa_failures", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("mfa_locked_until", portal.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mfa_failures", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_column("mfa_failures")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_column("created_by_id")
        batch_op.drop_column("mfa_locked_until")
        batch_op.drop_column("mfa_failures")
        batch_op.drop_column("totp_last_step")
    op.drop_table("setup_codes")
