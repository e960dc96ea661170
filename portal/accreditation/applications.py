"""Applying for a level: the member's application with the evidence the standard asks for, the supervisor's
confirmation by private link, and the reviewer's decisions (approve, with conditions or without; ask for more;
refuse). An approval makes the level held (`Holding`), with the conditions in their public wording.

Each move from one status to another is one conditional UPDATE whose row count is checked, so two reviewers
(or a reviewer and a member answering) cannot both act on the state they each read. The supervisor's link is
192 random bits stored only as a keyed digest; it works once and for `SUPERVISOR_LINK_DAYS`.

Re-accreditation is an application for a level held: it opens `REACCREDITATION_DAYS` before the last day held,
computed from the clock; an approval then runs on from the day after the old one ends."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accreditation.errors import Code
from portal.accreditation.links import Links
from portal.accreditation.models import (
    APPLICATION_STATUSES,
    OPEN_STATUSES,
    CpdEntry,
    Holding,
    Level,
    LevelApplication,
    LevelApplicationFile,
    LevelApplicationMessage,
)
from portal.accreditation.service import MAX_NUMBER, get_level
from portal.db import rowcount
from portal.errors import Conflict, Gone, Invalid, NotFound
from portal.events.models import Event, Registration
from portal.mail import service as mail
from portal.members.models import Member
from portal.site.files import Evidence
from portal.society.service import society_name
from portal.web.tokens import new_token, token_digest

SUPERVISOR_PURPOSE = "accreditation-supervisor"
SUPERVISOR_LINK_DAYS = 30
REACCREDITATION_DAYS = 90
#: Files a member may send with the application, and with each answer; and in all.
MAX_FILES = 3
MAX_FILES_IN_ALL = 12
TEXT_LIMIT = 10_000


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_until(level: Level, from_on: date) -> date:
    """The last day a level granted on `from_on` holds: its duration on, less a day."""
    return add_months(from_on, level.duration_months) - timedelta(days=1)


# --- what the member holds, and when re-accreditation opens ---------------------------------------------------


def latest_holding(session: Session, *, member_id: int, level_id: int) -> Holding | None:
    return session.scalar(
        select(Holding)
        .where(Holding.member_id == member_id, Holding.level_id == level_id)
        .order_by(Holding.until_on.desc(), Holding.id.desc())
        .limit(1)
    )


def opens_on(holding: Holding) -> date:
    """The first day a holding may be renewed."""
    return holding.until_on - timedelta(days=REACCREDITATION_DAYS)


@dataclass(frozen=True)
class Standing:
    """A level as the member stands with it on a day, from the clock: `held` (from..until covers the day),
    `renewable` (re-accreditation is open: within 90 days of the end, or ended), and the open application."""

    level: Level
    holding: Holding | None
    held: bool
    renewable: bool
    application: LevelApplication | None
    today: date

    @property
    def days_left(self) -> int | None:
        return (self.holding.until_on - self.today).days if self.held and self.holding else None

    @property
    def opens_on(self) -> date | None:
        return opens_on(self.holding) if self.holding is not None else None

    @property
    def may_apply(self) -> bool:
        return self.application is None and (self.holding is None or self.renewable)


def standings(session: Session, *, member_id: int, today: date) -> list[Standing]:
    """Every level with where the member stands: three statements whatever the number of levels."""
    levels = list(session.scalars(select(Level).order_by(Level.position, Level.id)))
    latest: dict[int, Holding] = {}
    for row in session.scalars(
        select(Holding).where(Holding.member_id == member_id).order_by(Holding.until_on, Holding.id)
    ):
        latest[row.level_id] = row
    open_ones = {
        a.level_id: a
        for a in session.scalars(
            select(LevelApplication).where(
                LevelApplication.member_id == member_id, LevelApplication.status.in_(OPEN_STATUSES)
            )
        )
    }
    out = []
    for level in levels:
        holding: Holding | None = latest.get(level.id)
        held = holding is not None and holding.from_on <= today <= holding.until_on
        renewable = holding is not None and today >= opens_on(holding)
        out.append(Standing(level, holding, held, renewable, open_ones.get(level.id), today))
    return out


# --- the training the standard asks for, from the portal's own bookings ---------------------------------------


@dataclass(frozen=True)
class TrainingRecord:
    """A booking of the member's on a date of the required course, and whether they were checked in (the CPD
    entry check-in made for that event)."""

    registration: Registration
    event: Event
    attended: bool


def training_records(session: Session, *, member_id: int, course_id: int | None) -> list[TrainingRecord]:
    """The member's confirmed bookings on dates of the course, the latest first."""
    if course_id is None:
        return []
    rows = session.execute(
        select(Registration, Event)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.member_id == member_id,
            Registration.status == "confirmed",
            Event.course_id == course_id,
        )
        .order_by(Event.starts_at.desc(), Registration.id.desc())
    ).all()
    attended = set(
        session.scalars(
            select(CpdEntry.event_id).where(
                CpdEntry.member_id == member_id, CpdEntry.event_id.in_([e.id for _, e in rows])
            )
        )
    )
    return [TrainingRecord(r, e, e.id in attended) for r, e in rows]


# --- applying -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationData:
    """What the application form holds once read."""

    training_done: bool
    #: The booking that shows the training (one of `training_records`), or None.
    training_registration_id: int | None
    training_note: str
    supervised_cases: int
    supervision_hours: int
    supervisor_name: str
    supervisor_email: str
    statement: str = ""


def _check(session: Session, member: Member, level: Level, data: ApplicationData) -> None:
    for name, value in (
        ("supervised_cases", data.supervised_cases),
        ("supervision_hours", data.supervision_hours),
    ):
        if not 0 <= value <= MAX_NUMBER:
            raise Invalid(Code.BAD_NUMBER, f"Enter a whole number from 0 to {MAX_NUMBER}.", field=name)
    if not data.supervisor_name.strip() or len(data.supervisor_name) > 200:
        raise Invalid(Code.BAD_VALUE, "Enter your supervisor's name.", field="supervisor_name")
    email = data.supervisor_email.strip().lower()
    if not email or "@" not in email or len(email) > 254 or "\n" in email:
        raise Invalid(
            Code.BAD_VALUE, "Enter an e-mail address like name@example.org.", field="supervisor_email"
        )
    if member.email and email == member.email.lower():
        raise Invalid(
            Code.BAD_VALUE,
            "Your supervisor must be someone else: enter their own e-mail address, not yours.",
            field="supervisor_email",
        )
    if len(data.training_note) > TEXT_LIMIT or len(data.statement) > TEXT_LIMIT:
        raise Invalid(Code.BAD_VALUE, f"Keep each text to {TEXT_LIMIT} characters.", field="statement")
    if data.training_registration_id is not None:
        known = {
            r.registration.id
            for r in training_records(session, member_id=member.id, course_id=level.course_id)
        }
        if data.training_registration_id not in known:
            raise Invalid(
                Code.BAD_VALUE, "Choose one of the bookings shown, or another answer.", field="training"
            )
    elif data.training_done and not data.training_note.strip():
        raise Invalid(
            Code.BAD_VALUE,
            "Say where and when you completed the training, as it was not one of the society's dates.",
            field="training_note",
        )


def _file(evidence: Evidence, now: datetime) -> LevelApplicationFile:
    return LevelApplicationFile(
        filename=evidence.filename[:200],
        content_type=evidence.content_type,
        content=evidence.content,
        uploaded_at=now,
    )


def _mail_context(
    session: Session, application: LevelApplication, member: Member, level: Level
) -> dict[str, object]:
    return {
        "society_name": society_name(session),
        "reference": application.reference,
        "name": member.first_name or member.full_name,
        "member_name": member.full_name,
        "level": level.name,
    }


def _ask_supervisor(
    session: Session,
    application: LevelApplication,
    member: Member,
    level: Level,
    *,
    now: datetime,
    key: bytes,
    links: Links,
) -> None:
    token = new_token()
    application.supervisor_digest = token_digest(key, token, purpose=SUPERVISOR_PURPOSE)
    application.supervisor_expires_at = now + timedelta(days=SUPERVISOR_LINK_DAYS)
    session.flush()
    mail.enqueue(
        session,
        to=application.supervisor_email,
        template="accreditation/supervisor_request",
        context={
            **_mail_context(session, application, member, level),
            "supervisor_name": application.supervisor_name,
            "expires": (now + timedelta(days=SUPERVISOR_LINK_DAYS)).strftime("%-d %B %Y"),
        },
        now=now,
        secrets={"link": links.supervisor(token)},
        key=key,
    )


def apply(
    session: Session,
    *,
    member_id: int,
    level_id: int,
    data: ApplicationData,
    files: Sequence[Evidence],
    today: date,
    now: datetime,
    key: bytes,
    links: Links,
) -> LevelApplication:
    """Record an application and e-mail the supervisor their private link, in one transaction. A level held
    can be applied for again only once re-accreditation is open; one open application per level."""
    member = session.get(Member, member_id)
    if member is None or member.status != "active":
        raise Conflict(Code.WRONG_STATE, "Only a member on the roll whose membership is active can apply.")
    level = get_level(session, level_id)
    held = latest_holding(session, member_id=member.id, level_id=level.id)
    if held is not None and today < opens_on(held):
        raise Conflict(
            Code.NOT_YET_OPEN,
            f"You hold {level.name} until {held.until_on.strftime('%-d %B %Y')}: re-accreditation opens on "
            f"{opens_on(held).strftime('%-d %B %Y')}.",
        )
    _check(session, member, level, data)
    application = LevelApplication(
        member_id=member.id,
        level_id=level.id,
        renews_id=held.id if held is not None else None,
        status="supervisor",
        training_done=data.training_done or data.training_registration_id is not None,
        training_registration_id=data.training_registration_id,
        training_note=data.training_note.strip(),
        supervised_cases=data.supervised_cases,
        supervision_hours=data.supervision_hours,
        statement=data.statement.strip(),
        supervisor_name=data.supervisor_name.strip(),
        supervisor_email=data.supervisor_email.strip().lower(),
        created_at=now,
        updated_at=now,
    )
    application.files = [_file(f, now) for f in list(files)[:MAX_FILES]]
    try:
        with session.begin_nested():
            session.add(application)
            session.flush()
    except IntegrityError:
        raise Conflict(
            Code.ALREADY_APPLIED, f"You already have an application for {level.name} under way."
        ) from None
    _ask_supervisor(session, application, member, level, now=now, key=key, links=links)
    audit.record(
        session,
        actor=None,
        action="accreditation.apply",
        subject=application.reference,
        details={
            "member": member.id,
            "level": level.slug,
            "renews": application.renews_id,
            "files": len(files),
        },
        now=now,
    )
    return application


# --- the supervisor's link ------------------------------------------------------------------------------------


def for_supervisor(session: Session, *, token: str, key: bytes, now: datetime) -> LevelApplication:
    """The application a supervisor's link is for; refused when the link is wrong, expired or used."""
    found = session.scalar(
        select(LevelApplication).where(
            LevelApplication.supervisor_digest == token_digest(key, token, purpose=SUPERVISOR_PURPOSE)
        )
    )
    if found is None:
        raise NotFound("This link is not valid. Check that you copied all of it.", Code.BAD_LINK)
    if found.supervisor_answer:
        raise Gone(Code.LINK_USED, "This link has been used: your answer is recorded. Thank you.")
    if found.status != "supervisor":
        raise Gone(Code.LINK_USED, "This application is no longer waiting for a supervisor's answer.")
    if found.supervisor_expires_at is None or found.supervisor_expires_at <= now:
        raise Gone(
            Code.LINK_EXPIRED,
            "This link has expired. Ask the applicant to contact the society for a new one.",
        )
    return found


def supervisor_answer(
    session: Session, *, token: str, confirm: bool, comment: str, key: bytes, now: datetime
) -> LevelApplication:
    """The supervisor confirms (or declines, with a comment) what the application says. The link is spent by
    the same conditional UPDATE that moves the application on to review, so it works once."""
    application = for_supervisor(session, token=token, key=key, now=now)
    comment = comment.strip()
    if not confirm and not comment:
        raise Invalid(Code.BAD_VALUE, "Say why you cannot confirm the application.", field="comment")
    if len(comment) > TEXT_LIMIT:
        raise Invalid(Code.BAD_VALUE, f"Keep your comment to {TEXT_LIMIT} characters.", field="comment")
    answer = "confirmed" if confirm else "declined"
    spent = rowcount(
        session.execute(
            update(LevelApplication)
            .where(
                LevelApplication.id == application.id,
                LevelApplication.status == "supervisor",
                LevelApplication.supervisor_answer == "",
                LevelApplication.supervisor_expires_at > now,
            )
            .values(
                status="new",
                supervisor_answer=answer,
                supervisor_comment=comment,
                supervisor_answered_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    )
    if spent != 1:
        raise Gone(Code.LINK_USED, "This link has just been used.")
    session.refresh(application)
    if comment:
        session.add(
            LevelApplicationMessage(
                application_id=application.id,
                at=now,
                author="supervisor",
                author_name=application.supervisor_name,
                body=comment,
            )
        )
    session.flush()
    audit.record(
        session,
        actor=None,
        action=f"accreditation.supervisor_{answer}",
        subject=application.reference,
        details={"supervisor": application.supervisor_email},
        now=now,
    )
    return application


def resend_supervisor(
    session: Session,
    *,
    application_id: int,
    actor: audit.Actor | None,
    now: datetime,
    key: bytes,
    links: Links,
) -> LevelApplication:
    """The reviewer sends the supervisor a new link (the last one expired or went astray): the old one stops
    working, since only the new digest is kept."""
    application = get_application(session, application_id)
    if application.status != "supervisor":
        raise Conflict(Code.WRONG_STATE, "This application is no longer waiting for the supervisor.")
    member = session.get(Member, application.member_id)
    level = get_level(session, application.level_id)
    assert member is not None
    _ask_supervisor(session, application, member, level, now=now, key=key, links=links)
    application.updated_at = now
    audit.record(
        session,
        actor=actor,
        action="accreditation.supervisor_link_resent",
        subject=application.reference,
        details={"supervisor": application.supervisor_email},
        now=now,
    )
    return application


# --- the member's own application -----------------------------------------------------------------------------


def member_application(session: Session, *, member_id: int, application_id: int) -> LevelApplication:
    """The member's own application; another member's is "not found", whatever its number."""
    found = session.get(LevelApplication, application_id)
    if found is None or found.member_id != member_id:
        raise NotFound("There is no such application.", Code.NOT_FOUND)
    return found


def applications_of(session: Session, *, member_id: int) -> list[tuple[LevelApplication, Level]]:
    query = (
        select(LevelApplication, Level)
        .join(Level, Level.id == LevelApplication.level_id)
        .where(LevelApplication.member_id == member_id)
        .order_by(LevelApplication.id.desc())
    )
    return [(a, level) for a, level in session.execute(query)]


def member_answer(
    session: Session,
    *,
    member_id: int,
    application_id: int,
    body: str,
    files: Sequence[Evidence],
    now: datetime,
) -> LevelApplication:
    """The member answers the reviewer's question (text, files or both): the application is back for review."""
    application = member_application(session, member_id=member_id, application_id=application_id)
    body = body.strip()
    if not body and not files:
        raise Invalid(Code.BAD_VALUE, "Write your answer, or upload a file.", field="answer")
    if len(body) > TEXT_LIMIT:
        raise Invalid(Code.BAD_VALUE, f"Keep your answer to {TEXT_LIMIT} characters.", field="answer")
    moved = rowcount(
        session.execute(
            update(LevelApplication)
            .where(LevelApplication.id == application.id, LevelApplication.status == "more")
            .values(status="new", updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if moved != 1:
        raise Conflict(Code.WRONG_STATE, "This application is not waiting for an answer from you.")
    session.refresh(application)
    member = session.get(Member, member_id)
    session.add(
        LevelApplicationMessage(
            application_id=application.id,
            at=now,
            author="member",
            author_name=member.full_name if member else "",
            body=body or "(files only)",
        )
    )
    room = MAX_FILES_IN_ALL - len(application.files)
    for evidence in list(files)[: max(min(room, MAX_FILES), 0)]:
        application.files.append(_file(evidence, now))
    session.flush()
    audit.record(
        session,
        actor=None,
        action="accreditation.answer",
        subject=application.reference,
        details={"files": len(files)},
        now=now,
    )
    return application


def member_file(
    session: Session, *, member_id: int, application_id: int, file_id: int
) -> LevelApplicationFile:
    application = member_application(session, member_id=member_id, application_id=application_id)
    return get_file(session, application_id=application.id, file_id=file_id)


# --- the reviewer -----------------------------------------------------------------------------------------------


def get_application(session: Session, application_id: int) -> LevelApplication:
    found = session.get(LevelApplication, application_id)
    if found is None:
        raise NotFound("There is no such application.", Code.NOT_FOUND)
    return found


def get_file(session: Session, *, application_id: int, file_id: int) -> LevelApplicationFile:
    found = session.get(LevelApplicationFile, file_id)
    if found is None or found.application_id != application_id:
        raise NotFound("There is no such file.", Code.NOT_FOUND)
    return found


@dataclass(frozen=True)
class QueueRow:
    application: LevelApplication
    member: Member
    level: Level


def queue(session: Session, *, status: str | None = None) -> list[QueueRow]:
    """Applications for review, oldest first (the open ones when no status is asked for)."""
    query = (
        select(LevelApplication, Member, Level)
        .join(Member, Member.id == LevelApplication.member_id)
        .join(Level, Level.id == LevelApplication.level_id)
    )
    if status in APPLICATION_STATUSES:
        query = query.where(LevelApplication.status == status)
    else:
        query = query.where(LevelApplication.status.in_(OPEN_STATUSES))
    query = query.order_by(LevelApplication.id)
    return [QueueRow(a, m, level) for a, m, level in session.execute(query)]


def _move(
    session: Session, application: LevelApplication, *, to: str, allowed: Sequence[str], now: datetime
) -> None:
    moved = rowcount(
        session.execute(
            update(LevelApplication)
            .where(LevelApplication.id == application.id, LevelApplication.status.in_(allowed))
            .values(status=to, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if moved != 1:
        raise Conflict(
            Code.WRONG_STATE,
            "Someone has acted on this application since you opened it: look at it again.",
        )
    session.refresh(application)


def _tell_member(
    session: Session,
    application: LevelApplication,
    template: str,
    extra: dict[str, object],
    *,
    now: datetime,
    links: Links,
) -> None:
    member = session.get(Member, application.member_id)
    level = session.get(Level, application.level_id)
    assert member is not None and level is not None
    if not member.email:
        return
    mail.enqueue(
        session,
        to=member.email,
        template=template,
        context={
            **_mail_context(session, application, member, level),
            "link": links.application(application.id),
            **extra,
        },
        now=now,
    )


def _message(
    session: Session, application: LevelApplication, actor: audit.Actor | None, body: str, now: datetime
) -> None:
    session.add(
        LevelApplicationMessage(
            application_id=application.id,
            at=now,
            author="reviewer",
            author_name=actor.name if actor else "",
            body=body,
        )
    )


def approve(
    session: Session,
    *,
    application_id: int,
    from_on: date,
    until_on: date | None,
    conditions: str,
    actor: audit.Actor | None,
    now: datetime,
    links: Links,
) -> Holding:
    """Approve an application: the member holds the level from `from_on` until `until_on` (by default its
    duration on), with `conditions` in their public wording ("" for none). A level whose standard asks for a
    supervisor's sign-off needs the supervisor's confirmation first."""
    application = get_application(session, application_id)
    level = get_level(session, application.level_id)
    conditions = conditions.strip()
    if len(conditions) > TEXT_LIMIT:
        raise Invalid(Code.BAD_VALUE, f"Keep the conditions to {TEXT_LIMIT} characters.", field="conditions")
    until_on = until_on or default_until(level, from_on)
    if until_on < from_on:
        raise Invalid(
            Code.BAD_DATES, "The accreditation must end on or after the day it starts.", field="until_on"
        )
    if level.sign_off_required and application.supervisor_answer != "confirmed":
        raise Conflict(
            Code.NOT_SIGNED_OFF,
            f"The {level.name} standard asks for the supervisor's sign-off, and the supervisor has not confirmed.",
        )
    _move(session, application, to="approved", allowed=("new",), now=now)
    holding = Holding(
        member_id=application.member_id,
        level_id=level.id,
        from_on=from_on,
        until_on=until_on,
        conditions=conditions,
        created_at=now,
        recorded_by=actor.name if actor else "",
    )
    session.add(holding)
    session.flush()
    application.holding_id = holding.id
    application.decided_at, application.decided_by = now, audit.actor_label(actor)
    application.reason = conditions
    _message(
        session,
        application,
        actor,
        f"Approved with conditions: {conditions}" if conditions else "Approved.",
        now,
    )
    session.flush()
    _tell_member(
        session,
        application,
        "accreditation/approved",
        {
            "from_on": from_on.strftime("%-d %B %Y"),
            "until_on": until_on.strftime("%-d %B %Y"),
            "conditions": conditions,
        },
        now=now,
        links=links,
    )
    audit.record(
        session,
        actor=actor,
        action="accreditation.approve_with_conditions" if conditions else "accreditation.approve",
        subject=application.reference,
        details={
            "member": application.member_id,
            "level": level.slug,
            "from": from_on.isoformat(),
            "until": until_on.isoformat(),
            "holding": holding.id,
            **({"conditions": conditions} if conditions else {}),
        },
        now=now,
    )
    return holding


def ask(
    session: Session,
    *,
    application_id: int,
    question: str,
    actor: audit.Actor | None,
    now: datetime,
    links: Links,
) -> LevelApplication:
    """Ask the member for more: they answer on their application's page."""
    question = question.strip()
    if not question:
        raise Invalid(Code.BAD_VALUE, "Write what you need from the member.", field="question")
    if len(question) > TEXT_LIMIT:
        raise Invalid(Code.BAD_VALUE, f"Keep the question to {TEXT_LIMIT} characters.", field="question")
    application = get_application(session, application_id)
    _move(session, application, to="more", allowed=("new",), now=now)
    _message(session, application, actor, question, now)
    session.flush()
    _tell_member(
        session, application, "accreditation/more_needed", {"question": question}, now=now, links=links
    )
    audit.record(session, actor=actor, action="accreditation.ask", subject=application.reference, now=now)
    return application


def refuse(
    session: Session,
    *,
    application_id: int,
    reasons: str,
    actor: audit.Actor | None,
    now: datetime,
    links: Links,
) -> LevelApplication:
    """Refuse an open application, with the reasons the member is sent."""
    reasons = reasons.strip()
    if not reasons:
        raise Invalid(Code.BAD_VALUE, "Give the reasons for refusing the application.", field="reasons")
    if len(reasons) > TEXT_LIMIT:
        raise Invalid(Code.BAD_VALUE, f"Keep the reasons to {TEXT_LIMIT} characters.", field="reasons")
    application = get_application(session, application_id)
    _move(session, application, to="refused", allowed=OPEN_STATUSES, now=now)
    application.decided_at, application.decided_by = now, audit.actor_label(actor)
    application.reason = reasons
    application.supervisor_digest = None
    _message(session, application, actor, f"Refused: {reasons}", now)
    session.flush()
    _tell_member(session, application, "accreditation/refused", {"reasons": reasons}, now=now, links=links)
    audit.record(
        session,
        actor=actor,
        action="accreditation.refuse",
        subject=application.reference,
        details={"reasons": reasons},
        now=now,
    )
    return application
