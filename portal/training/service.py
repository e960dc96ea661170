"""The rules of the training room: the society's courses (what a visitor may see, staff's saves, the six a
fresh install starts with) and the external CPD courses (current ones from the clock, links checked).

`list_courses` is the one way other rooms read the courses (the events form's choice of course, and an
accreditation level's required training): ids are stable, addresses may change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.errors import Conflict, Invalid, NotFound
from portal.search import service as search
from portal.training.errors import Code
from portal.training.models import STATUSES, Course, ExternalCourse

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 80
#: Addresses under /training that the room's own pages use: no course may take them.
RESERVED = frozenset({"manage", "external-cpd-courses"})

#: The trainings the society runs, as a fresh install places them (published, each with a placeholder telling
#: staff what to write), in the order of the captured site's menu: (slug, title, what staff should write).
DEFAULT_COURSES: tuple[tuple[str, str, str], ...] = (
    ("ipt-practitioner", "IPT Practitioner Training", "the practitioner course in IPT for depression"),
    ("ipt-a-practitioner", "IPT-A Practitioner Training", "the course in IPT for adolescents"),
    ("ipt-supervisor", "IPT Supervisor Training", "the course for practitioners becoming supervisors"),
    ("ipt-refresher", "IPT Refresher Training", "the refresher day for practitioners returning to IPT"),
    ("ipc", "IPC Training", "the course in Interpersonal Counselling"),
    ("ipt-for-bipolar", "IPT for Bipolar", "the course in IPT for bipolar disorder (IPSRT)"),
)


# --- courses: reading ------------------------------------------------------------------------------------------


def list_courses(session: Session, *, include_drafts: bool = False) -> list[Course]:
    """The courses in their order (drafts only when asked: staff pages and choices)."""
    query = select(Course).order_by(Course.position, Course.id)
    if not include_drafts:
        query = query.where(Course.status == "published")
    return list(session.scalars(query))


def get_course(session: Session, course_id: int) -> Course:
    found = session.get(Course, course_id)
    if found is None:
        raise NotFound("There is no such course.", Code.NOT_FOUND)
    return found


def course_by_slug(session: Session, slug: str, *, include_drafts: bool) -> Course:
    found = session.scalar(select(Course).where(Course.slug == slug))
    if found is None or (not include_drafts and not found.is_published):
        raise NotFound("There is no such course.", Code.NOT_FOUND)
    return found


# --- courses: writing ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseData:
    title: str
    slug: str
    summary: str = ""
    about: str = ""
    audience: str = ""
    prerequisites: str = ""
    #: None: after the last course.
    position: int | None = None
    status: str = "draft"


def _check_course(data: CourseData) -> None:
    if data.status not in STATUSES:
        raise Invalid(Code.BAD_STATUS, "Choose draft or published.", field="status")
    if data.slug in RESERVED:
        raise Invalid(
            Code.BAD_SLUG,
            f"The address \u201c{data.slug}\u201d is used by the portal's own training pages. Choose another.",
            field="slug",
        )
    if not data.slug or len(data.slug) > MAX_SLUG or not SLUG.match(data.slug):
        raise Invalid(
            Code.BAD_SLUG,
            f"Use lower-case letters, digits and single hyphens for the address, like ipt-practitioner (at "
            f"most {MAX_SLUG} characters).",
            field="slug",
        )


def search_document(course: Course) -> search.Document | None:
    """A published course as search finds it (a draft is not found)."""
    if course.status != "published":
        return None
    parts = (
        course.summary,
        *(search.plain_text(t) for t in (course.about, course.audience, course.prerequisites)),
    )
    return search.Document(
        kind="course",
        key=str(course.id),
        title=course.title,
        body=" ".join(part for part in parts if part),
        url=f"/training/{course.slug}",
        date=None,
        updated_at=course.updated_at,
    )


def search_documents(session: Session) -> Iterator[search.Document]:
    """Every published course: the training room's search source."""
    for course in list_courses(session):
        document = search_document(course)
        if document is not None:
            yield document


def _index(session: Session, course: Course) -> None:
    search.keep(session, kind="course", key=str(course.id), document=search_document(course))


def _slug_taken() -> Conflict:
    return Conflict(Code.SLUG_TAKEN, "Another course already has this address: choose another.", field="slug")


def save_course(
    session: Session, *, course_id: int | None, data: CourseData, actor: audit.Actor | None, now: datetime
) -> Course:
    """Add a course (`course_id` None) or change one. Two saves racing for one address: the unique slug
    decides, and the loser hears why."""
    _check_course(data)
    clash = session.scalar(select(Course.id).where(Course.slug == data.slug, Course.id != (course_id or 0)))
    if clash is not None:
        raise _slug_taken()
    if course_id is None:
        last = session.scalar(select(func.max(Course.position)))
        found = Course(created_at=now, position=0 if last is None else last + 1)
        action = "training.course_add"
    else:
        found = get_course(session, course_id)
        action = "training.course_update"
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
    _index(session, found)
    changed = sorted(k for k, v in before.items() if getattr(found, k) != v)
    audit.record(
        session,
        actor=actor,
        action=action,
        subject=f"course {found.id}",
        details={"title": found.title, "slug": found.slug, "status": found.status, "changed": changed},
        now=now,
    )
    return found


def placeholder(brief: str) -> str:
    return (
        f"*This course is waiting for its text.* Staff who edit the website: write here about {brief}.\n\n"
        "Log in, open **Training courses** and choose the course to edit it."
    )


def ensure_courses(session: Session, *, now: datetime) -> int:
    """Place the society's six courses while there are none at all (a fresh install; the menu links to them):
    the number placed. Running it again never brings back a course staff changed."""
    if session.scalar(select(func.count()).select_from(Course)):
        return 0
    for position, (slug, title, brief) in enumerate(DEFAULT_COURSES):
        session.add(
            Course(
                slug=slug,
                title=title,
                about=placeholder(brief),
                position=position,
                status="published",
                created_at=now,
                updated_at=now,
            )
        )
    session.flush()
    for course in list_courses(session):
        _index(session, course)
    return len(DEFAULT_COURSES)


# --- external CPD courses --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExternalData:
    title: str
    provider: str
    url: str
    starts_on: date | None = None
    ends_on: date | None = None
    note: str = ""


def check_url(url: str) -> None:
    """A course's link: a full http or https address with a host, and nothing a browser would trip on."""
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or not parts.hostname
        or any(c.isspace() or c in "<>\"'" for c in url)
        or len(url) > 500
    ):
        raise Invalid(
            Code.BAD_LINK,
            "Enter the course's web address starting with https:// or http://, like "
            "https://www.example.org/course.",
            field="url",
        )


def _check_external(data: ExternalData) -> None:
    check_url(data.url)
    if data.starts_on and data.ends_on and data.ends_on < data.starts_on:
        raise Invalid(Code.BAD_DATES, "The course must end on or after the day it starts.", field="ends_on")


def external_courses(session: Session) -> list[ExternalCourse]:
    """All of them, for staff: the soonest first, those with no dates last."""
    return list(session.scalars(_ordered(select(ExternalCourse))))


def current_external(session: Session, *, today: date) -> list[ExternalCourse]:
    """What the public list shows on `today`: courses whose last day (end, else start) is today or later, and
    those with no dates."""
    last_day = func.coalesce(ExternalCourse.ends_on, ExternalCourse.starts_on)
    query = select(ExternalCourse).where(or_(last_day.is_(None), last_day >= today))
    return list(session.scalars(_ordered(query)))


def _ordered(query: Select[ExternalCourse]) -> Select[ExternalCourse]:
    first_day = func.coalesce(ExternalCourse.starts_on, ExternalCourse.ends_on)
    return query.order_by(first_day.is_(None), first_day, ExternalCourse.title, ExternalCourse.id)


def get_external(session: Session, item_id: int) -> ExternalCourse:
    found = session.get(ExternalCourse, item_id)
    if found is None:
        raise NotFound("There is no such course on the list.", Code.NOT_FOUND)
    return found


def save_external(
    session: Session, *, item_id: int | None, data: ExternalData, actor: audit.Actor | None, now: datetime
) -> ExternalCourse:
    _check_external(data)
    if item_id is None:
        found = ExternalCourse(created_at=now)
        action = "training.cpd_add"
    else:
        found = get_external(session, item_id)
        action = "training.cpd_update"
    for name, value in vars(data).items():
        setattr(found, name, value)
    found.updated_at = now
    session.add(found)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        subject=f"external course {found.id}",
        details={"title": found.title, "provider": found.provider, "url": found.url},
        now=now,
    )
    return found


def remove_external(session: Session, *, item_id: int, actor: audit.Actor | None, now: datetime) -> str:
    """Take a course off the list; its title."""
    found = get_external(session, item_id)
    title = found.title
    session.delete(found)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="training.cpd_remove",
        subject=f"external course {item_id}",
        details={"title": title},
        now=now,
    )
    return title
