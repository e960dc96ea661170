"""Re-accreditation reminders: 90, 30 and 7 days before a level held ends, the member is reminded that
re-accreditation is open (it opens 90 days before, computed from the clock: `applications.opens_on`).

Each reminder is one row per holding and kind, inserted with "on conflict do nothing": whichever worker inserts
it sends the e-mail, in the same transaction, so it goes exactly once however many workers run the job. A
holding already renewed (a later one of the same level) or with a renewal application under way gets none."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from portal.accreditation.links import Links
from portal.accreditation.models import (
    OPEN_STATUSES,
    REMINDER_KINDS,
    Holding,
    Level,
    LevelApplication,
    Reminder,
)
from portal.db import Database
from portal.mail import service as mail
from portal.members.models import Member
from portal.members.standing import london_day
from portal.society.service import society_name

log = logging.getLogger("portal.accreditation")

#: How often the periodic job looks for reminders to send.
INTERVAL_SECONDS = 3600.0
#: A reminder missed while the portal was down is still sent this many days late (then it is skipped).
LATE_DAYS = 3

_INSERT = {
    "sqlite": sqlite.insert(Reminder).on_conflict_do_nothing().returning(Reminder.id),
    "postgresql": postgresql.insert(Reminder).on_conflict_do_nothing().returning(Reminder.id),
}


def _claim(connection: Connection, values: dict[str, Any]) -> bool:
    return connection.execute(_INSERT[connection.dialect.name], values).scalar() is not None


def reminder_due(until_on: date, today: date) -> str | None:
    """The reminder due on `today` for a level held until `until_on` (the latest whose day has come, sent up
    to `LATE_DAYS` late), or None."""
    for kind, days in sorted(REMINDER_KINDS.items(), key=lambda kv: kv[1]):
        day = until_on - timedelta(days=days)
        if day <= today <= day + timedelta(days=LATE_DAYS):
            return kind
    return None


def send_reminders(session: Session, *, now: datetime, links: Links) -> int:
    """Send every re-accreditation reminder due today that has not been sent; how many this call sent."""
    today = london_day(now)
    later = aliased(Holding)
    rows = session.execute(
        select(Holding, Member, Level)
        .join(Member, Member.id == Holding.member_id)
        .join(Level, Level.id == Holding.level_id)
        .where(
            Member.status == "active",
            Member.email.is_not(None),
            Holding.until_on >= today,
            Holding.until_on <= today + timedelta(days=max(REMINDER_KINDS.values())),
            ~exists().where(
                later.member_id == Holding.member_id,
                later.level_id == Holding.level_id,
                later.until_on > Holding.until_on,
            ),
            ~exists().where(
                LevelApplication.member_id == Holding.member_id,
                LevelApplication.level_id == Holding.level_id,
                LevelApplication.status.in_(OPEN_STATUSES),
            ),
        )
        .order_by(Holding.id)
    ).all()
    sent = 0
    connection = session.connection()
    name = society_name(session)
    for holding, member, level in rows:
        kind = reminder_due(holding.until_on, today)
        if kind is None or not member.email:
            continue
        if not _claim(connection, {"holding_id": holding.id, "kind": kind, "sent_at": now}):
            continue
        mail.enqueue(
            session,
            to=member.email,
            template="accreditation/reaccreditation_reminder",
            context={
                "society_name": name,
                "name": member.first_name or member.full_name,
                "level": level.name,
                "until_on": holding.until_on.strftime("%-d %B %Y"),
                "days": (holding.until_on - today).days,
                "link": links.mine(),
            },
            now=now,
        )
        sent += 1
    return sent


def run_reminders(database: Database, *, now: datetime, links: Links) -> int:
    with database.session(write=True) as session:
        return send_reminders(session, now=now, links=links)


def run_once(app: Any) -> int:
    """The app's periodic job: send the re-accreditation reminders due now; how many went."""
    state = app.state
    sent = run_reminders(state.db, now=state.clock(), links=Links.for_app(app))
    if sent:
        log.info("accreditation: %s re-accreditation reminder(s) sent", sent)
    return sent
