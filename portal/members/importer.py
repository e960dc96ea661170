"""The roll import. The office's CSV export is read leniently (UTF-8 with or without a BOM, `,` `;` or tab
sniffed from the heading row, Excel's quoting and trailing empty cells, two date styles, headings matched by
name and common synonyms), compared with the roll (new, changed field by field, unchanged, missing, bad
rows), and applied in one transaction with set-based statements, so 5,000 rows take well under a second.

A file with any bad row is never applied: the office fixes its export and uploads it again. Applying the
same file twice changes nothing the second time, because only real differences are written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import PurePath
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.accounts.models import Account
from portal.db import is_postgres, table_of
from portal.errors import Kind, PortalError
from portal.members.errors import Code
from portal.members.models import STATUSES, Member, MemberChange, RollUpload
from portal.members.service import FIELDS, MAX_LENGTHS, json_value, option_labels
from portal.text import not_csv
from portal.web.forms import EMAIL_RE

MAX_BYTES = 5 * 1024 * 1024
#: An uploaded file not applied within this time is deleted (it holds personal data).
UPLOAD_TTL = timedelta(days=1)
IMPORT_LOCK = 7262101

#: Accepted headings for each field, compared after lower-casing and turning punctuation into spaces
#: ("E-mail Address" → "e mail address", "Membership No." → "membership no").
HEADINGS: dict[str, tuple[str, ...]] = {
    "membership_number": (
        "membership number", "membership no", "membership num", "membership #", "membership id",
        "member number", "member no", "member num", "member #", "member id", "number", "no",
    ),
    "email": ("email", "e mail", "email address", "e mail address", "emailaddress", "mail"),
    "first_name": ("first name", "firstname", "forename", "forenames", "given name", "given names"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "category": (
        "category", "membership category", "member category", "membership type", "member type", "type",
        "membership grade", "grade",
    ),
    "accreditation": ("accreditation", "accreditation level", "accreditation status", "ipt accreditation"),
    "status": ("status", "membership status", "member status"),
    "joined_on": (
        "joined", "joined on", "date joined", "join date", "joining date", "joined date", "start date",
        "member since",
    ),
    "renewal_on": (
        "renewal", "renewal date", "renewal due", "renews", "renews on", "renewal on", "due date", "expiry",
        "expiry date", "expires", "expires on",
    ),
}  # fmt: skip
HEADING_FIELD = {heading: name for name, headings in HEADINGS.items() for heading in headings}
REQUIRED = ("membership_number", "email", "first_name", "last_name", "category")
STATUS_WORDS = {**{s: s for s in STATUSES}, "current": "active", "expired": "lapsed"}
DELIMITERS = (",", ";", "\t")
ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
MIDNIGHT = re.compile(r"\s+0?0:00(:00)?$")
FORMULA_GUARD = re.compile(r"^'(?=[=+\-@])")


#: Every reason a file or a row is refused (the `code` of a Problem), as docs/members-import.md lists them.
PROBLEM_CODES: dict[str, str] = {
    "not_csv": "The file is a workbook, a PDF, an image or another file that is not CSV text.",
    "not_utf8": "The file is not UTF-8 (or UTF-16) text.",
    "empty_file": "The file has no heading row.",
    "missing_column": "A required column has no heading.",
    "duplicate_column": "Two headings name the same field.",
    "missing_number": "The membership number is empty.",
    "missing_email": "The e-mail address is empty.",
    "bad_email": "The e-mail address is not one.",
    "missing_name": "The first or last name is empty.",
    "too_long": "A number or name is longer than allowed.",
    "duplicate_number": "The membership number is on an earlier line too.",
    "duplicate_email": "The e-mail address is on an earlier line too.",
    "email_taken": "The e-mail address belongs to a member who is not in the file.",
    "missing_category": "The category is empty.",
    "unknown_category": "The category is not one of the configured categories.",
    "unknown_accreditation": "The accreditation is not one of the configured levels.",
    "missing_status": "The status column is there but this row's status is empty.",
    "unknown_status": "The status is not active, lapsed or resigned.",
    "bad_date": "A date is neither YYYY-MM-DD nor DD/MM/YYYY, or no such day exists.",
}


class RollImportError(PortalError):
    """`code` is one of: too_large, empty_file, upload_not_found, bad_rows, stale_preview, conflict."""


@dataclass(frozen=True)
class Problem:
    """A reason a file or row cannot be imported. `line` is the file's line number (1 is the heading row;
    0 for the file as a whole)."""

    line: int
    code: str
    message: str


@dataclass(frozen=True)
class NewMember:
    line: int
    values: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.values['first_name']} {self.values['last_name']}"


@dataclass(frozen=True)
class ChangedMember:
    line: int
    member_id: int
    number: str
    name: str
    #: {field: [before, after]} as JSON values, as the history stores them.
    changes: dict[str, list[Any]]
    #: {field: after} as Python values, as written.
    after: dict[str, Any]


@dataclass(frozen=True)
class MissingMember:
    member_id: int
    number: str
    name: str


@dataclass
class ParsedRoll:
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    file_errors: list[Problem] = field(default_factory=list)
    row_errors: list[Problem] = field(default_factory=list)
    data_rows: int = 0
    delimiter: str = ","
    #: Every usable membership number in the file, including those on rows with other problems.
    numbers: set[str] = field(default_factory=set)
    #: Each row's e-mail address as the file has it (stored lower-case), for messages: line -> address.
    typed_emails: dict[int, str] = field(default_factory=dict)


@dataclass
class ImportPlan:
    """What applying a file would do; the preview shows it and `apply_import` writes exactly it."""

    sha256: str
    filename: str
    data_rows: int
    columns: dict[str, str]
    ignored_columns: list[str]
    file_errors: list[Problem]
    row_errors: list[Problem]
    new: list[NewMember]
    changed: list[ChangedMember]
    unchanged: int
    #: Active members on the roll but not in the file: marked lapsed when the person applying asks.
    missing: list[MissingMember]
    #: Rows for members whose personal data was erased: never re-filled from a file, so skipped.
    erased: list[tuple[int, str]]

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.row_errors

    @property
    def problems(self) -> list[Problem]:
        return [*self.file_errors, *self.row_errors]

    @property
    def digest(self) -> str:
        """A fingerprint of the difference itself: the apply form carries it, so what is applied is what
        was previewed even if the roll changed in between."""
        body = json.dumps(
            [
                self.sha256,
                [(n.line, sorted((k, json_value(v)) for k, v in n.values.items())) for n in self.new],
                [(c.member_id, sorted(c.changes.items())) for c in self.changed],
                [m.member_id for m in self.missing],
            ],
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class ImportResult:
    added: int
    changed: int
    unchanged: int
    lapsed: int
    skipped_erased: int
    history_rows: int


# --- reading the file ----------------------------------------------------------------------------------------


def normalise_heading(heading: str) -> str:
    return re.sub(r"[^a-z0-9#]+", " ", heading.lower()).strip()


def decode(content: bytes) -> tuple[str | None, Problem | None]:
    """The file as text: UTF-8 (with or without a BOM), or UTF-16 with a BOM (Excel's "Unicode text")."""
    refused = not_csv(content)
    if refused is not None:
        return None, Problem(0, "not_csv", refused)
    try:
        if content.startswith((b"\xff\xfe", b"\xfe\xff")):
            return content.decode("utf-16"), None
        return content.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        return None, Problem(
            line, "not_utf8", f"Line {line} is not UTF-8 text. In Excel use Save As → “CSV UTF-8”."
        )


def _sniff(first_line: str) -> str:
    """The delimiter under which the heading row has the most headings we know (then the most cells)."""

    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        known = sum(1 for c in cells if normalise_heading(c) in HEADING_FIELD)
        return known, len(cells)

    return max(DELIMITERS, key=score)


def _clean(value: str) -> str:
    return FORMULA_GUARD.sub("", value.replace("\xa0", " ").strip())


def parse_date(raw: str) -> date | None:
    """YYYY-MM-DD or DD/MM/YYYY (a midnight time Excel sometimes adds is ignored). Raises ValueError."""
    raw = MIDNIGHT.sub("", raw)
    if match := ISO_DATE.match(raw):
        year, month, day = (int(g) for g in match.groups())
    elif match := UK_DATE.match(raw):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise ValueError(raw)
    return date(year, month, day)


def _lookup(options: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased code or label → code."""
    found = {code.lower(): code for code in options}
    found.update({label.lower(): code for code, label in options.items()})
    found.update({code.replace("_", " ").lower(): code for code in options})
    return found


def read_roll(content: bytes, *, categories: Mapping[str, str], levels: Mapping[str, str]) -> ParsedRoll:
    """Every row of the file checked on its own and against the other rows (not yet against the roll)."""
    parsed = ParsedRoll()
    text_value, problem = decode(content)
    if problem is not None or text_value is None:
        parsed.file_errors.append(problem or Problem(0, "not_utf8", "The file is not text."))
        return parsed
    reader_lines = io.StringIO(text_value, newline="")
    first_line = next((line for line in text_value.splitlines() if line.strip()), "")
    if not first_line:
        parsed.file_errors.append(Problem(0, "empty_file", "The file is empty."))
        return parsed
    parsed.delimiter = _sniff(first_line)
    reader = csv.reader(reader_lines, delimiter=parsed.delimiter)
    records: list[tuple[int, list[str]]] = []
    try:
        while True:
            line = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            if any(cell.strip() for cell in record):
                records.append((line, record))
    except csv.Error as exc:
        parsed.file_errors.append(Problem(reader.line_num, "not_csv", f"Line {reader.line_num}: {exc}."))
        return parsed
    (heading_line, headings), body = records[0], records[1:]
    columns: dict[str, int] = {}
    for index, heading in enumerate(headings):
        name = HEADING_FIELD.get(normalise_heading(heading))
        if name is None:
            if heading.strip():
                parsed.ignored_columns.append(heading.strip())
        elif name in columns:
            parsed.file_errors.append(
                Problem(
                    heading_line,
                    "duplicate_column",
                    f"Two columns hold the {FIELDS[name].lower()}: “{headings[columns[name]].strip()}” "
                    f"and “{heading.strip()}”.",
                )
            )
        else:
            columns[name] = index
            parsed.columns[name] = heading.strip()
    missing = [FIELDS[name] for name in REQUIRED if name not in columns]
    if missing:
        parsed.file_errors.append(
            Problem(
                heading_line, "missing_column", f"The heading row has no column for: {', '.join(missing)}."
            )
        )
    if parsed.file_errors:
        return parsed
    parsed.data_rows = len(body)
    checker = _RowChecker(columns, _lookup(categories), _lookup(levels))
    for line, record in body:
        values, errors = checker.check(line, record)
        if errors:
            parsed.row_errors.extend(errors)
        else:
            parsed.rows.append((line, values))
    parsed.numbers = set(checker.numbers)
    parsed.typed_emails = checker.typed
    return parsed


class _RowChecker:
    def __init__(self, columns: dict[str, int], categories: dict[str, str], levels: dict[str, str]) -> None:
        self.columns = columns
        self.categories = categories
        self.levels = levels
        self.numbers: dict[str, int] = {}
        self.emails: dict[str, int] = {}
        self.typed: dict[int, str] = {}

    def check(self, line: int, record: list[str]) -> tuple[dict[str, Any], list[Problem]]:
        cells = {name: _clean(record[i]) if i < len(record) else "" for name, i in self.columns.items()}
        values: dict[str, Any] = {}
        errors: list[Problem] = []

        def bad(code: str, message: str) -> None:
            errors.append(Problem(line, code, message))

        number = cells["membership_number"]
        if not number:
            bad("missing_number", "The membership number is empty.")
        elif len(number) > MAX_LENGTHS["membership_number"]:
            bad("too_long", "The membership number is longer than 40 characters.")
        elif number in self.numbers:
            bad("duplicate_number", f"Membership number {number} is also on line {self.numbers[number]}.")
        else:
            self.numbers[number] = line
        values["membership_number"] = number

        typed = cells["email"]
        email = typed.lower()
        self.typed[line] = typed
        if not email:
            bad("missing_email", "The e-mail address is empty.")
        elif len(email) > MAX_LENGTHS["email"] or not EMAIL_RE.match(email):
            bad("bad_email", f"“{typed}” is not an e-mail address.")
        elif email in self.emails:
            bad("duplicate_email", f"The e-mail address {typed} is also on line {self.emails[email]}.")
        else:
            self.emails[email] = line
        values["email"] = email

        for name in ("first_name", "last_name"):
            if not cells[name]:
                bad("missing_name", f"The {FIELDS[name].lower()} is empty.")
            elif len(cells[name]) > MAX_LENGTHS[name]:
                bad("too_long", f"The {FIELDS[name].lower()} is longer than 100 characters.")
            values[name] = cells[name]

        category = cells["category"]
        if not category:
            bad("missing_category", "The category is empty.")
        elif category.lower() not in self.categories:
            bad("unknown_category", f"“{category}” is not one of the categories.")
        else:
            values["category"] = self.categories[category.lower()]

        if "accreditation" in cells:
            level = cells["accreditation"] or "none"
            if level.lower() not in self.levels:
                bad("unknown_accreditation", f"“{level}” is not one of the accreditation levels.")
            else:
                values["accreditation"] = self.levels[level.lower()]

        if "status" in cells:
            status = STATUS_WORDS.get(cells["status"].lower())
            if not cells["status"]:
                bad("missing_status", "The status is empty.")
            elif status is None:
                bad("unknown_status", f"“{cells['status']}” is not a status (active, lapsed or resigned).")
            values["status"] = status

        for name in ("joined_on", "renewal_on"):
            if name in cells:
                try:
                    values[name] = parse_date(cells[name]) if cells[name] else None
                except ValueError:
                    bad(
                        "bad_date",
                        f"{FIELDS[name]} “{cells[name]}” is not a date (YYYY-MM-DD or DD/MM/YYYY).",
                    )
        return values, errors


# --- comparing with the roll -----------------------------------------------------------------------------------

_SNAPSHOT = (
    Member.id,
    Member.membership_number,
    Member.email,
    Member.first_name,
    Member.last_name,
    Member.category,
    Member.accreditation,
    Member.status,
    Member.joined_on,
    Member.renewal_on,
    Member.erased_at,
)


def plan_import(session: Session, *, content: bytes, filename: str = "") -> ImportPlan:
    """Read the file and compare it with the roll, loaded once: nothing is written."""
    parsed = read_roll(
        content, categories=option_labels(session, "category"), levels=option_labels(session, "accreditation")
    )
    plan = ImportPlan(
        sha256=hashlib.sha256(content).hexdigest(),
        filename=filename,
        data_rows=parsed.data_rows,
        columns=parsed.columns,
        ignored_columns=parsed.ignored_columns,
        file_errors=parsed.file_errors,
        row_errors=list(parsed.row_errors),
        new=[],
        changed=[],
        unchanged=0,
        missing=[],
        erased=[],
    )
    if plan.file_errors:
        return plan
    existing = {row.membership_number: row for row in session.execute(select(*_SNAPSHOT))}
    by_email = {row.email: row for row in existing.values() if row.email}
    # Bad rows count too: a member whose row has a bad date is in the file, not missing from it.
    in_file = parsed.numbers
    for line, values in parsed.rows:
        number = values["membership_number"]
        holder = by_email.get(values["email"])
        if (
            holder is not None
            and holder.membership_number != number
            and holder.membership_number not in in_file
        ):
            plan.row_errors.append(
                Problem(
                    line,
                    "email_taken",
                    f"The e-mail address {parsed.typed_emails.get(line, values['email'])} belongs to member "
                    f"{holder.membership_number}, "
                    "who is not in this file.",
                )
            )
            continue
        current = existing.get(number)
        if current is None:
            plan.new.append(NewMember(line, values))
        elif current.erased_at is not None:
            plan.erased.append((line, number))
        else:
            after = {k: v for k, v in values.items() if k != "membership_number" and getattr(current, k) != v}
            if not after:
                plan.unchanged += 1
                continue
            changes = {k: [json_value(getattr(current, k)), json_value(v)] for k, v in after.items()}
            plan.changed.append(
                ChangedMember(
                    line, current.id, number, f"{values['first_name']} {values['last_name']}", changes, after
                )
            )
    plan.row_errors.sort(key=lambda p: p.line)
    plan.missing = [
        MissingMember(row.id, row.membership_number, f"{row.first_name} {row.last_name}")
        for row in sorted(existing.values(), key=lambda r: (r.last_name, r.first_name, r.id))
        if row.membership_number not in in_file and row.status == "active" and row.erased_at is None
    ]
    return plan


# --- applying ---------------------------------------------------------------------------------------------------


def _lock(session: Session) -> None:
    """One import at a time (SQLite's single writer already gives this)."""
    if is_postgres(session):
        session.execute(text(f"SELECT pg_advisory_xact_lock({IMPORT_LOCK})"))


def apply_import(
    session: Session,
    *,
    content: bytes,
    filename: str,
    actor: Account | None,
    lapse_missing: bool,
    now: datetime,
    expected_digest: str | None = None,
    actor_label: str | None = None,
) -> tuple[ImportPlan, ImportResult]:
    """Write the plan in the caller's transaction: bulk inserts and updates, one history row per member
    touched, one audit entry with the counts. Refuses a file with any bad row."""
    _lock(session)
    plan = plan_import(session, content=content, filename=filename)
    if not plan.ok:
        count = len(plan.problems)
        raise RollImportError(
            Code.BAD_ROWS,
            f"The file has {count} problem{'s' if count != 1 else ''}; nothing was imported.",
            kind=Kind.INVALID,
        )
    if expected_digest is not None and expected_digest != plan.digest:
        raise RollImportError(
            Code.STALE_PREVIEW,
            "The roll changed since this preview was made. Check the new preview and apply again.",
            kind=Kind.CONFLICT,
        )
    label = actor_label or audit.actor_label(actor)
    history: list[dict[str, Any]] = []

    def note(member_id: int, changes: dict[str, list[Any]]) -> None:
        history.append(
            {
                "member_id": member_id,
                "at": now,
                "actor": label[:300],
                "source": "import",
                "changes": json.dumps(changes, ensure_ascii=False, sort_keys=True),
            }
        )

    try:
        if plan.new:
            rows = [
                {
                    "accreditation": "none",
                    "status": "active",
                    "joined_on": None,
                    "renewal_on": None,
                    **n.values,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in plan.new
            ]
            # A plain executemany (no RETURNING, which psycopg must parse as one huge statement), then one
            # query for the new ids.
            session.execute(insert(table_of(Member)), rows)
            numbers = {row["membership_number"] for row in rows}
            ids = {
                number: member_id
                for member_id, number in session.execute(select(Member.id, Member.membership_number))
                if number in numbers
            }
            for row in rows:
                created = {f: [None, json_value(row[f])] for f in FIELDS if row[f] is not None}
                note(ids[row["membership_number"]], created)
        if plan.changed:
            # Addresses may move between members in one file: clear them first so no row clashes midway.
            moving = [c.member_id for c in plan.changed if "email" in c.after]
            if moving:
                session.execute(
                    update(table_of(Member)).where(table_of(Member).c.id.in_(moving)).values(email=None)
                )
            session.execute(
                update(Member), [{"id": c.member_id, **c.after, "updated_at": now} for c in plan.changed]
            )
            for c in plan.changed:
                note(c.member_id, c.changes)
        lapsed: list[int] = []
        if lapse_missing and plan.missing:
            table = table_of(Member)
            lapsed = list(
                session.scalars(
                    update(table)
                    .where(table.c.id.in_([m.member_id for m in plan.missing]), table.c.status == "active")
                    .values(status="lapsed", updated_at=now)
                    .returning(table.c.id)
                )
            )
            for member_id in lapsed:
                note(member_id, {"status": ["active", "lapsed"]})
        if history:
            session.execute(insert(table_of(MemberChange)), history)
        session.flush()
    except IntegrityError:
        raise RollImportError(
            Code.CONFLICT,
            "Another change to the roll clashed with this import. Upload the file again.",
            kind=Kind.CONFLICT,
        ) from None
    result = ImportResult(
        added=len(plan.new),
        changed=len(plan.changed),
        unchanged=plan.unchanged,
        lapsed=len(lapsed),
        skipped_erased=len(plan.erased),
        history_rows=len(history),
    )
    audit.record(
        session,
        actor=actor,
        action="members.import",
        subject=filename[:300],
        details={
            "sha256": plan.sha256,
            "rows": plan.data_rows,
            "added": result.added,
            "changed": result.changed,
            "unchanged": result.unchanged,
            "lapsed": result.lapsed,
            "skipped_erased": result.skipped_erased,
        },
        now=now,
    )
    session.expire_all()
    return plan, result


# --- uploads kept for the preview ------------------------------------------------------------------------------


def safe_filename(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name
    return re.sub(r"[^\w .,()+-]+", "_", base).strip()[:200] or "roll.csv"


def store_upload(
    session: Session, *, content: bytes, filename: str, account_id: int | None, now: datetime
) -> RollUpload:
    """Keep an uploaded file, keyed by its SHA-256, until it is applied (or a day has passed)."""
    if len(content) > MAX_BYTES:
        raise RollImportError(Code.TOO_LARGE, "The file is larger than 5 MB.", kind=Kind.TOO_LARGE)
    if not content.strip():
        raise RollImportError(Code.EMPTY_FILE, "The file is empty.")
    session.execute(delete(RollUpload).where(RollUpload.uploaded_at < now - UPLOAD_TTL))
    digest = hashlib.sha256(content).hexdigest()
    upload = session.scalar(select(RollUpload).where(RollUpload.sha256 == digest))
    if upload is None:
        upload = RollUpload(sha256=digest, content=content)
        session.add(upload)
    upload.filename = safe_filename(filename)
    upload.uploaded_at = now
    upload.uploaded_by = account_id
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same file uploaded at the same moment by someone else: theirs will do
        upload = session.scalars(select(RollUpload).where(RollUpload.sha256 == digest)).one()
    return upload


def load_upload(session: Session, *, sha256: str, now: datetime) -> RollUpload:
    found = re.fullmatch(r"[0-9a-f]{64}", sha256)
    upload = session.scalar(select(RollUpload).where(RollUpload.sha256 == sha256)) if found else None
    if upload is None or upload.uploaded_at < now - UPLOAD_TTL:
        raise RollImportError(
            Code.UPLOAD_NOT_FOUND,
            "This upload has been applied already or has expired. Upload the file again.",
            kind=Kind.NOT_FOUND,
        )
    return upload


def apply_upload(
    session: Session, *, sha256: str, actor: Account, lapse_missing: bool, expected_digest: str, now: datetime
) -> tuple[ImportPlan, ImportResult]:
    """Apply a previewed upload, then forget the file."""
    _lock(session)
    upload = load_upload(session, sha256=sha256, now=now)
    plan, result = apply_import(
        session,
        content=upload.content,
        filename=upload.filename,
        actor=actor,
        lapse_missing=lapse_missing,
        now=now,
        expected_digest=expected_digest,
    )
    session.execute(delete(RollUpload).where(RollUpload.sha256 == sha256))
    return plan, result


# --- the difference as text (the command line) ----------------------------------------------------------------


def describe(plan: ImportPlan) -> list[str]:
    """The plan as lines of text: every new, changed and missing member, and every problem with its line."""
    lines = [f"File {plan.filename}: {plan.data_rows} rows (SHA-256 {plan.sha256})."]
    if plan.ignored_columns:
        lines.append(f"Ignored columns: {', '.join(plan.ignored_columns)}")
    if plan.problems:
        lines.append(f"Problems: {len(plan.problems)}")
        lines += [f"  line {p.line} [{p.code}] {p.message}" for p in plan.problems]
        return lines
    lines.append(f"New members: {len(plan.new)}")
    lines += [f"  + {n.values['membership_number']} {n.name} <{n.values['email']}>" for n in plan.new]
    lines.append(f"Changed members: {len(plan.changed)}")
    for c in plan.changed:
        parts = "; ".join(f"{FIELDS[k]}: {v[0]} → {v[1]}" for k, v in c.changes.items())
        lines.append(f"  ~ {c.number} {c.name}: {parts}")
    lines.append(f"Unchanged: {plan.unchanged}")
    lines.append(f"Active members not in the file: {len(plan.missing)} (marked lapsed with --lapse-missing)")
    lines += [f"  - {m.number} {m.name}" for m in plan.missing]
    if plan.erased:
        lines.append(f"Skipped, personal data erased: {len(plan.erased)}")
        lines += [f"  line {line}: member {number}" for line, number in plan.erased]
    return lines
