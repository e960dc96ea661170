"""Merge the members, mail and elections branches.

Revision ID: 0003
Revises: members_0001, mail_0001, elections_0001
"""

from __future__ import annotations

revision = "0003"
down_revision = ("members_0001", "mail_0001", "elections_0001")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
