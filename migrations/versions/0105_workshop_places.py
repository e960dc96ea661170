"""Workshop places with their own state: a full workshop waitlists the workshop, not the whole booking.

Each registration's workshop row gets a status (pending, confirmed, offered, waitlisted, cancelled), a line
number unique per workshop, and its own offer deadline; each workshop a counter that hands out line numbers.
Existing rows follow their registration: places held stay confirmed, waitlisted bookings' choices become
pending, cancelled bookings' choices cancelled.

Revision ID: 0105
Revises: checkin_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "0105"
down_revision = "checkin_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waitlist_seq", sa.Integer(), server_default="0", nullable=False))

    with op.batch_alter_table("registration_workshops", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=20), server_default="confirmed", nullable=False)
        )
        batch_op.add_column(sa.Column("queue_number", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("waitlisted_at", portal.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("offered_at", portal.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("offer_expires_at", portal.db.UTCDateTime(), nullable=True))
        batch_op.create_index(
            "ix_registration_workshops_workshop_status", ["workshop_id", "status"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_registration_workshops_workshop_id_queue_number"), ["workshop_id", "queue_number"]
        )

    for status, registration_statuses in (
        ("pending", "('waitlisted')"),
        ("cancelled", "('cancelled')"),
    ):
        op.execute(
            sa.text(
                f"UPDATE registration_workshops SET status = '{status}' WHERE registration_id IN "
                f"(SELECT id FROM registrations WHERE status IN {registration_statuses})"
            )
        )


def downgrade() -> None:
    # Before this revision a workshop row meant a seat held (or wanted, with the whole booking waiting).
    op.execute(
        sa.text(
            "DELETE FROM registration_workshops WHERE status = 'waitlisted' OR (status = 'cancelled' AND "
            "registration_id NOT IN (SELECT id FROM registrations WHERE status = 'cancelled'))"
        )
    )
    with op.batch_alter_table("registration_workshops", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_registration_workshops_workshop_id_queue_number"), type_="unique"
        )
        batch_op.drop_index("ix_registration_workshops_workshop_status")
        batch_op.drop_column("offer_expires_at")
        batch_op.drop_column("offered_at")
        batch_op.drop_column("waitlisted_at")
        batch_op.drop_column("queue_number")
        batch_op.drop_column("status")

    with op.batch_alter_table("workshops", schema=None) as batch_op:
        batch_op.drop_column("waitlist_seq")
