"""The links accreditation's e-mails carry (see `web/links.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from portal.web import links as web_links


@dataclass(frozen=True)
class Links(web_links.Links):
    def supervisor(self, token: str) -> str:
        """The supervisor's private link to confirm (or decline) what an application says."""
        return self.url("accreditation:supervise", token=token)

    def application(self, application_id: int) -> str:
        """The member's own page of their application (behind their login)."""
        return self.url("accreditation:my_application", application_id=application_id)

    def mine(self) -> str:
        """The member's accreditation page: levels held, applying and re-accreditation."""
        return self.url("accreditation:mine")

    def log(self) -> str:
        """The member's CPD log."""
        return self.url("accreditation:cpd")

    def review(self, application_id: int) -> str:
        """The application's staff page."""
        return self.url("accreditation:application", application_id=application_id)
