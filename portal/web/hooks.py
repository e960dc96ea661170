"""The app's hooks: what one domain contributes to another's pages and e-mails, given explicitly.

`create_app` builds one frozen `Hooks` for its app (on `app.state.hooks`, and on every `ctx.hooks`; the
outbox sender gets its attachment sources); nothing is registered at import time, so the order of "My
account" panels is the order written in `create_app`, and two apps in one process (with different secret
keys) never share a hook.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


@dataclass(frozen=True)
class ToDo:
    """One thing a member should do soon, for the "Things to do" panel at the top of "My account"."""

    #: What to do, in the member's words: "Vote in the Executive Committee election 2026".
    title: str
    #: By when, or how much: "Voting closes 11 December 2026, 17:00".
    detail: str
    #: Where the action is done.
    url: str
    #: The button's words: "Vote now".
    action: str
    #: The action is a form posted (with the CSRF token) rather than a link to follow.
    post: bool = False
    #: When it must be done by (the panel shows the soonest first).
    due: datetime | None = None


#: A panel of "My account": `(ctx) -> (title, html) or None` (no panel).
Section = Callable[[Any], "tuple[str, str] | None"]
#: What a domain asks of the member now: `(ctx) -> [ToDo, ...]` (none: nothing to do).
ToDoSource = Callable[[Any], "list[ToDo]"]
#: Extra context and attachments for a booking's confirmation e-mail: `(session, registration) ->
#: (context, attachments)` (the check-in domain puts the badge's QR code here).
ConfirmationExtra = Callable[[Session, Any], "tuple[dict[str, Any], list[Any]]"]
#: A panel of a member's staff page: `(ctx, member) -> (title, html) or None` (no panel, e.g. for someone
#: the panel is not for).
MemberPanel = Callable[[Any, Any], "tuple[str, str] | None"]
#: A panel of a course's public page: `(ctx, course) -> (title, html) or None` (the events room adds the
#: course's upcoming dates).
CoursePanel = Callable[[Any, Any], "tuple[str, str] | None"]
#: An attachment the outbox sender draws at send time from stored data: `(session, source_id, now) -> bytes`,
#: or None when what it is drawn from is gone (the booking was removed) or no longer valid.
AttachmentSource = Callable[[Session, int, datetime], "bytes | None"]
#: A section of a member's data export: `(session, member) -> (name, JSON-able data)` (applications, payments).
MemberExporter = Callable[[Session, Any], "tuple[str, Any]"]
#: What a domain erases of a former member's personal data: `(session, member, now) -> None`, in the erasure's
#: transaction, before the member's own row is blanked (so it can still find them by e-mail or name).
MemberEraser = Callable[[Session, Any, datetime], None]
#: Monitoring gauges: `(session, now) -> [(name, help, [(labels, value)])]`.
GaugeSource = Callable[[Session, datetime], "list[Any]"]


@dataclass(frozen=True)
class Hooks:
    my_account: tuple[Section, ...] = ()
    things_to_do: tuple[ToDoSource, ...] = ()
    confirmation: tuple[ConfirmationExtra, ...] = ()
    gauges: tuple[GaugeSource, ...] = ()
    member_staff: tuple[MemberPanel, ...] = ()
    course_page: tuple[CoursePanel, ...] = ()
    member_exporters: tuple[MemberExporter, ...] = ()
    member_erasers: tuple[MemberEraser, ...] = ()
    #: What draws each kind of attachment an outbox e-mail holds by reference ("invoice", "badge" ...).
    attachments: Mapping[str, AttachmentSource] = field(default_factory=dict)
