"""outbox: e-mails stored as their template's context, rendered outside the action's transaction

Revision ID: mail_0002
Revises: site_pages_0001

Adds `outbox_emails.context` (the template's context as JSON of plain values, a placeholder for each
single-use link), and lets `subject`, `text_body` and `html_body` be NULL: an e-mail written from now on is
rendered by the sender when it sends and by the outbox page when staff look, not in the request that causes
it. E-mails written before keep their rendered parts (and `context` NULL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "mail_0002"
down_revision = "training_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("context", sa.Text(), nullable=True))
        batch_op.alter_column("subject", existing_type=sa.String(length=300), nullable=True)
        batch_op.alter_column("text_body", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # An e-mail stored as its context only cannot be shown by the code before this revision: its parts are
    # left empty rather than invented (the sender of that code would send it empty, so it is marked failed).
    op.execute(
        "UPDATE outbox_emails SET status = 'failed', last_error = 'Written as a context; not sent after the "
        "downgrade.' WHERE context IS NOT NULL AND status IN ('pending', 'sending')"
    )
    op.execute("UPDATE outbox_emails SET subject = '' WHERE subject IS NULL")
    op.execute("UPDATE outbox_emails SET text_body = '' WHERE text_body IS NULL")
    with op.batch_alter_table("outbox_emails", schema=None) as batch_op:
        batch_op.alter_column("text_body", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("subject", existing_type=sa.String(length=300), nullable=False)
        batch_op.drop_column("context")
