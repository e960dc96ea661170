"""Absolute links for e-mails, made the same way by a request, the CLI, a periodic job and the demo: the
configured base URL plus a named route's path (never a hand-written URL, never the Host header).

Each room that e-mails links subclasses `Links` with a method per link it sends (`elections.links`,
`events.links`, `members.selfservice`), so its services ask for "the ballot link" and never name a route.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self


@dataclass(frozen=True)
class Links:
    #: The portal's public address (`PORTAL_BASE_URL`).
    base_url: str
    #: A named route's path: `app.url_path_for`, or a `Router`'s outside a request (the CLI, the demo).
    path_for: Callable[..., Any]

    def path(self, name: str, **params: Any) -> str:
        return str(self.path_for(name, **params))

    def url(self, name: str, **params: Any) -> str:
        return self.base_url.rstrip("/") + self.path(name, **params)

    @classmethod
    def for_app(cls, app: Any, **fields: Any) -> Self:
        """The links of a running app (a request's, or a periodic job's), on its configured base URL."""
        index = getattr(app.state, "route_index", None)
        return cls(app.state.settings.base_url, index.url_path_for if index else app.url_path_for, **fields)
