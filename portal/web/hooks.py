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

#: A panel of "My account": `(ctx) -> (title, html) or None` (no panel).
Section = Callable[[Any], "tuple[str, str] | None"]
#: Extra context and attachments for a booking's confirmation e-mail: `(session, registration) ->
#: (context, attachments)` (the check-in domain puts the badge's QR code here).
ConfirmationExtra = Callable[[Session, Any], "tuple[dict[str, Any], list[Any]]"]
#: A panel of a member's staff page: `(ctx, member) -> (title, html) or None` (no panel, e.g. for someone
#: the panel is not for).
MemberPanel = Callable[[Any, Any], "tuple[str, str] | None"]
#: An attachment the outbox sender draws at send time from stored data: `(session, source_id, now) -> bytes`,
#: or None when what it is drawn from is gone (the booking was removed) or no longer valid.
AttachmentSource = Callable[[Session, int, datetime], "bytes | None"]
#: Monitoring gauges: `(session, now) -> [(name, help, [(labels, value)])]`.
GaugeSource = Callable[[Session, datetime], "list[Any]"]


@dataclass(frozen=True)
class Hooks:
    my_account: tuple[Section, ...] = ()
    confirmation: tuple[ConfirmationExtra, ...] = ()
    gauges: tuple[GaugeSource, ...] = ()
    member_staff: tuple[MemberPanel, ...] = ()
    #: What draws each kind of attachment an outbox e-mail holds by reference ("invoice", "badge" ...).
    attachments: Mapping[str, AttachmentSource] = field(default_factory=dict)
