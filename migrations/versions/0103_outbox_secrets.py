"""outbox: single-use links sealed, never stored readable

Revision ID: 0103
Revises: 0102

Adds `outbox_emails.sealed` (the body as sent, encrypted). E-mails written before it hold their single-use
links in plain text, and the migration has no key to seal them with, so it scrubs them: their bodies are
replaced by a note, their attachments (a calendar file carries the booking link) deleted, and those not yet
sent are failed with a message saying the person must ask for a new link.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0103"
down_revision = "0102"
branch_labels = None
depends_on = None

SCRUBBED = (
    "[This e-mail carried a personal link. It was written before such links were sealed, "
    "so its text is no longer kept.]\n"
)
NOT_SENT = (
    "Not sent: written before personal links were sealed, its link is no longer kept. "
    "The person must ask for a new link."
)


def upgrade() -> None:
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed", sa.LargeBinary(), nullable=True))

    emails = sa.table(
        "outbox_emails",
        sa.column("id", sa.Integer),
        sa.column("secret", sa.Boolean),
        sa.column("status", sa.String),
        sa.column("text_body", sa.Text),
        sa.column("html_body", sa.Text),
        sa.column("last_error", sa.Text),
        sa.column("claimed_by", sa.String),
    )
    attachments = sa.table("outbox_attachments", sa.column("email_id", sa.Integer))
    secret = emails.c.secret == sa.true()
    op.execute(attachments.delete().where(attachments.c.email_id.in_(sa.select(emails.c.id).where(secret))))
    op.execute(
        emails.update()
        .where(secret, emails.c.status.in_(("pending", "sending")))
        .values(status="failed", last_error=NOT_SENT, claimed_by=None)
    )
    op.execute(emails.update().where(secret).values(text_body=SCRUBBED, html_body=None))


def downgrade() -> None:
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.drop_column("sealed")
