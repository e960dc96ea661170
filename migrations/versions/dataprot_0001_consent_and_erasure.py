"""Data protection: the versions of the code of conduct and privacy notice each member accepted (and when),
the day a member left (resigned), and how many years after leaving a former member's personal data is erased.

Revision ID: dataprot_0001
Revises: accreditation_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "dataprot_0001"
down_revision = "accreditation_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(
            sa.Column("conduct_version", sa.String(length=40), server_default="", nullable=False)
        )
        batch.add_column(
            sa.Column("privacy_version", sa.String(length=40), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("consented_at", portal.db.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("left_on", sa.Date(), nullable=True))
    with op.batch_alter_table("membership_settings") as batch:
        batch.add_column(sa.Column("erase_after_years", sa.Integer(), server_default="6", nullable=False))
    # Members who joined through an application carry the versions it accepted.
    op.execute(
        "UPDATE members SET conduct_version = (SELECT a.conduct_version FROM membership_applications a "
        "WHERE a.member_id = members.id ORDER BY a.id DESC LIMIT 1), "
        "privacy_version = (SELECT a.privacy_version FROM membership_applications a "
        "WHERE a.member_id = members.id ORDER BY a.id DESC LIMIT 1), "
        "consented_at = (SELECT a.declared_at FROM membership_applications a "
        "WHERE a.member_id = members.id ORDER BY a.id DESC LIMIT 1) "
        "WHERE EXISTS (SELECT 1 FROM membership_applications a WHERE a.member_id = members.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("membership_settings") as batch:
        batch.drop_column("erase_after_years")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("left_on")
        batch.drop_column("consented_at")
        batch.drop_column("privacy_version")
        batch.drop_column("conduct_version")
