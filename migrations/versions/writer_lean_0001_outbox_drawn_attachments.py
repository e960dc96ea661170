"""outbox: attachments held by reference, drawn by the sender at send time

Revision ID: writer_lean_0001
Revises: complaints_0001

Adds `outbox_attachments.source` and `source_id`: an invoice PDF, a badge's QR code or a calendar file is no
longer rendered in the booking's transaction (which holds the database writer) but drawn by the outbox sender
from the stored rows when it sends. Attachments written before keep their content (both columns NULL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "writer_lean_0001"
down_revision = "complaints_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("source_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_attachments", schema=None) as batch_op:
        batch_op.drop_column("source_id")
        batch_op.drop_column("source")
