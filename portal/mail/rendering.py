"""E-mail templates, and the stored context they are rendered from.

An outbox row keeps the template's name and its context as JSON of plain values (`freeze`), written in the
action's transaction; the subject and bodies are rendered from them later, outside that transaction: by the
sender when it sends, and by the outbox page when staff look (`thaw`, then `render`). So the request that
causes an e-mail pays for a small JSON document, not for two template renders, while it holds the writer.

What a context may hold: strings, numbers, booleans, None, dates and times, lists, tuples and dicts of them,
dataclasses of them, and model rows. A row is kept as the attributes the template reads of it (`event.title`),
found in the templates themselves, never as the whole row: a password hash or a token never reaches the
outbox because a template does not print it. Anything else (a function, a row inside a list) is refused when
the e-mail is written, so a template cannot meet at send time what it could not have been given.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
from jinja2 import nodes
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import NoInspectionAvailable

from portal.web.templating import money

EMAIL_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "emails"

_text_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(EMAIL_TEMPLATES)),
    autoescape=False,  # noqa: S701 - the text part is plain text, never shown as HTML
    keep_trailing_newline=True,
)
_html_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(EMAIL_TEMPLATES)), autoescape=True, keep_trailing_newline=True
)
for _env in (_text_env, _html_env):
    _env.globals["money"] = money


@dataclasses.dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


@functools.cache
def _has_html(template: str) -> bool:
    return (EMAIL_TEMPLATES / f"{template}.html").exists()


def render(template: str, context: dict[str, Any]) -> Rendered:
    """`templates/emails/<template>.txt` (first line `Subject: ...`, a blank line, the text) and, if present,
    `templates/emails/<template>.html` for the HTML part."""
    raw = _text_env.get_template(f"{template}.txt").render(**context)
    head, _, text = raw.partition("\n")
    if not head.startswith("Subject:"):
        raise ValueError(f"mail template {template}.txt must start with a 'Subject:' line")
    subject = " ".join(head[len("Subject:") :].split())
    html = None
    if _has_html(template):
        html = _html_env.get_template(f"{template}.html").render(subject=subject, **context)
    return Rendered(subject=subject, text=text.lstrip("\n"), html=html)


@functools.cache
def read_attributes(template: str) -> dict[str, frozenset[str]]:
    """What the template (both parts, and what they extend or include) reads of each name: `event.title`
    gives {"event": {"title"}}."""
    found: dict[str, set[str]] = {}
    seen: set[str] = set()
    queue = [(env, f"{template}{suffix}") for env, suffix in ((_text_env, ".txt"), (_html_env, ".html"))]
    while queue:
        env, name = queue.pop()
        if name in seen or not (EMAIL_TEMPLATES / name).exists():
            continue
        seen.add(name)
        tree = env.parse((EMAIL_TEMPLATES / name).read_text(encoding="utf-8"))
        for node in tree.find_all(nodes.Getattr):
            if isinstance(node.node, nodes.Name):
                found.setdefault(node.node.name, set()).add(node.attr)
        for ref in tree.find_all((nodes.Extends, nodes.Include)):
            parent = getattr(ref, "template", None)
            if isinstance(parent, nodes.Const) and isinstance(parent.value, str):
                queue.append((env, parent.value))
    return {name: frozenset(attrs) for name, attrs in found.items()}


def _is_row(value: Any) -> bool:
    try:
        sa_inspect(value).mapper  # noqa: B018 - raises for anything that is not a mapped instance
    except (NoInspectionAvailable, AttributeError):
        return False
    return True


def _plain(value: Any, where: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        if any(not isinstance(key, str) or key.startswith("$") for key in value):
            raise TypeError(f"the e-mail context's {where} has a key that is not a plain name")
        return {key: _plain(item, f"{where}.{key}") for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "$object": {
                field.name: _plain(getattr(value, field.name), f"{where}.{field.name}")
                for field in dataclasses.fields(value)
            }
        }
    raise TypeError(
        f"the e-mail context's {where} is a {type(value).__name__}: an e-mail is rendered later from stored "
        "plain values (strings, numbers, dates, lists and dicts of them), so give it those"
    )


def freeze(template: str, context: dict[str, Any]) -> str:
    """The context as JSON of plain values; a row at the top level becomes what the template reads of it."""
    reads = read_attributes(template)
    out: dict[str, Any] = {}
    for name, value in context.items():
        if _is_row(value):
            attrs = sorted(reads.get(name, frozenset()) | {"id"})
            out[name] = {"$object": {attr: _plain(getattr(value, attr), f"{name}.{attr}") for attr in attrs}}
        else:
            out[name] = _plain(value, name)
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def _thawed(value: Any) -> Any:
    if isinstance(value, list):
        return [_thawed(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "$datetime":
            return datetime.fromisoformat(inner)
        if key == "$date":
            return date.fromisoformat(inner)
        if key == "$decimal":
            return Decimal(inner)
        if key == "$object":
            return SimpleNamespace(**{name: _thawed(item) for name, item in inner.items()})
    return {key: _thawed(item) for key, item in value.items()}


def thaw(stored: str) -> dict[str, Any]:
    """The context `freeze` stored, ready for `render` (a row or dataclass comes back as an object whose
    attributes are the values kept)."""
    context = _thawed(json.loads(stored))
    assert isinstance(context, dict)
    return context
