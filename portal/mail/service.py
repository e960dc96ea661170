"""Putting e-mails in the outbox. Rendering happens here, in the caller's transaction, so what is sent is
exactly what the action produced even if templates change before the sender runs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy.orm import Session

from portal.mail.models import OutboxAttachment, OutboxEmail

MAIL_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "mail"

_text_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(MAIL_TEMPLATES)), autoescape=False, keep_trailing_newline=True
)
_html_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(MAIL_TEMPLATES)), autoescape=True, keep_trailing_newline=True
)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


def render(template: str, context: dict[str, Any]) -> Rendered:
    """`templates/mail/<template>.txt` (first line `Subject: ...`, a blank line, the text) and, if present,
    `templates/mail/<template>.html` for the HTML part."""
    raw = _text_env.get_template(f"{template}.txt").render(**context)
    head, _, text = raw.partition("\n")
    if not head.startswith("Subject:"):
        raise ValueError(f"mail template {template}.txt must start with a 'Subject:' line")
    subject = " ".join(head[len("Subject:") :].split())
    html = None
    if (MAIL_TEMPLATES / f"{template}.html").exists():
        html = _html_env.get_template(f"{template}.html").render(subject=subject, **context)
    return Rendered(subject=subject, text=text.lstrip("\n"), html=html)


def enqueue(
    session: Session,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    now: datetime,
    attachments: Sequence[Attachment] = (),
) -> OutboxEmail:
    """Add an e-mail to the outbox in the caller's transaction: it is sent if, and only if, the action commits."""
    rendered = render(template, context)
    email = OutboxEmail(
        created_at=now,
        kind=template,
        to_addr=to,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        status="pending",
        attempts=0,
        next_attempt_at=now,
    )
    email.attachments = [
        OutboxAttachment(
            filename=a.filename, content_type=a.content_type, content=a.content, content_id=a.content_id
        )
        for a in attachments
    ]
    session.add(email)
    session.flush()
    return email
