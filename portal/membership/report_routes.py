"""The office's membership reports (members by category and standing, joins, renewals and lapses by month,
income by category, what is owed) and the CSV of what is owed. Office staff and administrators, as the other
membership staff pages."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.members.standing import STANDINGS, london_day
from portal.membership import reports
from portal.web.context import Ctx

STAFF = ("office", "admin")


@page(*STAFF)
def report(ctx: Ctx) -> Response:
    months = reports.monthly(ctx.db, now=ctx.now)
    since, until = months[0].start, london_day(ctx.now)
    income = reports.income(ctx.db, since=since, until=until)
    owed = reports.owed(ctx.db)
    return ctx.render(
        "membership/reports.html",
        {
            "breakdown": reports.by_category(ctx.db, now=ctx.now),
            "standings": STANDINGS,
            "months": months,
            # The month under each point; the year where it starts, and at the first.
            "ticks": [
                m.start.strftime("%b %y" if i == 0 or m.start.month == 1 else "%b")
                for i, m in enumerate(months)
            ],
            "since": since,
            "until": until,
            "income": income,
            "income_total": sum(i.total for i in income),
            "owed": owed,
            "owed_total": sum(o.amount for o in owed),
        },
    )


@page(*STAFF, write=True)
def owed_csv(ctx: Ctx) -> Response:
    body, _count = reports.owed_csv(ctx.db, actor=acting.actor(ctx), now=ctx.now)
    filename = reports.owed_filename(today=london_day(ctx.now))
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


routes = [
    Route("/reports", report, name="reports"),
    Route("/reports/owed.csv", owed_csv, name="owed_csv"),
]
