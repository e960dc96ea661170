"""The office's membership reports: members by category and standing, joins, renewals and lapses month by
month, income by category, and what is owed (shown, and as CSV).

Standing is computed from the clock (`standing_sql`), as the roll's list computes it. A lapse is dated the day
after the grace period ends: for a member lapsed now, from their renewal date; for one who lapsed and then
renewed, from the renewal date their late renewal was asked against. Income is what the portal recorded as
paid: first fees (`Application.fee_paid_on`) and renewals (`Renewal.paid_on`), by the category paid for.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.events.models import Invoice
from portal.members.models import Member, MemberCategory
from portal.members.standing import STANDINGS, london_day, standing_sql
from portal.membership.models import Application, Renewal
from portal.society.service import membership_settings
from portal.text import csv_safe

#: The months the report looks back over, the current one last.
MONTHS = 12


def _labels(session: Session) -> dict[str, str]:
    return dict(
        session.execute(
            select(MemberCategory.code, MemberCategory.label).order_by(
                MemberCategory.position, MemberCategory.label
            )
        ).all()
    )


# --- members by category and standing --------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryRow:
    code: str
    label: str
    #: standing → how many (every standing present, 0 where none).
    counts: dict[str, int]
    total: int


@dataclass(frozen=True)
class Breakdown:
    rows: list[CategoryRow]
    totals: dict[str, int]
    total: int


def by_category(session: Session, *, now: datetime) -> Breakdown:
    """Every member on the roll by category and standing at `now` (erased members count as resigned)."""
    where = standing_sql(now, grace_days=membership_settings(session).grace_days).label("standing")
    found = session.execute(
        select(Member.category, where, func.count()).group_by(Member.category, where)
    ).all()
    counts: dict[str, Counter[str]] = {}
    for code, standing, n in found:
        counts.setdefault(code, Counter())[standing] += int(n)
    labels = _labels(session)
    codes = [code for code in labels if code in counts] + sorted(c for c in counts if c not in labels)
    rows = [
        CategoryRow(
            code,
            labels.get(code, code),
            {s: counts[code][s] for s in STANDINGS},
            sum(counts[code].values()),
        )
        for code in codes
    ]
    totals = {s: sum(r.counts[s] for r in rows) for s in STANDINGS}
    return Breakdown(rows, totals, sum(totals.values()))


# --- month by month ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    start: date
    joins: int
    renewals: int
    lapses: int

    @property
    def label(self) -> str:
        return self.start.strftime("%b %Y")


def month_starts(today: date, count: int = MONTHS) -> list[date]:
    """The first days of the `count` months up to and including today's."""
    year, month = today.year, today.month
    starts = []
    for _ in range(count):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _month(day: date) -> date:
    return day.replace(day=1)


def monthly(session: Session, *, now: datetime, count: int = MONTHS) -> list[Month]:
    """Joins (the day joined), renewals (the day paid) and lapses (the day after the grace period ended, up
    to today) in each of the last `count` months."""
    today = london_day(now)
    starts = month_starts(today, count)
    first = starts[0]
    grace = membership_settings(session).grace_days
    after_grace = timedelta(days=grace + 1)
    joins = Counter(
        _month(d)
        for d in session.scalars(
            select(Member.joined_on).where(Member.joined_on >= first, Member.joined_on <= today)
        )
        if d is not None
    )
    renewals = Counter(
        _month(paid)
        for paid in session.scalars(
            select(Renewal.paid_on).where(
                Renewal.paid_on.is_not(None), Renewal.paid_on >= first, Renewal.paid_on <= today
            )
        )
        if paid is not None
    )
    lapses: Counter[date] = Counter()
    # Lapsed and came back: the renewal was paid after the grace period of the date it was asked against.
    for paid, renewal_from in session.execute(
        select(Renewal.paid_on, Renewal.renewal_from).where(
            Renewal.paid_on.is_not(None),
            Renewal.renewal_from.is_not(None),
            Renewal.renewal_from >= first - after_grace,
            Renewal.renewal_from <= today - after_grace,
        )
    ):
        if paid is None or renewal_from is None:
            continue
        lapsed_on = renewal_from + after_grace
        if paid >= lapsed_on and first <= lapsed_on <= today:
            lapses[_month(lapsed_on)] += 1
    # Lapsed now (by the clock, not by a status set by hand, which keeps no day).
    where = standing_sql(now, grace_days=grace)
    for renewal_on in session.scalars(
        select(Member.renewal_on).where(
            where == "lapsed",
            Member.status != "lapsed",
            Member.renewal_on.is_not(None),
            Member.renewal_on >= first - after_grace,
        )
    ):
        if renewal_on is not None:
            lapses[_month(renewal_on + after_grace)] += 1
    return [Month(start, joins[start], renewals[start], lapses[start]) for start in starts]


# --- income -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Income:
    code: str
    label: str
    first_fees: int
    renewals: int

    @property
    def total(self) -> int:
        return self.first_fees + self.renewals


def income(session: Session, *, since: date, until: date) -> list[Income]:
    """Membership income paid from `since` to `until` (both included), in pence, by category."""
    first = dict(
        session.execute(
            select(Application.category, func.sum(Application.fee_amount))
            .where(
                Application.fee_paid_on.is_not(None),
                Application.fee_paid_on >= since,
                Application.fee_paid_on <= until,
            )
            .group_by(Application.category)
        ).all()
    )
    renewed = dict(
        session.execute(
            select(Renewal.category, func.sum(Renewal.amount))
            .where(Renewal.paid_on.is_not(None), Renewal.paid_on >= since, Renewal.paid_on <= until)
            .group_by(Renewal.category)
        ).all()
    )
    labels = _labels(session)
    codes = [c for c in labels if c in first or c in renewed] + sorted(
        c for c in {*first, *renewed} if c not in labels
    )
    return [
        Income(code, labels.get(code, code), int(first.get(code) or 0), int(renewed.get(code) or 0))
        for code in codes
    ]


# --- what is owed -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Owed:
    membership_number: str
    name: str
    email: str
    category: str
    amount: int
    since: date
    invoice: str
    what: str
    member_id: int


def owed(session: Session) -> list[Owed]:
    """Every membership fee asked for and not paid, oldest first: renewal invoices of members still on the
    roll (not resigned, not erased), and first fees of approved applicants awaiting them."""
    labels = _labels(session)
    found: list[Owed] = []
    renewals = session.execute(
        select(Renewal, Member, Invoice)
        .join(Member, Member.id == Renewal.member_id)
        .outerjoin(Invoice, Invoice.id == Renewal.invoice_id)
        .where(
            Renewal.paid_on.is_(None),
            Renewal.amount > 0,
            Member.erased_at.is_(None),
            Member.status != "resigned",
        )
    ).all()
    for renewal, member, invoice in renewals:
        found.append(
            Owed(
                member.membership_number,
                member.full_name,
                member.email or "",
                labels.get(renewal.category, renewal.category),
                renewal.amount,
                london_day(invoice.issued_at if invoice is not None else renewal.created_at),
                invoice.label if invoice is not None else "",
                "Renewal",
                member.id,
            )
        )
    first_fees = session.execute(
        select(Application, Member, Invoice)
        .join(Member, Member.id == Application.member_id)
        .outerjoin(Invoice, Invoice.id == Application.invoice_id)
        .where(
            Application.status == "approved",
            Application.fee_amount > 0,
            Application.fee_paid_on.is_(None),
            Member.erased_at.is_(None),
            Member.status == "pending",
        )
    ).all()
    for application, member, invoice in first_fees:
        found.append(
            Owed(
                member.membership_number,
                member.full_name,
                member.email or "",
                labels.get(application.category, application.category),
                application.fee_amount,
                london_day(invoice.issued_at if invoice is not None else application.updated_at),
                invoice.label if invoice is not None else "",
                "First fee",
                member.id,
            )
        )
    return sorted(found, key=lambda o: (o.since, o.membership_number))


OWED_HEADINGS = ["Membership number", "Name", "Email", "Category", "What", "Amount", "Owed since", "Invoice"]


def owed_filename(*, today: date) -> str:
    return f"membership-owed-{today.isoformat()}.csv"


def owed_csv(session: Session, *, actor: Account | None, now: datetime) -> tuple[bytes, int]:
    """What is owed as CSV (UTF-8 with a BOM, for Excel; every cell through `csv_safe`, so a name typed as a
    formula stays text), and how many rows. Audit-logged: names and addresses leave the portal."""
    rows = owed(session)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(OWED_HEADINGS)
    for row in rows:
        writer.writerow(
            [
                csv_safe(value)
                for value in (
                    row.membership_number,
                    row.name,
                    row.email,
                    row.category,
                    row.what,
                    f"{row.amount / 100:.2f}",
                    row.since,
                    row.invoice,
                )
            ]
        )
    audit.record(session, actor=actor, action="membership.owed_csv", details={"rows": len(rows)}, now=now)
    return ("\ufeff" + buffer.getvalue()).encode(), len(rows)
