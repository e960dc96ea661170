"""Merge the events and check-in branches.

Revision ID: 0004
Revises: 0003, checkin_0001
"""

from __future__ import annotations

revision = "0004"
down_revision = ("0003", "checkin_0001")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
