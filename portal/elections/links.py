"""The links election e-mails carry (see `web/links.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from portal.web import links as web_links


@dataclass(frozen=True)
class Links(web_links.Links):
    def ballot(self, token: str) -> str:
        return self.url("elections:link_ballot", token=token)

    def nomination(self, token: str) -> str:
        return self.url("elections:nomination_link", token=token)

    def election(self, election_id: int) -> str:
        return self.url("elections:detail", election_id=election_id)
