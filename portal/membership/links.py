"""The links joining's e-mails carry (see `web/links.py`): self-service's (activation, log in) and its own."""

from __future__ import annotations

from dataclasses import dataclass

from portal.members import selfservice


@dataclass(frozen=True)
class Links(selfservice.Links):
    def answer(self, token: str) -> str:
        """The applicant's private link to answer the office's question."""
        return self.url("membership:answer", token=token)

    def pay(self, application_id: int, token: str) -> str:
        """The applicant's private link to pay the first fee by card."""
        return self.url("membership:pay", application_id=application_id, token=token)

    def application(self, application_id: int) -> str:
        """The application's staff page."""
        return self.url("membership:application", application_id=application_id)

    def activate_request(self) -> str:
        """Where a member on the roll asks for an activation link themselves."""
        return self.url("me:activate")
