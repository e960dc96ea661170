"""One live booking per e-mail address per event: a partial unique index on (event, e-mail) over bookings
that are not cancelled, so a second booking from the same address (two tabs at once included) is refused by
the database and the delegate is told they already have one.

Addresses are stored lower-cased by the booking service, so the plain column is the lower-cased address. If
an existing database already holds two live bookings for one address at one event, the upgrade stops and
names them: which one to keep is a decision for the office, not for a migration.

Revision ID: 0106
Revises: 0101
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0106"
down_revision = "0101"
branch_labels = None
depends_on = None

LIVE = "status <> 'cancelled'"


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE registrations SET email = lower(email) WHERE email <> lower(email)"))
    clashes = bind.execute(
        sa.text(
            f"SELECT event_id, email, count(*) FROM registrations WHERE {LIVE} "
            "GROUP BY event_id, email HAVING count(*) > 1"
        )
    ).all()
    if clashes:
        listed = "; ".join(f"event {event_id}: {email} ({n} bookings)" for event_id, email, n in clashes)
        raise RuntimeError(
            "Some addresses hold more than one live booking for the same event. Cancel the extra bookings "
            f"first, then upgrade again: {listed}"
        )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(
            "uq_registrations_event_id_live_email",
            ["event_id", "email"],
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index("uq_registrations_event_id_live_email")
