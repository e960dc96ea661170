"""Absolute links for e-mails, made the same way by a request, the CLI and the periodic task: the configured
base URL plus the named route's path (never a hand-written URL, never the Host header)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Links:
    base_url: str
    path_for: Callable[..., Any]

    def url(self, name: str, **params: Any) -> str:
        return self.base_url.rstrip("/") + str(self.path_for(name, **params))

    def ballot(self, token: str) -> str:
        return self.url("elections:link_ballot", token=token)

    def nomination(self, token: str) -> str:
        return self.url("elections:nomination_link", token=token)

    def election(self, election_id: int) -> str:
        return self.url("elections:detail", election_id=election_id)

    @classmethod
    def for_app(cls, app: Any) -> Links:
        return cls(app.state.settings.base_url, app.url_path_for)
