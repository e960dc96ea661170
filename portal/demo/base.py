"""What every part of the demo shares: the session, the clock and the timeline, the seeded generator, the
links the services e-mail (and the tokens the demo's people read from them), the staff and the roll."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session
from starlette.routing import Router

from portal.accounts.models import Account
from portal.accounts.passwords import Passwords
from portal.app import build_routes
from portal.checkin import badging
from portal.demo.people import DemoMember, People
from portal.demo.timeline import Timeline, london, london_date
from portal.elections.links import Links as ElectionLinks
from portal.events.links import Links as EventLinks
from portal.members import selfservice

#: The e-mailed links whose tokens the demo's people use: activating an account, answering a nomination, a
#: supervisor confirming an accreditation application.
READ_LINKS = frozenset({"accounts:set_password", "elections:nomination_link", "accreditation:supervise"})


class DemoBase:
    """The state the steps share, and the way a step is put on the timeline. Each part of the demo
    (`society`, `events`, `checkin`, `elections`) adds its steps, and its own state, in a subclass."""

    def __init__(
        self, session: Session, *, now: datetime, key: bytes, base_url: str, passwords: Passwords, seed: int
    ) -> None:
        self.s = session
        self.now = now
        self.today = london_date(now)
        self.key = key
        self.rng = random.Random(seed)
        self.people = People(self.rng)
        self.passwords = passwords
        self.timeline = Timeline(now)
        self.router = Router(routes=build_routes())
        # The badge QR code goes into every confirmation e-mail, as in the running app.
        self.event_links = EventLinks(
            base_url, self.router.url_path_for, key=key, extras=(badging.confirmation_extra(key),)
        )
        self.election_links = ElectionLinks(base_url, self._path_for)
        self.selfservice_links = selfservice.Links(base_url, self._path_for)
        #: Fourteen months ago: the portal is set up and the roll imported.
        self.origin = london(self.today - timedelta(days=420), 10)
        #: Tokens from the links the services just e-mailed (what the recipients would click).
        self.inbox: list[str] = []
        self.staff: dict[str, Account] = {}
        self.members: list[DemoMember] = []
        self.demo_member: DemoMember | None = None

    # --- reading the e-mailed links ---

    def _path_for(self, name: str, **params: Any) -> Any:
        if name in READ_LINKS:
            self.inbox.append(params["token"])
        return self.router.url_path_for(name, **params)

    def _take_inbox(self) -> list[str]:
        tokens, self.inbox = self.inbox, []
        return tokens

    def at(self, when: datetime, step: Callable[..., None], *args: Any) -> None:
        self.timeline.at(when, partial(step, *args) if args else step)

    def in_standing(self) -> list[DemoMember]:
        """Active members in good standing today (and so through every step of the demo's last year)."""
        return [
            m
            for m in self.members
            if m.good_standing(self.today + timedelta(days=1)) and m.first_status is not None
        ]
