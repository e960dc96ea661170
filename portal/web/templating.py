"""The Jinja2 environment: autoescaped, with a few filters every domain uses."""

from __future__ import annotations

import functools
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import jinja2.bccache
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from starlette.datastructures import URL
from starlette.templating import Jinja2Templates

LONDON = ZoneInfo("Europe/London")
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def local_time(value: datetime | None, fmt: str = "%-d %b %Y, %H:%M", tz: str = "Europe/London") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def long_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LONDON)
    return value.strftime("%-d %B %Y")


def money(minor: int | None, currency: str = "GBP") -> str:
    if minor is None:
        return ""
    if minor == 0:
        return "Free"
    symbol = {"GBP": "£", "EUR": "€", "USD": "$"}.get(currency, currency + " ")
    pounds, pence = divmod(abs(minor), 100)
    sign = "-" if minor < 0 else ""
    return f"{sign}{symbol}{pounds:,}.{pence:02d}"


def markdown(text: str | None) -> Markup:
    """Markdown rendered, then cleaned by an allow-list sanitiser: raw HTML never reaches the page."""
    return _rendered(text or "")


@functools.lru_cache(maxsize=256)
def _rendered(text: str) -> Markup:
    # The same text always renders the same: a page read again and again (the home page) costs one render.
    html = _markdown.render(text)
    return Markup(nh3.clean(html, link_rel="noopener noreferrer nofollow"))  # noqa: S704 - sanitised above


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural_form or singular + 's')}"


@jinja2.pass_context
def _url_for(context: Any, name: str, /, **params: Any) -> URL:
    """Starlette's `url_for` for templates (an absolute URL), made through the app's route index."""
    request = context["request"]
    index = getattr(request.app.state, "route_index", None)
    if index is None:
        return request.url_for(name, **params)
    return index.url_path_for(name, **params).make_absolute_url(base_url=request.base_url)


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept in memory for every environment of the process: an app made again (each test
    makes one; a worker restarted in-process) loads each template's code instead of parsing and compiling it
    again (some 5 ms a template). Jinja keys a template by its name and checks its source's checksum, so a
    changed template is compiled afresh."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def make_templates(directory: Path) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        bytecode_cache=_COMPILED,
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["url_for"] = _url_for
    env.filters.update(
        local_time=local_time, long_date=long_date, money=money, markdown=markdown, plural=plural
    )
    return Jinja2Templates(env=env)
