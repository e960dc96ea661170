"""Absolute links for e-mails, and the private booking-management token.

The token is derived from the registration's random seed with the secret key, so it can be e-mailed again
(with an offer, a change) without being stored; the row keeps only its keyed digest for the look-up. A copy
of the database alone can neither read nor forge a link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from portal.events.models import Event, Registration
from portal.web import links as web_links
from portal.web.hooks import ConfirmationExtra
from portal.web.tokens import token_digest

TOKEN_PURPOSE = "booking"  # noqa: S105 - a purpose label, not a secret


def manage_token(key: bytes, seed: str) -> str:
    return token_digest(key, seed, purpose="booking-link-seed")[:40]


def manage_digest(key: bytes, token: str) -> str:
    return token_digest(key, token, purpose=TOKEN_PURPOSE)


def idempotency_digest(key: bytes, form_key: str) -> str:
    return token_digest(key, form_key, purpose="booking-form")


@dataclass(frozen=True)
class Links(web_links.Links):
    """The links booking e-mails carry (see `web/links.py`); `key` derives each booking's private token."""

    key: bytes
    #: What other domains add to a confirmation e-mail (the badge), from the app's hooks.
    extras: tuple[ConfirmationExtra, ...] = ()

    def manage(self, registration: Registration) -> str:
        return self.url("events:booking", token=manage_token(self.key, registration.manage_seed))

    def event(self, event: Event) -> str:
        return self.url("events:event", slug=event.slug)

    def mine(self) -> str:
        return self.url("events:mine")

    def invoice(self, registration: Registration) -> str:
        return self.url("events:booking_invoice", token=manage_token(self.key, registration.manage_seed))

    @classmethod
    def for_app(cls, app: Any, **fields: Any) -> Self:
        """The app's links, with what the app's hooks add to a confirmation e-mail."""
        hooks = getattr(app.state, "hooks", None)
        return super().for_app(app, **{"extras": hooks.confirmation if hooks is not None else (), **fields})
