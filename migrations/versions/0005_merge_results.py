"""Merge the results branch.

Revision ID: 0005
Revises: 0004, results_0001
"""

from __future__ import annotations

revision = "0005"
down_revision = ("0004", "results_0001")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
