"""Accreditation: a level held may carry conditions, in the public register's words.

Revision ID: accreditation_0002
Revises: accreditation_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "accreditation_0002"
down_revision = "accreditation_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accreditation_holdings") as batch:
        batch.add_column(sa.Column("conditions", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("accreditation_holdings") as batch:
        batch.drop_column("conditions")
