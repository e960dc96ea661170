"""payments_0001 fills the ledger from what was recorded as paid before it: a first fee paid by card (a
complete Checkout Session) or by hand, and a renewal paid; a free renewal and an unpaid fee leave no row."""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import migrate
from portal.db import make_engine
from portal.events.models import CardCheckout
from portal.members.models import Member
from portal.membership.models import Application, MembershipPayment, Renewal

NOW = datetime(2026, 10, 1, 9, tzinfo=UTC)


def _application(member: Member, n: int, *, paid: bool) -> Application:
    return Application(
        status="approved",
        category="basic",
        first_name=member.first_name,
        last_name="Member",
        email=member.email,
        address="1 High Street",
        profession="Nurse",
        registration_body="none",
        registration_number="",
        training="none",
        conduct_version="1",
        privacy_version="1",
        declared_at=NOW,
        created_at=NOW,
        updated_at=NOW,
        decided_by="Ada",
        reason="",
        member_id=member.id,
        fee_amount=4500,
        fee_reference=f"MEM000000{n}",
        fee_paid_on=date(2026, 10, n) if paid else None,
    )


def test_the_ledger_is_filled_from_the_fees_and_renewals_paid_before_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'before.db'}"
    before = ScriptDirectory.from_config(migrate.alembic_config()).get_revision("payments_0001").down_revision
    assert isinstance(before, str)
    migrate.upgrade(url, before)
    engine = make_engine(url, null_pool=True)
    with Session(engine) as s, s.begin():
        people = [
            Member(
                membership_number=str(n),
                email=f"m{n}@example.org",
                first_name=f"M{n}",
                last_name="Member",
                category="basic",
                status="active",
                created_at=NOW,
                updated_at=NOW,
            )
            for n in range(1, 5)
        ]
        s.add_all(people)
        s.flush()
        by_card, by_hand, unpaid = (_application(p, n, paid=n < 3) for n, p in enumerate(people[:3], 1))
        s.add_all([by_card, by_hand, unpaid])
        s.flush()
        s.add(
            CardCheckout(
                session_id="cs_test_1",
                purpose="membership_fee",
                target_id=by_card.id,
                amount=4500,
                currency="GBP",
                status="complete",
                created_at=NOW,
                expires_at=NOW,
                payment_intent="pi_1",
                refunded=0,
                refund_id="",
            )
        )
        for amount, paid_on in ((4500, date(2026, 9, 30)), (0, date(2026, 9, 29)), (4500, None)):
            s.add(
                Renewal(
                    member_id=people[3].id,
                    category="basic",
                    amount=amount,
                    method="cheque",
                    reference="REN0000011",
                    created_at=NOW,
                    paid_on=paid_on,
                    recorded_by="Olive Office",
                    note="",
                )
            )
        s.flush()
        ids = [p.id for p in people]
    engine.dispose()
    migrate.upgrade(url)
    engine = make_engine(url, null_pool=True)
    with Session(engine) as s:
        rows = s.scalars(select(MembershipPayment).order_by(MembershipPayment.purpose, MembershipPayment.id))
        found = [
            (r.purpose, r.member_id, r.amount, r.method, r.source, r.provider_ref, r.received_on)
            for r in rows
        ]
    engine.dispose()
    assert sorted(found, key=str) == sorted(
        [
            ("first_fee", ids[0], 4500, "card", "stripe", "stripe:cs_test_1", date(2026, 10, 1)),
            ("first_fee", ids[1], 4500, "bank_transfer", "staff", None, date(2026, 10, 2)),
            ("renewal", ids[3], 4500, "cheque", "staff", None, date(2026, 9, 30)),
        ],
        key=str,
    )
