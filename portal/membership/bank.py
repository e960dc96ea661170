"""A bank statement's lines that pay a membership: the first fee's `MEM…` reference and a renewal's `REN…`,
matched by the events' statement import (`events.payments.register_kind`) and recorded here through the same
steps as the office's "Mark paid" (`record_first_fee`, `renewals.record_paid`), so the member is made active
or the renewal date moves on, and the ledger holds the line's fingerprint: importing the statement again
records nothing twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal.accounts.models import Account
from portal.events import payments
from portal.events.payments import BankLine, Owed
from portal.members.models import Member
from portal.membership import fees, ledger, renewals, service
from portal.membership.links import Links
from portal.membership.models import Application, Renewal


def _paid(line: BankLine) -> ledger.Paid:
    return ledger.Paid(method="bank_transfer", source="bank_statement", provider_ref=line.fingerprint)


class FirstFees:
    """`MEM…`: an approved application's first fee."""

    prefix = fees.REFERENCE_PREFIX

    def find(self, session: Session, reference: str) -> Owed | None:
        found = session.scalar(select(Application).where(Application.fee_reference == reference).limit(1))
        if found is None:
            return None
        owed = found.status == "approved" and found.fee_paid_on is None
        return Owed(
            kind=self.prefix,
            reference=reference,
            target_id=found.id,
            label=f"{found.full_name} (first membership fee, {reference})",
            remaining=found.fee_amount if owed else 0,
        )

    def imported(self, session: Session, fingerprints: list[str]) -> set[str]:
        return ledger.imported(session, fingerprints)

    def record(
        self, session: Session, owed: Owed, line: BankLine, *, actor: Account | None, now: datetime, app: Any
    ) -> object:
        return service.record_first_fee(
            session,
            application_id=owed.target_id,
            received_on=line.on,
            actor=actor,
            now=now,
            key=app.state.settings.key_bytes(),
            links=Links.for_app(app),
            paid=_paid(line),
        )


class Renewals:
    """`REN…`: a renewal's invoice."""

    prefix = renewals.REFERENCE_PREFIX

    def find(self, session: Session, reference: str) -> Owed | None:
        found = session.scalar(select(Renewal).where(Renewal.reference == reference).limit(1))
        if found is None:
            return None
        member = session.get(Member, found.member_id)
        return Owed(
            kind=self.prefix,
            reference=reference,
            target_id=found.id,
            label=f"{member.full_name if member else 'A member'} (membership renewal, {reference})",
            remaining=found.amount if found.paid_on is None else 0,
        )

    def imported(self, session: Session, fingerprints: list[str]) -> set[str]:
        return set()  # the first fees' kind asked the ledger already, for both

    def record(
        self, session: Session, owed: Owed, line: BankLine, *, actor: Account | None, now: datetime, app: Any
    ) -> object:
        return renewals.record_paid(
            session,
            renewal_id=owed.target_id,
            paid_on=line.on,
            actor=actor,
            now=now,
            paid=_paid(line),
        )


payments.register_kind(FirstFees())
payments.register_kind(Renewals())
