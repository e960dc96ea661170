"""Search over the public site: each room puts its public documents into one index as they are saved, and
`search(session, query, limit=, offset=)` finds them, ranked, with the words found marked in a snippet.

One index, two engines: SQLite's FTS5 (bm25, `snippet`, `highlight`) and PostgreSQL's full-text search
(a weighted `tsvector` under a GIN index, `websearch_to_tsquery`, `ts_rank`, `ts_headline`). The visitor's
words never reach either engine's query syntax as typed: `parse` keeps only words, "quoted phrases" and
-left-out words, and each engine's query is built from those, every word quoted, so no query can fail.

The rooms keep the index in step themselves, in the transaction of the save (`put` / `remove`), and give a
**source** each (`Source`: every public document of their kind) that `rebuild` reads to make the index
afresh (`portal search rebuild`, and `portal db upgrade` while the index is empty). The sources are listed in
one place, `portal.app.search_sources`, never registered at import.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from sqlalchemy import String, Text, delete, func, select, text
from sqlalchemy.orm import Session

from portal.db import UTCDateTime, is_postgres
from portal.search.models import SearchDocument

#: The longest query read (the rest is ignored, and the page says so); the most words it may hold.
MAX_QUERY = 200
MAX_WORDS = 10
MAX_WORD = 60
#: The largest page of hits a caller may ask for.
MAX_LIMIT = 50
#: What marks a found word while the engine quotes it: control characters, taken out of every document's text
#: when it is put, so only the engine can have placed them (the text is escaped, then they become <mark>).
_START, _STOP = "\x01", "\x02"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"]+)')
_WORD = re.compile(r"\w+")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")

#: How much more a word in the title counts than one in the text (SQLite's bm25 weights; PostgreSQL weighs
#: the title A and the text B, `ts_rank`'s defaults giving 1.0 against 0.4).
TITLE_WEIGHT = 10.0
KINDS = {"page": "Page", "event": "Event", "news": "News", "course": "Course"}


@dataclass(frozen=True)
class Document:
    """What a room gives the index for one public thing."""

    kind: str
    key: str
    title: str
    #: Plain text; `plain_text` makes it from Markdown.
    body: str
    url: str
    date: datetime | None
    updated_at: datetime


#: A room's documents of one kind, every public one (drafts never).
Source = Callable[[Session], Iterable[Document]]


@functools.lru_cache(maxsize=256)
def plain_text(markdown: str) -> str:
    """The words of a Markdown text, without its markup (the renderer escapes raw HTML, so every tag left in
    its output is its own)."""
    rendered = _markdown.render(markdown or "")
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", rendered))).strip()


def _clean(value: str) -> str:
    return _CONTROL.sub(" ", value)


# --- keeping the index ----------------------------------------------------------------------------------------


def put(session: Session, document: Document) -> None:
    """Add a document, or bring its entry up to date (the full-text side follows by trigger)."""
    found = session.scalar(
        select(SearchDocument).where(SearchDocument.kind == document.kind, SearchDocument.key == document.key)
    )
    values = {
        "title": _clean(document.title)[:300],
        "body": _clean(document.body),
        "url": document.url[:400],
        "date": document.date,
        "updated_at": document.updated_at,
    }
    if found is None:
        session.add(SearchDocument(kind=document.kind, key=document.key, **values))
    else:
        for name, value in values.items():
            if getattr(found, name) != value:
                setattr(found, name, value)
    session.flush()


def remove(session: Session, *, kind: str, key: str) -> None:
    """Take a document out (deleted, or no longer public)."""
    session.execute(delete(SearchDocument).where(SearchDocument.kind == kind, SearchDocument.key == key))


def keep(session: Session, *, kind: str, key: str, document: Document | None) -> None:
    """`put` the document when there is one (the thing is public), `remove` its entry when there is none."""
    if document is None:
        remove(session, kind=kind, key=key)
    else:
        put(session, document)


def is_empty(session: Session) -> bool:
    return session.scalar(select(SearchDocument.id).limit(1)) is None


def rebuild(session: Session, sources: Mapping[str, Source]) -> dict[str, int]:
    """Make the index afresh from every source: the kinds named are emptied and filled again (another kind's
    entries stay), then the full-text side is rebuilt from the rows. The number of documents of each kind."""
    counts: dict[str, int] = {}
    for kind, source in sources.items():
        session.execute(delete(SearchDocument).where(SearchDocument.kind == kind))
        counts[kind] = 0
        for document in source(session):
            put(session, document)
            counts[kind] += 1
    session.flush()
    if is_postgres(session):
        session.execute(text("DELETE FROM search_fts"))
        session.execute(
            text(
                "INSERT INTO search_fts (document_id, vector) "
                "SELECT id, search_vector(title, body) FROM search_documents"
            )
        )
    else:
        session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
    return counts


def listed(session: Session) -> list[tuple[str, datetime]]:
    """(address, last changed) of every document: the sitemap's entries."""
    return [(row.url, row.updated_at) for row in session.execute(
        select(SearchDocument.url, func.max(SearchDocument.updated_at).label("updated_at"))
        .group_by(SearchDocument.url).order_by(SearchDocument.url)
    )]  # fmt: skip


# --- reading a query ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """What a visitor's text asks for: every word and phrase (a run of words) must be found, none of `left_out`."""

    phrases: tuple[tuple[str, ...], ...]
    left_out: tuple[tuple[str, ...], ...]
    #: The text was longer than MAX_QUERY, or held more than MAX_WORDS words: the rest was not read.
    cut: bool

    @property
    def empty(self) -> bool:
        return not self.phrases


def parse(raw: str) -> Query:
    """The words, "phrases" and -words of a visitor's text. Everything else (operators, brackets, stars,
    unmatched quotes) is read as the spaces between words, so no text can make a query the engine refuses."""
    cut = len(raw) > MAX_QUERY
    phrases: list[tuple[str, ...]] = []
    left_out: list[tuple[str, ...]] = []
    count = 0
    for match in _TOKEN.finditer(raw[:MAX_QUERY]):
        minus = match.group(1) or match.group(3)
        words = tuple(w.lower()[:MAX_WORD] for w in _WORD.findall(match.group(2) or match.group(4) or ""))
        if not words:
            continue
        if count + len(words) > MAX_WORDS:
            cut = True
            break
        count += len(words)
        (left_out if minus else phrases).append(words)
    return Query(tuple(phrases), tuple(left_out), cut)


def _fts5(query: Query) -> str:
    def quoted(words: tuple[str, ...]) -> str:
        return '"' + " ".join(words) + '"'

    found = "(" + " AND ".join(quoted(p) for p in query.phrases) + ")"
    return found + "".join(f" NOT {quoted(p)}" for p in query.left_out)


def _websearch(query: Query) -> str:
    # Every word quoted: websearch_to_tsquery reads a bare `or` as an operator, a quoted one as a word.
    def quoted(words: tuple[str, ...]) -> str:
        return '"' + " ".join(words) + '"'

    return " ".join([*(quoted(p) for p in query.phrases), *("-" + quoted(p) for p in query.left_out)])


# --- searching ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    kind: str
    #: The title and a passage of the text with the words found in <mark>: the text escaped first.
    title: Markup
    snippet: Markup
    url: str
    date: datetime | None


@dataclass(frozen=True)
class Results:
    query: Query
    hits: list[Hit]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.hits) < self.total


def marked(value: str) -> Markup:
    """Text the engine marked, made safe: escaped, then its marks made <mark> (an unclosed one closed)."""
    out = str(escape(value))
    opened = False
    pieces = []
    for char in out:
        if char == _START and not opened:
            pieces.append("<mark>")
            opened = True
        elif char == _STOP and opened:
            pieces.append("</mark>")
            opened = False
        elif char not in (_START, _STOP):
            pieces.append(char)
    if opened:
        pieces.append("</mark>")
    return Markup("".join(pieces))  # noqa: S704 - escaped above; only <mark> is added


_SQLITE_HITS = text(
    f"""
    SELECT d.kind, d.url, d.date,
           highlight(search_fts, 0, :start, :stop) AS title,
           snippet(search_fts, 1, :start, :stop, '…', 28) AS snippet
    FROM search_fts JOIN search_documents AS d ON d.id = search_fts.rowid
    WHERE search_fts MATCH :q
    ORDER BY bm25(search_fts, {TITLE_WEIGHT}, 1.0), d.id
    LIMIT :limit OFFSET :offset
    """
).columns(kind=String(), url=String(), date=UTCDateTime(), title=Text(), snippet=Text())
_SQLITE_COUNT = text("SELECT count(*) FROM search_fts WHERE search_fts MATCH :q")
_POSTGRES_HITS = text(
    """
    WITH q AS (SELECT websearch_to_tsquery('english', :q) AS query),
    found AS (
        SELECT d.id, d.kind, d.url, d.date, d.title, d.body, ts_rank(f.vector, q.query) AS rank
        FROM search_fts AS f JOIN search_documents AS d ON d.id = f.document_id, q
        WHERE f.vector @@ q.query
        ORDER BY rank DESC, d.id
        LIMIT :limit OFFSET :offset
    )
    SELECT found.kind, found.url, found.date,
           ts_headline('english', found.title, q.query, :title_options) AS title,
           ts_headline('english', found.body, q.query, :body_options) AS snippet
    FROM found, q
    ORDER BY found.rank DESC, found.id
    """
).columns(kind=String(), url=String(), date=UTCDateTime(), title=Text(), snippet=Text())
_POSTGRES_COUNT = text("SELECT count(*) FROM search_fts WHERE vector @@ websearch_to_tsquery('english', :q)")
_MARKS = f"StartSel={_START}, StopSel={_STOP}"
_TITLE_OPTIONS = f"{_MARKS}, HighlightAll=true"
_BODY_OPTIONS = f"{_MARKS}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\u2026"


def search(session: Session, query: str | Query, *, limit: int = 10, offset: int = 0) -> Results:
    """The public documents that hold every word and phrase of `query` (and none left out), best first:
    found in the title counts more than in the text. An empty query (no words in it) finds nothing."""
    parsed = parse(query) if isinstance(query, str) else query
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    if parsed.empty:
        return Results(parsed, [], 0, offset, limit)
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if is_postgres(session):
        params |= {"q": _websearch(parsed), "title_options": _TITLE_OPTIONS, "body_options": _BODY_OPTIONS}
        total = session.scalar(_POSTGRES_COUNT, {"q": params["q"]}) or 0
        rows = session.execute(_POSTGRES_HITS, params).all() if total > offset else []
    else:
        params |= {"q": _fts5(parsed), "start": _START, "stop": _STOP}
        total = session.scalar(_SQLITE_COUNT, {"q": params["q"]}) or 0
        rows = session.execute(_SQLITE_HITS, params).all() if total > offset else []
    hits = [
        Hit(
            kind=row.kind,
            title=marked(row.title),
            snippet=marked(row.snippet or ""),
            url=row.url,
            date=row.date,
        )
        for row in rows
    ]
    return Results(parsed, hits, total, offset, limit)
