"""The rules of the accreditation room: the levels and their standards (reading them for the public page, staff's
saves, the five a fresh install starts with).

The required training of a level is one of the training room's courses, read through
`training.service.list_courses` and kept by its stable id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accreditation.errors import Code
from portal.accreditation.models import Level
from portal.errors import Conflict, Invalid, NotFound
from portal.training import service as training
from portal.training.models import Course

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 80
#: The most a standard may ask of any number (cases, hours, months): a typo guard, not a policy.
MAX_NUMBER = 10_000

#: The levels a fresh install starts with: (slug, name, the course slug its standard asks for, supervised
#: cases, supervision hours, supervisor's sign-off, CPD hours a year). Staff change them afterwards.
DEFAULT_LEVELS: tuple[tuple[str, str, str | None, int, int, bool, int], ...] = (
    ("ipt-practitioner", "IPT practitioner", "ipt-practitioner", 4, 30, True, 10),
    ("ipt-a-practitioner", "IPT-A practitioner", "ipt-a-practitioner", 4, 30, True, 10),
    ("ipc-practitioner", "IPC practitioner", "ipc", 2, 10, True, 10),
    ("supervisor", "Supervisor", "ipt-supervisor", 8, 20, True, 15),
    ("trainer", "Trainer", None, 0, 0, False, 20),
)


# --- reading ---------------------------------------------------------------------------------------------------


def list_levels(session: Session) -> list[Level]:
    """Every level, in its order."""
    return list(session.scalars(select(Level).order_by(Level.position, Level.id)))


def get_level(session: Session, level_id: int) -> Level:
    found = session.get(Level, level_id)
    if found is None:
        raise NotFound("There is no such level of accreditation.", Code.NOT_FOUND)
    return found


@dataclass(frozen=True)
class Standard:
    """A level as the public page shows it: the level and the course its standard names (None: none, or a
    draft course a visitor cannot see)."""

    level: Level
    course: Course | None


def standards(session: Session, *, include_drafts: bool = False) -> list[Standard]:
    """The levels with their required courses, in two statements whatever their number."""
    courses = {c.id: c for c in training.list_courses(session, include_drafts=include_drafts)}
    return [Standard(level, courses.get(level.course_id or 0)) for level in list_levels(session)]


# --- writing ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelData:
    name: str
    slug: str
    course_id: int | None = None
    supervised_cases: int = 0
    supervision_hours: int = 0
    sign_off_required: bool = False
    cpd_hours: int = 0
    duration_months: int = 36
    description: str = ""
    #: None: after the last level.
    position: int | None = None


#: The numbers of a standard with what a message calls them; each is a whole number from 0 (months from 1).
NUMBERS = {
    "supervised_cases": "the supervised cases",
    "supervision_hours": "the supervision hours",
    "cpd_hours": "the CPD hours a year",
    "duration_months": "how many months it lasts",
}


def _check(session: Session, data: LevelData) -> None:
    if not data.slug or len(data.slug) > MAX_SLUG or not SLUG.match(data.slug):
        raise Invalid(
            Code.BAD_SLUG,
            f"Use lower-case letters, digits and single hyphens for the short name, like ipt-practitioner (at "
            f"most {MAX_SLUG} characters).",
            field="slug",
        )
    for name, label in NUMBERS.items():
        value = getattr(data, name)
        least = 1 if name == "duration_months" else 0
        if not least <= value <= MAX_NUMBER:
            raise Invalid(
                Code.BAD_NUMBER,
                f"Enter {label} as a whole number from {least} to {MAX_NUMBER}.",
                field=name,
            )
    if data.course_id is not None:
        known = {c.id for c in training.list_courses(session, include_drafts=True)}
        if data.course_id not in known:
            raise Invalid(Code.BAD_COURSE, "Choose one of the society's courses, or none.", field="course_id")


def _slug_taken() -> Conflict:
    return Conflict(
        Code.SLUG_TAKEN, "Another level already has this short name: choose another.", field="slug"
    )


def save_level(
    session: Session, *, level_id: int | None, data: LevelData, actor: audit.Actor | None, now: datetime
) -> Level:
    """Add a level (`level_id` None) or change one, audited with the fields that changed. Two saves racing for
    one short name: the unique slug decides, and the loser hears why."""
    _check(session, data)
    clash = session.scalar(select(Level.id).where(Level.slug == data.slug, Level.id != (level_id or 0)))
    if clash is not None:
        raise _slug_taken()
    if level_id is None:
        last = session.scalar(select(func.max(Level.position)))
        found = Level(created_at=now, position=0 if last is None else last + 1)
        action = "accreditation.level_add"
    else:
        found = get_level(session, level_id)
        action = "accreditation.level_update"
    before = {name: getattr(found, name, None) for name in vars(data)}
    for name, value in vars(data).items():
        if name == "position" and value is None:
            continue
        setattr(found, name, value)
    found.updated_at, found.updated_by = now, actor.name if actor else ""
    try:
        with session.begin_nested():
            session.add(found)
            session.flush()
    except IntegrityError:
        raise _slug_taken() from None
    changed = sorted(k for k, v in before.items() if getattr(found, k) != v)
    audit.record(
        session,
        actor=actor,
        action=action,
        subject=f"accreditation level {found.id}",
        details={"name": found.name, "slug": found.slug, "changed": changed},
        now=now,
    )
    return found


def ensure_levels(session: Session, *, now: datetime) -> int:
    """Place the five levels while there are none at all (a fresh install; the public standards page lists
    them): the number placed. Each names its course by the training room's default slugs, when that course is
    there. Running it again never brings back a level staff changed or removed."""
    if session.scalar(select(func.count()).select_from(Level)):
        return 0
    courses = {c.slug: c.id for c in training.list_courses(session, include_drafts=True)}
    for position, (slug, name, course, cases, hours, sign_off, cpd) in enumerate(DEFAULT_LEVELS):
        session.add(
            Level(
                slug=slug,
                name=name,
                position=position,
                course_id=courses.get(course) if course else None,
                supervised_cases=cases,
                supervision_hours=hours,
                sign_off_required=sign_off,
                cpd_hours=cpd,
                duration_months=36,
                description=(
                    f"*This standard is waiting for its text.* Staff who look after accreditation: describe "
                    f"what the {name} level asks and how it is assessed."
                ),
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()
    return len(DEFAULT_LEVELS)
