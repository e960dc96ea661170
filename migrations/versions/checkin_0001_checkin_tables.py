"""checkin: scans (the admission record), scanner devices, badge ribbons, workshop CPD hours

Revision ID: checkin_0001
Revises: events_0001
Create Date: 2026-11-25 23:36:05.466757
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "checkin_0001"
down_revision = "events_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scanner_devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", portal.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["accounts.id"],
            name=op.f("fk_scanner_devices_created_by_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_scanner_devices_event_id_events"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scanner_devices")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_scanner_devices_token_digest")),
    )
    with op.batch_alter_table("scanner_devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scanner_devices_event_id"), ["event_id"], unique=False)

    op.create_table(
        "workshop_cpd",
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("cpd_hours", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshops.id"],
            name=op.f("fk_workshop_cpd_workshop_id_workshops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workshop_id", name=op.f("pk_workshop_cpd")),
    )
    op.create_table(
        "badge_ribbons",
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("ribbon", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_badge_ribbons_registration_id_registrations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("registration_id", name=op.f("pk_badge_ribbons")),
    )
    op.create_table(
        "checkin_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=True),
        sa.Column("registration_id", sa.Integer(), nullable=True),
        sa.Column("code_fingerprint", sa.String(length=32), nullable=False),
        sa.Column("result", sa.String(length=30), nullable=False),
        sa.Column("admission_key", sa.String(length=40), nullable=True),
        sa.Column("door", sa.String(length=80), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("received_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("client_result", sa.String(length=30), nullable=True),
        sa.Column("conflict", sa.Boolean(), nullable=False),
        sa.Column("undone_at", portal.db.UTCDateTime(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_checkin_scans_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["scanner_devices.id"],
            name=op.f("fk_checkin_scans_device_id_scanner_devices"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_checkin_scans_event_id_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["registrations.id"],
            name=op.f("fk_checkin_scans_registration_id_registrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshops.id"],
            name=op.f("fk_checkin_scans_workshop_id_workshops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkin_scans")),
        sa.UniqueConstraint("admission_key", name=op.f("uq_checkin_scans_admission_key")),
        sa.UniqueConstraint("nonce", name=op.f("uq_checkin_scans_nonce")),
    )
    with op.batch_alter_table("checkin_scans", schema=None) as batch_op:
        batch_op.create_index("ix_checkin_scans_event_at", ["event_id", "at"], unique=False)
        batch_op.create_index("ix_checkin_scans_registration", ["registration_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_checkin_scans_workshop_id"), ["workshop_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("checkin_scans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkin_scans_workshop_id"))
        batch_op.drop_index("ix_checkin_scans_registration")
        batch_op.drop_index("ix_checkin_scans_event_at")

    op.drop_table("checkin_scans")
    op.drop_table("badge_ribbons")
    op.drop_table("workshop_cpd")
    with op.batch_alter_table("scanner_devices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scanner_devices_event_id"))

    op.drop_table("scanner_devices")
