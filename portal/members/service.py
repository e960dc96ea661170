"""Membership roll rules: the look-ups other domains use, staff edits kept in the member's history, the
configurable categories and accreditation levels, the searchable list and its CSV export, and privacy
(everything held about a member as JSON; erasing a former member's personal data).

Plain functions over a Session that flush but never commit; failures raise `MemberError` with a stable code.
Audit entries name a member by membership number only and list changed *field names*, never values: the
audit log is append-only and cannot be erased, the history can.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import ROLES, Account, AccountToken, LoginSession, RecoveryCode
from portal.db import is_postgres, rowcount
from portal.errors import Kind, PortalError
from portal.members.errors import Code
from portal.members.models import (
    STATUSES,
    AccreditationLevel,
    Member,
    MemberCategory,
    MemberChange,
    RollUpload,
)
from portal.members.standing import STANDINGS, grace_ends, london_day, standing, standing_sql
from portal.society.service import membership_settings
from portal.text import csv_safe
from portal.web.forms import EMAIL_RE

#: Where a change came from (MemberChange.source).
SOURCES: dict[str, str] = {
    "import": "Roll import",
    "staff": "Staff edit",
    "self-service": "The member",
    "application": "Membership application",
    "renewal": "Renewal",
}

#: Every field a member has that history tracks, with the label people see.
FIELDS: dict[str, str] = {
    "membership_number": "Membership number",
    "email": "E-mail",
    "first_name": "First name",
    "last_name": "Last name",
    "category": "Category",
    "accreditation": "Accreditation",
    "status": "Status",
    "joined_on": "Joined",
    "renewal_on": "Renewal date",
}
#: What staff (and self-service) may change; the membership number is the member's identity.
EDITABLE = tuple(f for f in FIELDS if f != "membership_number")
DATE_FIELDS = ("joined_on", "renewal_on")
MAX_LENGTHS = {"membership_number": 40, "email": 254, "first_name": 100, "last_name": 100}

ERASED_NAME = "Erased member"

#: The options a new database starts with (the `members_0001` migration seeds the same lists).
DEFAULT_CATEGORIES = [
    ("trainee", "Trainee"),
    ("basic", "Basic"),
    ("member_plus", "Member plus"),
    ("organisation", "Organisation"),
    ("honorary", "Honorary"),
]
DEFAULT_LEVELS = [
    ("none", "None"),
    ("accredited_practitioner", "Accredited practitioner"),
    ("supervisor", "Supervisor"),
    ("trainer", "Trainer"),
]

OptionModel = Any  # MemberCategory or AccreditationLevel: two mapped classes with the same columns
OPTION_KINDS: dict[str, tuple[OptionModel, str]] = {
    "category": (MemberCategory, "category"),
    "accreditation": (AccreditationLevel, "accreditation level"),
}


class MemberError(PortalError):
    """`code` is one of: not_found, member_active, member_erased, email_taken, bad_value, option_exists,
    in_use, protected."""


# --- look-ups other domains use -----------------------------------------------------------------------------


def member_in_good_standing(member: Member, *, now: datetime) -> bool:
    """Active with no grace at all: not erased, not resigned, pending or lapsed, and the renewal date (if the
    office set one) not yet passed on the UK day of `now`. Elections use this stricter rule (a member in
    grace may not vote); it is `standing` with a grace period of 0 days, so the boundaries are the same."""
    return standing(member, now, grace_days=0) == "active"


def grace_days(session: Session) -> int:
    """The society's grace period after a renewal date, in days (society settings)."""
    return membership_settings(session).grace_days


def find_member_by_email(session: Session, email: str) -> Member | None:
    """The member with this address (case-insensitive; addresses are stored lower-case), or None."""
    email = email.strip().lower()
    if not email:
        return None
    return session.scalar(select(Member).where(Member.email == email))


def get_member(session: Session, member_id: int, *, lock: bool = False) -> Member:
    query = select(Member).where(Member.id == member_id)
    if lock and is_postgres(session):
        query = query.with_for_update()
    member = session.scalar(query)
    if member is None:
        raise MemberError(Code.NOT_FOUND, "There is no such member.", kind=Kind.NOT_FOUND)
    return member


def json_value(value: Any) -> Any:
    """A field value as stored in the history (dates as ISO strings)."""
    return value.isoformat() if isinstance(value, date) else value


def history_entries(session: Session, member_id: int) -> list[tuple[MemberChange, dict[str, list[Any]]]]:
    rows = session.scalars(
        select(MemberChange).where(MemberChange.member_id == member_id).order_by(MemberChange.id.desc())
    ).all()
    order = {name: i for i, name in enumerate(FIELDS)}

    def ordered(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return dict(sorted(changes.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))

    return [(row, ordered(json.loads(row.changes or "{}"))) for row in rows]


# --- changes with history -----------------------------------------------------------------------------------


def record_change(
    session: Session,
    *,
    member: Member,
    changes: Mapping[str, list[Any]],
    actor: str,
    source: str,
    now: datetime,
) -> MemberChange | None:
    """One history row for `changes` ({field: [before, after]}); nothing when there is nothing to record."""
    if not changes:
        return None
    if source not in SOURCES:
        raise ValueError(f"unknown change source {source!r}")
    row = MemberChange(
        member_id=member.id,
        at=now,
        actor=actor[:300],
        source=source,
        changes=json.dumps(dict(changes), ensure_ascii=False, sort_keys=True),
    )
    session.add(row)
    return row


def check_values(session: Session, values: Mapping[str, Any]) -> dict[str, str]:
    """Messages for values a member may not hold, by field: unknown options, bad e-mail, blank names."""
    errors: dict[str, str] = {}
    for field, value in values.items():
        if field not in EDITABLE:
            raise ValueError(f"{field} cannot be changed")
        if field in ("first_name", "last_name") and not str(value or "").strip():
            errors[field] = f"Enter the {FIELDS[field].lower()}."
        elif field in MAX_LENGTHS and len(str(value or "")) > MAX_LENGTHS[field]:
            errors[field] = f"{FIELDS[field]} must be at most {MAX_LENGTHS[field]} characters."
    if "email" in values and not EMAIL_RE.match(str(values["email"] or "")):
        errors["email"] = "Enter an e-mail address like name@example.org."
    if "category" in values and values["category"] not in option_labels(session, "category"):
        errors["category"] = "Choose a category."
    if "accreditation" in values and values["accreditation"] not in option_labels(session, "accreditation"):
        errors["accreditation"] = "Choose an accreditation level."
    if "status" in values and values["status"] not in STATUSES:
        errors["status"] = "Choose a status."
    return errors


def change_member(
    session: Session,
    *,
    member_id: int,
    values: Mapping[str, Any],
    actor: str,
    source: str,
    now: datetime,
) -> tuple[Member, dict[str, list[Any]]]:
    """Set the given fields, record what changed in the member's history, and return the member and the
    changes. Staff edits and member self-service both come through here. The unique e-mail is kept by the
    database: a clash raises `email_taken`."""
    member = get_member(session, member_id, lock=True)
    if member.erased_at is not None:
        raise MemberError(Code.MEMBER_ERASED, "This member's personal data has been erased.")
    values = {k: (v.strip().lower() if k == "email" and isinstance(v, str) else v) for k, v in values.items()}
    errors = check_values(session, values)
    if errors:
        field, message = next(iter(errors.items()))
        raise MemberError(Code.BAD_VALUE, message, field=field, errors=errors)
    changes = {
        field: [json_value(getattr(member, field)), json_value(value)]
        for field, value in values.items()
        if getattr(member, field) != value
    }
    if not changes:
        return member, {}
    for field in changes:
        setattr(member, field, values[field])
    if "status" in changes and member.status == "resigned" and member.left_on is None:
        # The day they left, which the erasure of a former member's data counts its years from.
        member.left_on = london_day(now)
        changes["left_on"] = [None, member.left_on.isoformat()]
    member.updated_at = now
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise MemberError(
            Code.EMAIL_TAKEN, "Another member already has this e-mail address.", field="email"
        ) from None
    record_change(session, member=member, changes=changes, actor=actor, source=source, now=now)
    session.flush()
    return member, changes


def update_member(
    session: Session, *, member_id: int, values: Mapping[str, Any], actor: Account, now: datetime
) -> tuple[Member, dict[str, list[Any]]]:
    """A staff edit: the change goes into the member's history and the audit log. It changes the roll only,
    never anybody's login: a login's address changes only by a link confirmed at the new address
    (`members.selfservice.request_email_change`), or staff could move a login to an address they read."""
    member, changes = change_member(
        session, member_id=member_id, values=values, actor=audit.actor_label(actor), source="staff", now=now
    )
    if changes:
        audit.record(
            session,
            actor=actor,
            action="member.update",
            subject=member.membership_number,
            details={"fields": sorted(changes)},
            now=now,
        )
    return member, changes


# --- categories and accreditation levels --------------------------------------------------------------------


def _option_model(kind: str) -> OptionModel:
    if kind not in OPTION_KINDS:
        raise MemberError(Code.NOT_FOUND, "There is no such list.", kind=Kind.NOT_FOUND)
    return OPTION_KINDS[kind][0]


def options(session: Session, kind: str) -> list[Any]:
    model = _option_model(kind)
    return list(session.scalars(select(model).order_by(model.position, model.label)).all())


def option_labels(session: Session, kind: str) -> dict[str, str]:
    """code → label, in display order."""
    return {o.code: o.label for o in options(session, kind)}


def option_usage(session: Session, kind: str) -> dict[str, int]:
    column = Member.category if kind == "category" else Member.accreditation
    return {code: count for code, count in session.execute(select(column, func.count()).group_by(column))}


def slugify(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")[:50]


def add_option(session: Session, *, kind: str, label: str, actor: Account | None, now: datetime) -> Any:
    """A new category or level; its code (what members store and the import also accepts) comes from the
    label and never changes, so renaming later is safe."""
    model = _option_model(kind)
    label = " ".join(label.split())
    code = slugify(label)
    if not code or len(label) > 100:
        raise MemberError(Code.BAD_VALUE, "Give a name of 1 to 100 letters or digits.", field="label")
    position = (session.scalar(select(func.max(model.position))) or 0) + 1
    option = model(code=code, label=label, position=position)
    session.add(option)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise MemberError(
            Code.OPTION_EXISTS, f"There is already a {OPTION_KINDS[kind][1]} like that.", field="label"
        ) from None
    audit.record(
        session, actor=actor, action=f"members.{kind}_add", subject=code, details={"label": label}, now=now
    )
    return option


def rename_option(
    session: Session, *, kind: str, option_id: int, label: str, actor: Account | None, now: datetime
) -> Any:
    model = _option_model(kind)
    option = session.get(model, option_id)
    if option is None:
        raise MemberError(Code.NOT_FOUND, "There is no such option.", kind=Kind.NOT_FOUND)
    label = " ".join(label.split())
    if not label or len(label) > 100:
        raise MemberError(Code.BAD_VALUE, "Give a name of 1 to 100 characters.", field="label")
    taken = session.scalar(
        select(model.id).where(func.lower(model.label) == label.lower(), model.id != option.id)
    )
    if taken is not None:
        raise MemberError(Code.OPTION_EXISTS, f"There is already a {OPTION_KINDS[kind][1]} like that.")
    before = option.label
    option.label = label
    session.flush()
    if before != label:
        audit.record(
            session,
            actor=actor,
            action=f"members.{kind}_rename",
            subject=option.code,
            details={"from": before, "to": label},
            now=now,
        )
    return option


def remove_option(
    session: Session, *, kind: str, option_id: int, actor: Account | None, now: datetime
) -> str:
    """Remove an option nobody holds. The check and the delete are one statement, so a member given the
    option meanwhile keeps it."""
    model = _option_model(kind)
    option = session.get(model, option_id)
    if option is None:
        raise MemberError(Code.NOT_FOUND, "There is no such option.", kind=Kind.NOT_FOUND)
    if kind == "accreditation" and option.code == "none":
        raise MemberError(Code.PROTECTED, "“None” is needed for members without accreditation.")
    column = Member.category if kind == "category" else Member.accreditation
    removed = rowcount(
        session.execute(delete(model).where(model.id == option.id, ~exists().where(column == option.code)))
    )
    if removed != 1:
        raise MemberError(Code.IN_USE, f"Members still hold “{option.label}”; change them first.")
    audit.record(session, actor=actor, action=f"members.{kind}_remove", subject=option.code, now=now)
    session.expunge(option)
    return option.label


@dataclass(frozen=True)
class CategoryTerms:
    """A category's terms of membership: what the Membership Options page prints and applications follow."""

    annual_fee: int
    eligibility: str
    evidence: str
    evidence_upload: bool
    needs_approval: bool
    can_vote: bool
    open_to_applicants: bool


#: The largest annual fee a category may have, in pence (£100,000): anything above is a typing slip.
MAX_FEE = 10_000_000


def check_terms(terms: CategoryTerms) -> dict[str, str]:
    """Messages by field for terms a category may not have."""
    errors: dict[str, str] = {}
    if terms.annual_fee < 0:
        errors["annual_fee"] = "The annual fee cannot be less than £0. Enter 0 for a free category."
    elif terms.annual_fee > MAX_FEE:
        errors["annual_fee"] = f"The annual fee must be at most £{MAX_FEE // 100:,}."
    if len(terms.eligibility) > 2000:
        errors["eligibility"] = "Who is eligible must be at most 2000 characters."
    if len(terms.evidence) > 2000:
        errors["evidence"] = "The evidence needed must be at most 2000 characters."
    if terms.evidence_upload and not terms.evidence.strip():
        errors["evidence"] = "Say what evidence to upload, since the form will ask for a file."
    return errors


def update_category_terms(
    session: Session, *, option_id: int, terms: CategoryTerms, actor: Account | None, now: datetime
) -> MemberCategory:
    """Change a category's fee, eligibility, evidence, approval and vote; audited with the fields changed."""
    category = session.get(MemberCategory, option_id)
    if category is None:
        raise MemberError(Code.NOT_FOUND, "There is no such category.", kind=Kind.NOT_FOUND)
    errors = check_terms(terms)
    if errors:
        field, message = next(iter(errors.items()))
        raise MemberError(Code.BAD_VALUE, message, field=field, errors=errors)
    changed = {}
    for name, value in vars(terms).items():
        if getattr(category, name) != value:
            changed[name] = value
            setattr(category, name, value)
    session.flush()
    if changed:
        audit.record(
            session,
            actor=actor,
            action="members.category_terms",
            subject=category.code,
            details={
                "fields": sorted(changed),
                **({"annual_fee": terms.annual_fee} if "annual_fee" in changed else {}),
            },
            now=now,
        )
    return category


def get_category(session: Session, category_id: int) -> MemberCategory:
    category = session.get(MemberCategory, category_id)
    if category is None:
        raise MemberError(Code.NOT_FOUND, "There is no such category.", kind=Kind.NOT_FOUND)
    return category


def terms_of(category: MemberCategory) -> CategoryTerms:
    return CategoryTerms(
        annual_fee=category.annual_fee,
        eligibility=category.eligibility,
        evidence=category.evidence,
        evidence_upload=category.evidence_upload,
        needs_approval=category.needs_approval,
        can_vote=category.can_vote,
        open_to_applicants=category.open_to_applicants,
    )


def seed_default_options(session: Session) -> None:
    """Put the default categories and levels back where a list is empty (tests that empty every table)."""
    for model, defaults in ((MemberCategory, DEFAULT_CATEGORIES), (AccreditationLevel, DEFAULT_LEVELS)):
        if session.scalar(select(func.count()).select_from(model)) == 0:
            session.add_all(
                model(code=code, label=label, position=i) for i, (code, label) in enumerate(defaults, start=1)
            )
    session.flush()


# --- the list: search, filter, sort, pages ------------------------------------------------------------------

PER_PAGE = 50
OPTION_CODE = re.compile(r"[a-z0-9_]{1,50}")
SORTS: dict[str, tuple[Any, ...]] = {
    "name": (Member.last_name, Member.first_name, Member.id),
    "number": (Member.membership_number,),
    "category": (Member.category, Member.last_name, Member.first_name, Member.id),
    # "status" sorts by the standing at `now` (see `_ordered`), not the stored column.
    "status": (Member.last_name, Member.first_name, Member.id),
    "renewal": (Member.renewal_on, Member.last_name, Member.first_name, Member.id),
}


@dataclass(frozen=True)
class MemberQuery:
    """What the list shows: free-text search, filters, sort and page. Built from query parameters without
    ever failing: an unknown value is the default."""

    q: str = ""
    status: str = ""
    category: str = ""
    accreditation: str = ""
    sort: str = "name"
    direction: str = "asc"
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> MemberQuery:
        def code(name: str) -> str:
            value = params.get(name, "")
            return value if OPTION_CODE.fullmatch(value) else ""

        page = params.get("page", "")
        return cls(
            q=" ".join("".join(c for c in params.get("q", "") if c.isprintable()).split())[:100],
            status=params.get("status", "") if params.get("status", "") in STANDINGS else "",
            category=code("category"),
            accreditation=code("accreditation"),
            sort=params.get("sort", "") if params.get("sort", "") in SORTS else "name",
            direction="desc" if params.get("dir") == "desc" else "asc",
            page=max(1, int(page)) if page.isascii() and page.isdigit() and len(page) <= 6 else 1,
        )

    def params(self, **changes: Any) -> str:
        """The query string for this query with some values changed (defaults left out)."""
        query = replace(self, **changes)
        pairs = {
            "q": query.q,
            "status": query.status,
            "category": query.category,
            "accreditation": query.accreditation,
            "sort": "" if query.sort == "name" else query.sort,
            "dir": "" if query.direction == "asc" else query.direction,
            "page": "" if query.page == 1 else str(query.page),
        }
        return urlencode({k: v for k, v in pairs.items() if v})

    def sorted_by(self, column: str) -> str:
        """The query string a column heading links to: sort by it, or flip the direction if already sorted."""
        direction = "desc" if self.sort == column and self.direction == "asc" else "asc"
        return self.params(sort=column, direction=direction, page=1)


@dataclass(frozen=True)
class Listed:
    """A member on the list with their standing at the time of the request."""

    member: Member
    standing: str
    #: The last day of the grace period (None without a renewal date).
    grace_ends: date | None


@dataclass(frozen=True)
class MemberPage:
    rows: list[Listed]
    total: int
    page: int
    pages: int
    query: MemberQuery


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filtered(query: MemberQuery, standing_expr: Any) -> Any:
    statement = select(Member, standing_expr.label("standing"))
    for word in query.q.split():
        pattern = _like(word.lower())
        statement = statement.where(
            or_(
                func.lower(Member.membership_number).like(pattern, escape="\\"),
                Member.email.like(pattern, escape="\\"),
                func.lower(Member.first_name).like(pattern, escape="\\"),
                func.lower(Member.last_name).like(pattern, escape="\\"),
            )
        )
    if query.status:
        statement = statement.where(standing_expr == query.status)
    if query.category:
        statement = statement.where(Member.category == query.category)
    if query.accreditation:
        statement = statement.where(Member.accreditation == query.accreditation)
    return statement


def _ordered(statement: Any, query: MemberQuery, standing_expr: Any) -> Any:
    columns = (standing_expr, *SORTS["status"]) if query.sort == "status" else SORTS[query.sort]
    first, rest = columns[0], columns[1:]
    first_order = first.desc() if query.direction == "desc" else first.asc()
    return statement.order_by(first_order.nulls_last(), *rest)


def search_members(
    session: Session, query: MemberQuery, *, now: datetime, per_page: int = PER_PAGE
) -> MemberPage:
    """One page of the list. The status filter and sort are by standing at `now` (the clock lapses members;
    nothing rewrites the stored status), computed in SQL so the count and the page are one query each."""
    grace = grace_days(session)
    standing_expr = standing_sql(now, grace_days=grace)
    statement = _filtered(query, standing_expr)
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = min(query.page, pages)
    found = session.execute(
        _ordered(statement, query, standing_expr).limit(per_page).offset((page - 1) * per_page)
    ).all()
    rows = [Listed(member, where, grace_ends(member, grace_days=grace)) for member, where in found]
    return MemberPage(rows, total, page, pages, replace(query, page=page))


def filtered_members(session: Session, query: MemberQuery, *, now: datetime) -> Iterator[Listed]:
    """Every member the query matches (all pages), in its order, with their standing at `now`."""
    grace = grace_days(session)
    standing_expr = standing_sql(now, grace_days=grace)
    statement = _ordered(_filtered(query, standing_expr), query, standing_expr)
    for member, found in session.execute(statement.execution_options(yield_per=1000)):
        yield Listed(member, found, grace_ends(member, grace_days=grace))


# --- CSV export -----------------------------------------------------------------------------------------------

EXPORT_COLUMNS: list[tuple[str, str]] = [
    ("Membership number", "membership_number"),
    ("Email", "email"),
    ("First name", "first_name"),
    ("Last name", "last_name"),
    ("Category", "category"),
    ("Accreditation", "accreditation"),
    ("Status", "status"),
    ("Joined", "joined_on"),
    ("Renewal date", "renewal_on"),
    # Computed at the time of the export (the import ignores it: the stored status is what it reads).
    ("Standing", "standing"),
]


def export_filename(query: MemberQuery, *, today: date) -> str:
    parts = ["members", today.isoformat(), query.status, query.category, query.accreditation]
    name = "-".join(p for p in parts if p)
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:120] + ".csv"


def export_csv(
    session: Session, query: MemberQuery, *, actor: Account | None, now: datetime
) -> tuple[bytes, int]:
    """The members the query matches as CSV (UTF-8 with a BOM, so Excel reads it; the headings are ones the
    import understands), and how many rows. Audit-logged: it is personal data leaving the portal."""
    categories = option_labels(session, "category")
    levels = option_labels(session, "accreditation")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([heading for heading, _ in EXPORT_COLUMNS])
    count = 0
    for listed in filtered_members(session, query, now=now):
        member = listed.member
        row = []
        for _, field in EXPORT_COLUMNS:
            value = STANDINGS[listed.standing] if field == "standing" else getattr(member, field)
            if field == "category":
                value = categories.get(value, value)
            elif field == "accreditation":
                value = levels.get(value, value)
            row.append(csv_safe(value))
        writer.writerow(row)
        count += 1
    audit.record(
        session,
        actor=actor,
        action="members.export_csv",
        details={"rows": count, "filter": query.params(page=1, sort="name", direction="asc")},
        now=now,
    )
    return ("\ufeff" + buffer.getvalue()).encode(), count


# --- privacy: everything held, and erasure --------------------------------------------------------------------

#: Each returns (section name, JSON-able data) for a member's data export. Other domains append their own
#: (registrations, badges, nominations ...) so the export stays complete as the portal grows.
Exporter = Callable[[Session, Member], tuple[str, Any]]
#: Each removes or anonymises what its domain holds about a member being erased, in the same transaction.
Eraser = Callable[[Session, Member, datetime], None]


def member_record(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        **{field: json_value(getattr(member, field)) for field in FIELDS},
        "created_at": member.created_at.isoformat(),
        "updated_at": member.updated_at.isoformat(),
        "erased_at": member.erased_at.isoformat() if member.erased_at else None,
        "left_on": json_value(member.left_on),
        "conduct_version": member.conduct_version,
        "privacy_version": member.privacy_version,
        "consented_at": member.consented_at.isoformat() if member.consented_at else None,
    }


def _linked_account(session: Session, member: Member) -> Account | None:
    return session.scalar(select(Account).where(Account.member_id == member.id))


def export_account(session: Session, member: Member) -> tuple[str, Any]:
    """The member's login, if any: never its password hash, second-factor secret or tokens."""
    account = _linked_account(session, member)
    if account is None:
        return "account", None
    return "account", {
        "email": account.email,
        "name": account.name,
        "roles": [ROLES[r] for r in sorted(account.role_set)],
        "active": account.is_active,
        "created_at": account.created_at.isoformat(),
        "last_login_at": account.last_login_at.isoformat() if account.last_login_at else None,
        "two_step_verification": account.totp_enabled,
    }


def erase_account(session: Session, member: Member, now: datetime) -> None:
    """Disable the member's login, replace its address with a non-routable placeholder, and end its
    sessions, links and second factor. A staff login linked to the member is only unlinked: erasing a roll
    entry must not disable or rewrite a member of staff's own account."""
    account = _linked_account(session, member)
    if account is None:
        return
    if account.is_staff:
        account.member_id = None
        session.flush()
        return
    account.is_active = False
    account.email = f"erased-{account.id}@erased.invalid"
    account.name = ERASED_NAME
    account.password_hash = None
    account.totp_secret_enc = None
    account.totp_enabled_at = None
    for model in (LoginSession, AccountToken, RecoveryCode):
        session.execute(delete(model).where(model.account_id == account.id))
    session.flush()


def erase_uploads(session: Session, member: Member, now: datetime) -> None:
    """Roll files awaiting apply may hold the member's details: drop them (they can be uploaded again)."""
    session.execute(delete(RollUpload))


EXPORTERS: list[Exporter] = [export_account]
ERASERS: list[Eraser] = [erase_account, erase_uploads]


def export_member_data(
    session: Session,
    *,
    member_id: int,
    actor: Account | None,
    now: datetime,
    exporters: Sequence[Exporter] = (),
) -> dict[str, Any]:
    """Everything the portal holds about a member (a subject access request), audit-logged. `exporters` are
    the other domains' sections (the app's `hooks.member_exporters`: applications, payments ...)."""
    member = get_member(session, member_id)
    data: dict[str, Any] = {
        "exported_at": now.isoformat(),
        "member": member_record(member),
        "history": [
            {"at": row.at.isoformat(), "by": row.actor, "source": row.source, "changes": changes}
            for row, changes in reversed(history_entries(session, member.id))
        ],
    }
    for exporter in (*EXPORTERS, *exporters):
        section, value = exporter(session, member)
        data[section] = value
    audit.record(
        session,
        actor=actor,
        action="member.export",
        subject=member.membership_number,
        details={"sections": sorted(data)},
        now=now,
    )
    return data


def claim_erasure(session: Session, member: Member, *, now: datetime) -> bool:
    """Mark the member erased, unless someone else did a moment ago (another worker's job, a second click):
    one conditional UPDATE, so only one of them goes on to erase and audit."""
    claimed = rowcount(
        session.execute(
            update(Member)
            .where(Member.id == member.id, Member.erased_at.is_(None))
            .values(erased_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    session.refresh(member)
    return claimed == 1


def erase_member(
    session: Session,
    *,
    member_id: int,
    actor: Account | None,
    now: datetime,
    erasers: Sequence[Eraser] = (),
) -> Member:
    """Erase a former member's personal data (staff, by hand). Refused for an active member. `erasers` are
    the other domains' (the app's `hooks.member_erasers`)."""
    member = get_member(session, member_id, lock=True)
    if member.status == "active":
        raise MemberError(
            Code.MEMBER_ACTIVE,
            "An active member's data cannot be erased. Mark them lapsed or resigned first.",
        )
    if member.erased_at is not None or not claim_erasure(session, member, now=now):
        raise MemberError(Code.MEMBER_ERASED, "This member's personal data has already been erased.")
    erase_claimed(session, member, actor_label=audit.actor_label(actor), now=now, erasers=erasers)
    audit.record(session, actor=actor, action="member.erase", subject=member.membership_number, now=now)
    return member


def erase_claimed(
    session: Session, member: Member, *, actor_label: str, now: datetime, erasers: Sequence[Eraser] = ()
) -> None:
    """Blank a claimed member (`claim_erasure`). The row and its membership number, category, accreditation,
    status and consent versions stay, so counts stay right; names, e-mail and dates go; the history keeps
    which fields changed and when, not the values; the linked login is disabled. Each eraser does its
    domain's tables first, while the member still holds the e-mail and name it may look for. The caller
    writes the audit entry."""
    for eraser in (*ERASERS, *erasers):
        eraser(session, member, now)
    personal = [v for v in (member.email, member.full_name) if v]
    member.first_name = ""
    member.last_name = ERASED_NAME
    member.email = None
    member.joined_on = None
    member.renewal_on = None
    for row in session.scalars(select(MemberChange).where(MemberChange.member_id == member.id)):
        blank = {field: [None, None] for field in json.loads(row.changes or "{}")}
        row.changes = json.dumps(blank, sort_keys=True)
        if row.source == "self-service" or any(p.lower() in row.actor.lower() for p in personal):
            row.actor = ERASED_NAME
    record_change(
        session,
        member=member,
        changes={"erased_at": [None, now.isoformat()]},
        actor=actor_label,
        source="staff",
        now=now,
    )
    session.flush()


def account_for(session: Session, member: Member) -> Account | None:
    """The login linked to a member, if any (shown on the staff page)."""
    return _linked_account(session, member)
