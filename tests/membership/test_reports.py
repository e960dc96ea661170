"""The office's membership reports against a known roll (both engines): members by category and standing,
joins, renewals and lapses by month (and the SVG chart of them, one point a month), income by category, and
the CSV of what is owed, whose cells a spreadsheet never runs as formulas."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from support import login

from portal.audit import AuditEvent
from portal.events.models import Invoice
from portal.members.models import Member
from portal.membership import reports
from portal.membership.models import Application, Renewal

# The clock stands at 25 November 2026, 09:00 UTC; the grace period is 30 days; the report's months run from
# December 2025 to November 2026.


def _invoice(s: Any, number: int, *, issued: date, total: int, name: str) -> Invoice:
    invoice = Invoice(
        number=number,
        issued_at=datetime(issued.year, issued.month, issued.day, 10, 0, tzinfo=UTC),
        due_on=issued,
        currency="GBP",
        lines=json.dumps([{"description": "Membership", "amount": total}]),
        net=total,
        tax=0,
        total=total,
        tax_label="VAT",
        tax_rate_bp=0,
        seller="{}",
        buyer=json.dumps({"name": name, "email": ""}),
        reference=f"REF{number}",
    )
    s.add(invoice)
    s.flush()
    return invoice


def _member(s: Any, number: str, category: str, **values: Any) -> Member:
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    member = Member(
        membership_number=number,
        email=values.pop("email", f"m{number}@example.org"),
        first_name=values.pop("first_name", f"First{number}"),
        last_name=values.pop("last_name", f"Last{number}"),
        category=category,
        status=values.pop("status", "active"),
        created_at=now,
        updated_at=now,
        **values,
    )
    s.add(member)
    s.flush()
    return member


def _application(
    s: Any, member: Member, *, category: str, fee: int, paid_on: date | None, invoice: Any
) -> None:
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    s.add(
        Application(
            status="approved",
            category=category,
            first_name=member.first_name,
            last_name=member.last_name,
            email=member.email or "",
            address="",
            profession="",
            registration_body="none",
            registration_number="",
            training="none",
            conduct_version="1",
            privacy_version="1",
            declared_at=now,
            created_at=now,
            updated_at=now,
            member_id=member.id,
            fee_amount=fee,
            fee_reference="MEM1",
            invoice_id=invoice.id if invoice is not None else None,
            fee_paid_on=paid_on,
        )
    )


def _renewal(
    s: Any, member: Member, *, amount: int, start: date | None, paid_on: date | None, invoice: Any = None
) -> None:
    s.add(
        Renewal(
            member_id=member.id,
            category=member.category,
            amount=amount,
            method="bank_transfer",
            reference="REN1",
            invoice_id=invoice.id if invoice is not None else None,
            renewal_from=start,
            renewal_to=None,
            created_at=datetime(2026, 10, 1, tzinfo=UTC),
            paid_on=paid_on,
        )
    )


@pytest.fixture
def roll(database: Any) -> None:
    """Eight members: basic A (active, joined March 2026, first fee £45 paid 12 March), B (in grace, an open
    £45 renewal invoiced 20 October; a name typed as formulas), E (resigned, an open renewal that is not
    counted as owed), G (renewed on time 10 February, £45); trainee C (lapsed by the clock on 2 October),
    D (awaiting a £30 first fee invoiced 20 November), H (lapsed on 2 May, renewed late 15 June, £30);
    honorary F (active, no renewal date, joined January 2026)."""
    with database.session() as s:
        a = _member(s, "101", "basic", joined_on=date(2026, 3, 10), renewal_on=date(2027, 3, 10))
        _application(s, a, category="basic", fee=4500, paid_on=date(2026, 3, 12), invoice=None)
        b = _member(
            s,
            "102",
            "basic",
            first_name='=HYPERLINK("http://evil.example")',
            last_name="+Evans",
            email="@b@example.org",
            joined_on=date(2025, 6, 1),
            renewal_on=date(2026, 11, 10),
        )
        _renewal(
            s,
            b,
            amount=4500,
            start=date(2026, 11, 10),
            paid_on=None,
            invoice=_invoice(s, 2, issued=date(2026, 10, 20), total=4500, name="B"),
        )
        c = _member(s, "103", "trainee", joined_on=date(2024, 1, 15), renewal_on=date(2026, 9, 1))
        d = _member(
            s, "104", "trainee", status="pending", joined_on=date(2026, 11, 20), renewal_on=date(2027, 11, 20)
        )
        _application(
            s,
            d,
            category="trainee",
            fee=3000,
            paid_on=None,
            invoice=_invoice(s, 3, issued=date(2026, 11, 20), total=3000, name="D"),
        )
        e = _member(
            s,
            "105",
            "basic",
            status="resigned",
            left_on=date(2026, 5, 1),
            joined_on=date(2020, 1, 1),
            renewal_on=date(2026, 12, 1),
        )
        _renewal(s, e, amount=4500, start=date(2026, 12, 1), paid_on=None)
        _member(s, "106", "honorary", joined_on=date(2026, 1, 5))
        g = _member(s, "107", "basic", joined_on=date(2019, 2, 1), renewal_on=date(2027, 2, 1))
        _renewal(s, g, amount=4500, start=date(2026, 2, 1), paid_on=date(2026, 2, 10))
        h = _member(s, "108", "trainee", joined_on=date(2019, 4, 1), renewal_on=date(2027, 6, 15))
        _renewal(s, h, amount=3000, start=date(2026, 4, 1), paid_on=date(2026, 6, 15))
        assert c.id and d.id


def test_members_are_counted_by_category_and_standing_from_the_clock(db, roll, clock):
    found = reports.by_category(db, now=clock())
    rows = {row.code: {k: v for k, v in row.counts.items() if v} for row in found.rows}
    assert rows == {
        "trainee": {"active": 1, "lapsed": 1, "pending": 1},
        "basic": {"active": 2, "grace": 1, "resigned": 1},
        "honorary": {"active": 1},
    }
    assert [row.code for row in found.rows] == ["trainee", "basic", "honorary"]  # the categories' order
    assert found.totals == {"active": 4, "grace": 1, "lapsed": 1, "pending": 1, "resigned": 1}
    assert found.total == 8


def test_joins_renewals_and_lapses_are_counted_in_their_months(db, roll, clock):
    months = reports.monthly(db, now=clock())
    assert (
        len(months) == 12 and months[0].start == date(2025, 12, 1) and months[-1].start == date(2026, 11, 1)
    )
    table = {m.start.strftime("%Y-%m"): (m.joins, m.renewals, m.lapses) for m in months}
    assert {k: v for k, v in table.items() if v != (0, 0, 0)} == {
        "2026-01": (1, 0, 0),  # F joined
        "2026-02": (0, 1, 0),  # G renewed
        "2026-03": (1, 0, 0),  # A joined
        "2026-05": (0, 0, 1),  # H lapsed on 2 May ...
        "2026-06": (0, 1, 0),  # ... and renewed on 15 June
        "2026-10": (0, 0, 1),  # C lapsed on 2 October
        "2026-11": (1, 0, 0),  # D joined (awaiting the first fee)
    }


def test_a_lapse_is_counted_only_once_the_grace_period_has_ended(db, roll, clock):
    """B's renewal date was 10 November: in grace until 10 December, so no lapse yet; a month on, December
    counts it."""
    assert sum(m.lapses for m in reports.monthly(db, now=clock())) == 2
    later = reports.monthly(db, now=datetime(2027, 1, 5, 9, 0, tzinfo=UTC))
    # December: B alone (E's renewal date also passed, but E resigned: the stored status decides).
    assert {m.start: m.lapses for m in later if m.lapses}[date(2026, 12, 1)] == 1


def test_income_is_what_was_paid_in_the_window_by_category(db, roll):
    found = reports.income(db, since=date(2025, 12, 1), until=date(2026, 11, 25))
    assert [(i.code, i.first_fees, i.renewals, i.total) for i in found] == [
        ("trainee", 0, 3000, 3000),
        ("basic", 4500, 4500, 9000),
    ]
    assert reports.income(db, since=date(2026, 7, 1), until=date(2026, 11, 25)) == []


def test_what_is_owed_lists_open_renewals_and_first_fees_oldest_first_and_not_the_resigned(db, roll):
    found = reports.owed(db)
    assert [(o.membership_number, o.category, o.what, o.amount, o.since, o.invoice) for o in found] == [
        ("102", "Basic", "Renewal", 4500, date(2026, 10, 20), "INV-000002"),
        ("104", "Trainee", "First fee", 3000, date(2026, 11, 20), "INV-000003"),
    ]


@pytest.fixture
def office_page(office_client, roll):
    return office_client


def test_the_report_page_shows_the_tables_and_the_chart_with_every_month(office_page):
    page = office_page.get("/membership/reports")
    assert page.status_code == 200
    text = page.text
    assert "Members by category and standing" in text
    # The breakdown's totals row: active 4, grace 1, lapsed 1, pending 1, resigned 1, all 8.
    totals = re.search(r"<tfoot><tr><th scope=\"row\">All categories</th>(.*?)</tr></tfoot>", text).group(1)
    assert re.findall(r">(\d+)<", totals) == ["4", "1", "1", "1", "1", "8"]
    assert '<svg class="chart"' in text
    ticks = re.findall(r'<text x="[\d.]+" y="232" text-anchor="middle" class="tick">([^<]+)</text>', text)
    assert ticks == ["Dec 25", "Jan 26", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov"]
    lines = re.findall(r'<polyline points="([^"]+)" class="chart-line series-(\d)">', text)
    assert [n for _points, n in lines] == ["1", "2", "3"]
    joins = [float(p.split(",")[1]) for p in lines[0][0].split()]
    # The top of the axis is 1; 1 is drawn at the top (y 30), 0 at the axis (y 212).
    assert joins == [212.0, 30.0, 212.0, 30.0, 212.0, 212.0, 212.0, 212.0, 212.0, 212.0, 212.0, 30.0]
    assert "Joins" in text and "Renewals" in text and "Lapses" in text
    assert "£90.00" in text and "£120.00" in text  # basic's income, and all of it
    assert "INV-000002" in text and "INV-000003" in text and "£75.00" in text  # owed, and its total


def test_the_owed_csv_is_named_by_day_neutralises_formulas_and_is_audited(office_page, database):
    response = office_page.get("/membership/reports/owed.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="membership-owed-2026-11-25.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Membership number",
        "Name",
        "Email",
        "Category",
        "What",
        "Amount",
        "Owed since",
        "Invoice",
    ]
    assert rows[1] == [
        "102",
        '\'=HYPERLINK("http://evil.example") +Evans',
        "'@b@example.org",
        "Basic",
        "Renewal",
        "45.00",
        "2026-10-20",
        "INV-000002",
    ]
    assert rows[2] == [
        "104",
        "First104 Last104",
        "m104@example.org",
        "Trainee",
        "First fee",
        "30.00",
        "2026-11-20",
        "INV-000003",
    ]
    assert len(rows) == 3
    with database.session(write=False) as s:
        entry = s.scalar(select(AuditEvent).where(AuditEvent.action == "membership.owed_csv"))
    assert entry is not None and json.loads(entry.details) == {"rows": 2}


def test_a_name_starting_with_a_formula_character_in_any_cell_is_neutralised(database, office_client, clock):
    with database.session() as s:
        m = _member(s, "201", "basic", first_name="-2+3", last_name="", email="x@example.org")
        _renewal(s, m, amount=4500, start=None, paid_on=None)
    rows = list(
        csv.reader(io.StringIO(office_client.get("/membership/reports/owed.csv").content.decode("utf-8-sig")))
    )
    assert rows[1][1] == "'-2+3"


def test_the_reports_are_for_the_office(client, admin, roll):
    login(client, "admin@example.org")
    assert client.get("/membership/reports").status_code == 200
