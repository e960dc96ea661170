"""The rules of the website's pages: addresses from the tree, saves that keep a revision, restoring one, the
menu, and what a visitor may see (published pages only; staff see drafts too).

A page's address is its `path`: the slugs from the top of the tree down. The home page is the top-level page
whose slug is `home`; its address is `/` and its children sit at the top (`/contact-us`). A path is unique
(the database holds it), its first segment may not be one the portal's own pages use (the caller passes
them as `reserved`, read from the app's routes), and moving or renaming a page moves its whole branch.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import audit
from portal.db import rowcount
from portal.errors import Conflict, Invalid, NotFound
from portal.search import service as search
from portal.site.errors import Code
from portal.site.models import KINDS, STATUSES, Attachment, Page, PageRevision, Redirect
from portal.society.models import Society

HOME_SLUG = "home"
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 80
MAX_DEPTH = 4
#: The portal's own pages a menu entry may lead to: a route name (and a query), with what the editor calls it.
LINK_ROUTES: dict[str, str] = {
    "events:calendar": "Events calendar",
    "events:calendar?kind=meeting": "Events calendar: meetings (the National Meeting)",
    "events:calendar?kind=training": "Events calendar: training",
    "events:calendar?kind=regional": "Events calendar: regional events",
    "events:regional": "Regional meetings (upcoming, by region)",
    "events:archive": "Past events (the archive, by year)",
    "training:index": "Training (the society's courses)",
    "training:cpd": "External CPD courses",
    "contact:form": "Contact Us (the form that reaches the office)",
    "site:news": "News (the society's news posts)",
    "team:index": "Meet the Team (the committees and their people)",
    "complaints:page": "Complaints (the procedure and its form)",
    "membership:options": "Membership Options (drawn from the categories and their fees)",
    "membership:apply": "Register as a Member (the application form)",
    "accreditation:standards": "Accreditation Standards (drawn from the levels and their standards)",
    "register:index": "The public register of accredited practitioners (search, removals, verify)",
    "register:directory": "Find a Therapist (the practice profiles registrants publish)",
    "accounts:login": "Members' login",
    "me:account": "My account (members)",
    "elections:index": "Elections (members nominate and vote)",
    "elections:archive": "Election results",
}
_PATH_LINK = re.compile(r"^/(?!/)[A-Za-z0-9\-._~/?=&%#+]*$")
_WEB_LINK = re.compile(r"^https://[^\s<>\"']+$")
#: Revision fields a save records, with what the history calls them.
REVISION_FIELDS = {"title": "Title", "slug": "Address", "summary": "Summary", "body": "Text", "link": "Link",
                   "status": "Status"}  # fmt: skip


@dataclass(frozen=True)
class PageValues:
    """What an editor sets on a page."""

    title: str
    slug: str
    parent_id: int | None = None
    position: int | None = None
    summary: str = ""
    body: str = ""
    link: str = ""
    status: str = "draft"
    in_menu: bool = True
    kind: str = "page"


def slugify(title: str) -> str:
    """A slug from a title: 'Mission & Vision' -> 'mission-vision'."""
    text = re.sub(r"[^a-z0-9]+", "-", title.lower().replace("'", "").replace("\u2019", ""))
    return text.strip("-")[:MAX_SLUG].strip("-")


def check_link(link: str) -> None:
    """A menu entry's target: one of LINK_ROUTES, an address on this site (`/events/...`), or an https one."""
    if not link or link in LINK_ROUTES or _PATH_LINK.match(link) or _WEB_LINK.match(link):
        return
    raise Invalid(
        Code.BAD_LINK,
        "A link is one of the portal's pages listed, an address on this site starting with / "
        "(e.g. /events/national-meeting), or a full address starting with https://.",
    )


def link_route(link: str) -> tuple[str, str] | None:
    """(route name, query) for a link to one of the portal's own pages; None for an address."""
    if link not in LINK_ROUTES:
        return None
    name, _, query = link.partition("?")
    return name, query


# --- reading -----------------------------------------------------------------------------------------------------


def get_page(session: Session, page_id: int) -> Page:
    found = session.get(Page, page_id)
    if found is None:
        raise NotFound("There is no such page.")
    return found


def page_at(session: Session, path: str, *, include_drafts: bool) -> Page:
    """The page at `/<path>`: drafts only for staff; a menu link has no page of its own."""
    found = session.scalar(select(Page).where(Page.path == path.strip("/")))
    if found is None or found.link or (not include_drafts and not found.is_published):
        raise NotFound("There is nothing at this address.")
    return found


def link_at(session: Session, path: str) -> str | None:
    """The link a published menu entry at `/<path>` leads to (None when there is no such entry): its address is
    in the menu's tree, so an old bookmark of it, or an old-site redirect made before it became a link, still
    arrives somewhere."""
    found = session.scalar(select(Page).where(Page.path == path.strip("/")))
    if found is None or not found.link or not found.is_published:
        return None
    return found.link


def home_page(session: Session, *, include_drafts: bool = False) -> Page | None:
    found = session.scalar(select(Page).where(Page.path == ""))
    if found is None or (not include_drafts and not found.is_published):
        return None
    return found


def all_pages(session: Session) -> list[Page]:
    return list(session.scalars(select(Page).order_by(Page.parent_id, Page.position, Page.id)))


@dataclass
class Node:
    """A page in the tree, for the menu and the staff list."""

    id: int
    title: str
    path: str
    link: str
    status: str
    in_menu: bool
    depth: int
    children: list[Node] = field(default_factory=list)


def tree(session: Session, *, include_drafts: bool, menu_only: bool = False) -> list[Node]:
    """The pages as a tree, siblings in order. A draft (and so its branch) is left out unless `include_drafts`."""
    rows = session.execute(
        select(Page.id, Page.parent_id, Page.title, Page.path, Page.link, Page.status, Page.in_menu).order_by(
            Page.position, Page.id
        )
    ).all()
    by_parent: dict[int | None, list[Any]] = {}
    for row in rows:
        by_parent.setdefault(row.parent_id, []).append(row)

    def build(parent_id: int | None, depth: int) -> list[Node]:
        nodes = []
        for row in by_parent.get(parent_id, []):
            if not include_drafts and row.status != "published":
                continue
            if menu_only and not row.in_menu:
                continue
            node = Node(row.id, row.title, row.path, row.link, row.status, row.in_menu, depth)
            node.children = build(row.id, depth + 1)
            nodes.append(node)
        return nodes

    return build(None, 0)


def freshness(session: Session, columns: Sequence[str]) -> tuple[tuple[Any, ...], dict[str, str] | None]:
    """The tree's version and the society row's `columns` (None before first-run setup), in one statement:
    every page's chrome needs both. The version changes whenever the tree could have: a page added or deleted
    (the count), any save (each takes the next revision number, so the sum moves), and the time of the latest."""
    version = select(
        func.count(Page.id).label("pages"),
        func.sum(Page.revision).label("revisions"),
        func.max(Page.updated_at).label("latest"),
    ).subquery()
    society = Society.__table__
    row = session.execute(
        select(version, *(society.c[name] for name in columns), society.c.id.label("society_id"))
        .select_from(version)
        .outerjoin(society, society.c.id == 1)
    ).one()
    found = None if row.society_id is None else {name: getattr(row, name) or "" for name in columns}
    return (row.pages, row.revisions, row.latest), found


def flatten(nodes: Iterable[Node]) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        out.append(node)
        out.extend(flatten(node.children))
    return out


def ancestors(session: Session, page: Page) -> list[Page]:
    """The pages above this one, from the top down."""
    chain: list[Page] = []
    parent_id = page.parent_id
    while parent_id is not None and len(chain) <= MAX_DEPTH:
        parent = session.get(Page, parent_id)
        if parent is None:
            break
        chain.append(parent)
        parent_id = parent.parent_id
    return chain[::-1]


def children(session: Session, page: Page, *, include_drafts: bool) -> list[Page]:
    query = select(Page).where(Page.parent_id == page.id).order_by(Page.position, Page.id)
    if not include_drafts:
        query = query.where(Page.status == "published")
    return list(session.scalars(query))


def revisions(session: Session, page_id: int) -> list[PageRevision]:
    return list(
        session.scalars(
            select(PageRevision).where(PageRevision.page_id == page_id).order_by(PageRevision.number.desc())
        )
    )


def get_revision(session: Session, page_id: int, number: int) -> PageRevision:
    found = session.scalar(
        select(PageRevision).where(PageRevision.page_id == page_id, PageRevision.number == number)
    )
    if found is None:
        raise NotFound("This page has no such version.", Code.NO_SUCH_REVISION)
    return found


def attachments(session: Session, page_id: int) -> list[Attachment]:
    return list(
        session.scalars(select(Attachment).where(Attachment.page_id == page_id).order_by(Attachment.id))
    )


# --- what search finds ------------------------------------------------------------------------------------------


def search_document(page: Page) -> search.Document | None:
    """The page as search finds it: a published page with a text of its own (a menu link has none)."""
    if page.link or not page.is_published:
        return None
    words = " ".join(part for part in (page.summary, search.plain_text(page.body)) if part)
    return search.Document(
        kind="page",
        key=str(page.id),
        title=page.title,
        body=words,
        url=page_address(page.path),
        date=None,
        updated_at=page.updated_at,
    )


def search_documents(session: Session) -> Iterator[search.Document]:
    """Every published page: the site's search source."""
    for found in session.scalars(select(Page).where(Page.status == "published", Page.link == "")):
        document = search_document(found)
        if document is not None:
            yield document


def page_address(path: str) -> str:
    return "/" + path


def _index(session: Session, page: Page, *, branch: bool = False) -> None:
    search.keep(session, kind="page", key=str(page.id), document=search_document(page))
    if branch:
        for child in session.scalars(select(Page).where(Page.parent_id == page.id)):
            _index(session, child, branch=True)


# --- the differences between two versions ----------------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    #: "same", "added", "removed" or "skipped" (a run of unchanged lines, `text` says how many).
    kind: str
    text: str
    old_number: int | None = None
    new_number: int | None = None


@dataclass(frozen=True)
class FieldDiff:
    name: str
    label: str
    lines: list[DiffLine]


def diff_lines(old: str, new: str, *, context: int = 2) -> list[DiffLine]:
    """The lines of `new` against `old`: removed and added lines, with `context` unchanged lines around them."""
    a, b = old.splitlines(), new.splitlines()
    out: list[DiffLine] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            run = list(range(i2 - i1))
            shown = run if len(run) <= 2 * context + 1 else None
            if shown is None:
                head = run[:context] if out else []
                tail = run[-context:] if i2 < len(a) else []
                skipped = len(run) - len(head) - len(tail)
                for k in head:
                    out.append(DiffLine("same", a[i1 + k], i1 + k + 1, j1 + k + 1))
                out.append(DiffLine("skipped", f"{skipped} unchanged line{'s' if skipped != 1 else ''}"))
                for k in tail:
                    out.append(DiffLine("same", a[i1 + k], i1 + k + 1, j1 + k + 1))
            else:
                for k in shown:
                    out.append(DiffLine("same", a[i1 + k], i1 + k + 1, j1 + k + 1))
            continue
        for k in range(i1, i2):
            out.append(DiffLine("removed", a[k], old_number=k + 1))
        for k in range(j1, j2):
            out.append(DiffLine("added", b[k], new_number=k + 1))
    return out


def diff(old: PageRevision | None, new: PageRevision) -> list[FieldDiff]:
    """What changed from `old` to `new`, field by field (every field when `old` is None: the first version)."""
    out = []
    for name, label in REVISION_FIELDS.items():
        before = "" if old is None else str(getattr(old, name))
        after = str(getattr(new, name))
        if before != after:
            if name == "status":
                before, after = STATUSES.get(before, before), STATUSES.get(after, after)
            out.append(FieldDiff(name, label, diff_lines(before, after)))
    return out


# --- writing -----------------------------------------------------------------------------------------------------


def _path_for(session: Session, *, slug: str, parent_id: int | None) -> str:
    if parent_id is None:
        return "" if slug == HOME_SLUG else slug
    parent = get_page(session, parent_id)
    return slug if parent.path == "" else f"{parent.path}/{slug}"


def _check_slug(slug: str) -> None:
    if not slug:
        raise Invalid(
            Code.BAD_SLUG, "Enter the page's address (e.g. mission-vision), or a title to make one from."
        )
    if len(slug) > MAX_SLUG or not SLUG_RE.match(slug):
        raise Invalid(
            Code.BAD_SLUG,
            f"An address is lower-case letters a to z, digits and single hyphens between them (e.g. "
            f"mission-vision), at most {MAX_SLUG} characters.",
        )


@contextlib.contextmanager
def _one_address(path: str) -> Iterator[None]:
    """Two saves racing for one address: the unique path decides, and the loser hears why (the checks before
    are only the friendly answer for the usual case)."""
    try:
        yield
    except IntegrityError:
        where = "/" if path == "" else f"/{path}"
        raise Conflict(
            Code.PATH_TAKEN, f"Another page was just saved at {where}: choose another address.", path=path
        ) from None


def _check_path(session: Session, path: str, *, page_id: int | None, reserved: Collection[str]) -> None:
    first = path.split("/", 1)[0]
    if path and first in reserved:
        raise Invalid(
            Code.RESERVED_SLUG,
            f"The address /{path} would hide the portal's own pages under /{first}: choose another address.",
            path=path,
        )
    taken = session.scalar(select(Page.id).where(Page.path == path, Page.id != (page_id or 0)))
    if taken is not None:
        where = "/" if path == "" else f"/{path}"
        raise Conflict(
            Code.PATH_TAKEN, f"Another page is already at {where}: choose another address.", path=path
        )


def _check_parent(session: Session, parent_id: int | None, *, page_id: int | None) -> int:
    """The depth a page under `parent_id` would have; refuses a parent inside the page's own branch."""
    depth, seen = 0, parent_id
    while seen is not None:
        if seen == page_id:
            raise Invalid(
                Code.BAD_PARENT, "A page cannot sit under itself or under one of its own sub-pages."
            )
        parent = session.get(Page, seen)
        if parent is None:
            raise Invalid(Code.BAD_PARENT, "Choose a page from the list to put this one under.")
        depth += 1
        seen = parent.parent_id
    if depth >= MAX_DEPTH:
        raise Invalid(Code.BAD_PARENT, f"Pages go at most {MAX_DEPTH} levels deep: choose a higher page.")
    return depth


def _check(values: PageValues) -> None:
    if values.status not in STATUSES:
        raise Invalid(Code.BAD_STATUS, "Choose draft or published.")
    if values.kind not in KINDS:
        raise Invalid(Code.BAD_KIND, "Choose an ordinary page or questions and answers.")
    _check_slug(values.slug)
    check_link(values.link)


def _record_revision(
    session: Session, page: Page, *, note: str, actor: audit.Actor | None, now: datetime
) -> None:
    session.add(
        PageRevision(
            page_id=page.id,
            number=page.revision,
            title=page.title,
            slug=page.slug,
            summary=page.summary,
            body=page.body,
            link=page.link,
            status=page.status,
            note=note,
            created_at=now,
            author_id=actor.id if actor else None,
            author=actor.name if actor else "The portal",
        )
    )


def _next_position(session: Session, parent_id: int | None) -> int:
    last = session.scalar(
        select(Page.position).where(Page.parent_id.is_(None) if parent_id is None else Page.parent_id == parent_id)
        .order_by(Page.position.desc()).limit(1)
    )  # fmt: skip
    return 0 if last is None else last + 1


def create_page(
    session: Session,
    *,
    values: PageValues,
    actor: audit.Actor | None,
    now: datetime,
    reserved: Collection[str],
    note: str = "Created",
    audited: bool = True,
) -> Page:
    """A new page with its first revision. `audited=False` only for the placeholders of a fresh install."""
    _check(values)
    _check_parent(session, values.parent_id, page_id=None)
    path = _path_for(session, slug=values.slug, parent_id=values.parent_id)
    _check_path(session, path, page_id=None, reserved=reserved)
    page = Page(
        parent_id=values.parent_id,
        position=values.position
        if values.position is not None
        else _next_position(session, values.parent_id),
        in_menu=values.in_menu,
        kind=values.kind,
        title=values.title,
        slug=values.slug,
        path=path,
        summary=values.summary,
        body=values.body,
        link=values.link,
        status=values.status,
        revision=1,
        created_at=now,
        updated_at=now,
        updated_by_id=actor.id if actor else None,
        updated_by=actor.name if actor else "",
    )
    with _one_address(path):
        session.flush()
        with session.begin_nested():
            session.add(page)
            session.flush()
    _record_revision(session, page, note=note, actor=actor, now=now)
    session.flush()
    _index(session, page)
    if audited:
        audit.record(
            session,
            actor=actor,
            action="site.page_create",
            subject=f"page {page.id}",
            details={"title": page.title, "path": "/" + page.path, "status": page.status},
            now=now,
        )
    return page


def _move_branch(session: Session, page: Page, reserved: Collection[str]) -> None:
    """Re-derive the paths under `page` (its own is set); each must be free."""
    for child in session.scalars(select(Page).where(Page.parent_id == page.id)):
        new_path = child.slug if page.path == "" else f"{page.path}/{child.slug}"
        if new_path != child.path:
            _check_path(session, new_path, page_id=child.id, reserved=reserved)
            child.path = new_path
            session.flush()
        _move_branch(session, child, reserved)


def _bump(session: Session, page: Page, base_revision: int | None) -> None:
    """Take the next revision number, unless someone saved since `base_revision` (then refuse)."""
    query = update(Page).where(Page.id == page.id)
    if base_revision is not None:
        query = query.where(Page.revision == base_revision)
    result = session.execute(
        query.values(revision=Page.revision + 1).execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        raise Conflict(
            Code.STALE,
            "Someone else saved this page while you were editing it. Open it again to see their changes, then "
            "make yours.",
        )
    session.refresh(page, ["revision"])


def update_page(
    session: Session,
    *,
    page_id: int,
    values: PageValues,
    base_revision: int | None,
    actor: audit.Actor | None,
    now: datetime,
    reserved: Collection[str],
    note: str = "Edited",
) -> bool:
    """Save an editor's changes: a new revision when the content changed (False when nothing did). The
    save names the revision it was based on and is refused if another save came first."""
    _check(values)
    page = get_page(session, page_id)
    _check_parent(session, values.parent_id, page_id=page.id)
    path = _path_for(session, slug=values.slug, parent_id=values.parent_id)
    content = {name: getattr(values, name) for name in REVISION_FIELDS}
    structure: dict[str, Any] = {
        "parent_id": values.parent_id,
        "in_menu": values.in_menu,
        "kind": values.kind,
    }
    if values.position is not None:
        structure["position"] = values.position
    changed = {k: v for k, v in {**content, **structure}.items() if getattr(page, k) != v}
    if not changed:
        return False
    if path != page.path:
        _check_path(session, path, page_id=page.id, reserved=reserved)
    _bump(session, page, base_revision)
    if "status" in changed and len(changed) == 1:
        note = "Published" if values.status == "published" else "Made a draft"
    old_path = page.path
    branch_before = _branch_paths(session, old_path) if path != old_path else {}
    with _one_address(path):
        session.flush()
        with session.begin_nested():
            for name, value in changed.items():
                setattr(page, name, value)
            page.path = path
            page.updated_at, page.updated_by_id, page.updated_by = (
                now,
                actor.id if actor else None,
                actor.name if actor else "",
            )
            session.flush()
            if path != old_path:
                _move_branch(session, page, reserved)
    _record_revision(session, page, note=note, actor=actor, now=now)
    session.flush()
    # A new address moves the pages below it too: their entries follow, and so do the old addresses.
    _index(session, page, branch=path != old_path)
    if branch_before:
        _follow_move(session, branch_before, actor=actor, now=now)
    details: dict[str, Any] = {
        k: (v if k not in ("body", "summary") else f"{len(str(v))} characters") for k, v in changed.items()
    }
    details["revision"] = page.revision
    if path != old_path:
        details["path"] = {"from": "/" + old_path, "to": "/" + path}
    audit.record(
        session, actor=actor, action="site.page_edit", subject=f"page {page.id}", details=details, now=now
    )
    return True


def restore_revision(
    session: Session,
    *,
    page_id: int,
    number: int,
    actor: audit.Actor | None,
    now: datetime,
    reserved: Collection[str],
) -> Page:
    """Make an old version the page's content again: itself a new revision, so nothing is lost."""
    page = get_page(session, page_id)
    old = get_revision(session, page_id, number)
    values = PageValues(
        title=old.title,
        slug=old.slug,
        parent_id=page.parent_id,
        position=page.position,
        summary=old.summary,
        body=old.body,
        link=old.link,
        status=old.status,
        in_menu=page.in_menu,
        kind=page.kind,
    )
    if all(getattr(page, name) == getattr(old, name) for name in REVISION_FIELDS):
        raise Conflict(Code.UNCHANGED, f"The page is already as version {number} left it.")
    update_page(
        session,
        page_id=page_id,
        values=values,
        base_revision=None,
        actor=actor,
        now=now,
        reserved=reserved,
        note=f"Restored version {number}",
    )
    return page


def delete_page(session: Session, *, page_id: int, actor: audit.Actor | None, now: datetime) -> None:
    """Remove a page with its history and attachments; refused while pages sit under it."""
    page = get_page(session, page_id)
    if session.scalar(select(Page.id).where(Page.parent_id == page.id).limit(1)) is not None:
        raise Conflict(Code.HAS_CHILDREN, "Move or delete the pages under this one first.")
    title, path = page.title, page.path
    session.delete(page)
    session.flush()
    search.remove(session, kind="page", key=str(page_id))
    audit.record(
        session,
        actor=actor,
        action="site.page_delete",
        subject=f"page {page_id}",
        details={"title": title, "path": "/" + path},
        now=now,
    )


def add_attachment(
    session: Session,
    *,
    page_id: int,
    filename: str,
    content_type: str,
    data: bytes,
    actor: audit.Actor | None,
    now: datetime,
) -> Attachment:
    page = get_page(session, page_id)
    found = Attachment(
        page_id=page.id,
        filename=filename,
        content_type=content_type,
        size=len(data),
        data=data,
        uploaded_at=now,
        uploaded_by_id=actor.id if actor else None,
        uploaded_by=actor.name if actor else "",
    )
    session.add(found)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="site.attachment_add",
        subject=f"page {page.id}",
        details={"attachment": found.id, "filename": filename, "type": content_type, "bytes": len(data)},
        now=now,
    )
    return found


def get_attachment(session: Session, attachment_id: int, *, include_drafts: bool) -> Attachment:
    """A file, for a visitor only when its page is published."""
    found = session.get(Attachment, attachment_id)
    if found is None:
        raise NotFound("There is no such file.")
    if not include_drafts:
        page = session.get(Page, found.page_id)
        if page is None or not page.is_published:
            raise NotFound("There is no such file.")
    return found


def remove_attachment(
    session: Session, *, attachment_id: int, actor: audit.Actor | None, now: datetime
) -> int:
    """Remove a file; the page it belonged to."""
    found = get_attachment(session, attachment_id, include_drafts=True)
    page_id, filename = found.page_id, found.filename
    session.delete(found)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="site.attachment_remove",
        subject=f"page {page_id}",
        details={"attachment": attachment_id, "filename": filename},
        now=now,
    )
    return page_id


# --- the old site's addresses ------------------------------------------------------------------------------------

_OLD_PATH = re.compile(r"^/[^\s?#]{1,399}$")


def normalise_old_path(raw: str) -> str:
    """An old address as it is kept and looked up: the path alone (a full address loses its site, any query
    is dropped), lower-case, starting with `/`."""
    value = raw.strip()
    value = re.sub(r"^https?://[^/]+", "", value, flags=re.IGNORECASE)
    value = value.split("#", 1)[0].split("?", 1)[0]
    return value.lower()


def _branch_paths(session: Session, path: str) -> dict[int, str]:
    """{id: path} of the page at `path` and every page under it (the home page's branch is not one)."""
    if path == "":
        return {}
    rows = session.execute(
        select(Page.id, Page.path).where(
            (Page.path == path) | Page.path.startswith(path + "/", autoescape=True)
        )
    )
    return {row.id: row.path for row in rows}


def _follow_move(
    session: Session, before: dict[int, str], *, actor: audit.Actor | None, now: datetime
) -> None:
    """After a branch moved: each old address of its pages leads to the new one (a link or bookmark to the
    old address keeps working), and every redirect that led to an old address leads to the new one."""
    after = {
        row.id: row.path for row in session.execute(select(Page.id, Page.path).where(Page.id.in_(before)))
    }
    moves = {"/" + before[i]: "/" + after[i] for i in before if i in after and before[i] != after[i]}
    who = actor.name if actor else ""
    for following in session.scalars(select(Redirect).where(Redirect.target.in_(moves))):
        following.target, following.updated_at, following.updated_by = moves[following.target], now, who
    for old, new in moves.items():
        left = session.scalar(select(Redirect).where(Redirect.old_path == old))
        if left is None:
            session.add(Redirect(old_path=old, target=new, updated_at=now, updated_by=who))
        else:
            left.target, left.updated_at, left.updated_by = new, now, who
    # A page moved back to where it was leaves no redirect pointing at itself.
    session.flush()
    for itself in session.scalars(select(Redirect).where(Redirect.old_path == Redirect.target)):
        session.delete(itself)
    session.flush()


def redirects(session: Session) -> list[Redirect]:
    return list(session.scalars(select(Redirect).order_by(Redirect.old_path)))


def redirect_for(session: Session, path: str) -> str | None:
    """Where an old address leads now, if the list has it."""
    return session.scalar(select(Redirect.target).where(Redirect.old_path == normalise_old_path(path)))


def save_redirect(
    session: Session, *, old_path: str, target: str, actor: audit.Actor | None, now: datetime
) -> Redirect:
    """Add an old address, or lead one already listed somewhere new."""
    old = normalise_old_path(old_path)
    if not _OLD_PATH.match(old) or old == "/":
        raise Invalid(
            Code.BAD_OLD_PATH,
            "Enter the old address as a path starting with / (e.g. /find-a-therapist.html), without spaces.",
        )
    target = target.strip()
    if not (_PATH_LINK.match(target) or _WEB_LINK.match(target)) or len(target) > 400:
        raise Invalid(
            Code.BAD_TARGET,
            "Enter where it leads: an address on this site starting with / (e.g. /about-ipt/find-a-therapist) "
            "or a full address starting with https://.",
        )
    if normalise_old_path(target) == old:
        raise Invalid(Code.BAD_TARGET, "An address cannot lead to itself: enter where the page is now.")
    found = session.scalar(select(Redirect).where(Redirect.old_path == old))
    before = found.target if found else None
    if found is None:
        found = Redirect(old_path=old, target=target, updated_at=now, updated_by=actor.name if actor else "")
        session.add(found)
    else:
        found.target, found.updated_at = target, now
        found.updated_by = actor.name if actor else ""
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="site.redirect_save",
        subject=f"redirect {found.id}",
        details={"old_path": old, "target": target, "was": before},
        now=now,
    )
    return found


def delete_redirect(session: Session, *, redirect_id: int, actor: audit.Actor | None, now: datetime) -> str:
    """Remove an old address from the list; the address removed."""
    found = session.get(Redirect, redirect_id)
    if found is None:
        raise NotFound("There is no such old address in the list.")
    old = found.old_path
    session.delete(found)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="site.redirect_delete",
        subject=f"redirect {redirect_id}",
        details={"old_path": old},
        now=now,
    )
    return old
