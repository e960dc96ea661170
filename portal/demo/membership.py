"""Joining: people applying on the website in the last fortnight, so the office's queue has work in it. One
application is new; for another the office has asked for more and waits for the applicant's answer."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from portal.demo.base import DemoBase
from portal.demo.timeline import london
from portal.membership import service as membership
from portal.membership.links import Links
from portal.membership.models import Application

#: (first name, last name, category, profession, registration body and number, training, days ago, question).
Applicant = tuple[str, str, str, str, str, str, str, int, str]
APPLICANTS: tuple[Applicant, ...] = (
    ("Aisha", "Rahman", "basic", "Clinical psychologist", "HCPC", "PYL04512", "foundation", 2, ""),
    (
        "Gareth",
        "Pryce",
        "member_plus",
        "Mental health nurse",
        "NMC",
        "09F1234E",
        "practitioner",
        9,
        "Please send a copy of your accreditation certificate: the file you sent did not open.",
    ),
)


BLANK_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class MembershipSteps(DemoBase):
    def plan_membership(self) -> None:
        for applicant in APPLICANTS:
            applied = london(self.today - timedelta(days=applicant[7]), 13)
            self.at(applied, self.apply, applicant)
            if applicant[8]:
                self.at(applied + timedelta(days=1), self.ask, applicant)

    def _links(self) -> Links:
        return Links(self.selfservice_links.base_url, self._path_for)

    @staticmethod
    def _email(applicant: Applicant) -> str:
        return f"{applicant[0]}.{applicant[1]}@example.net".lower()

    def apply(self, applicant: Applicant, t: datetime) -> None:
        first, last, category, profession, body, number, training, _days, _question = applicant
        membership.submit_application(
            self.s,
            category_code=category,
            draft=membership.Draft(
                first_name=first,
                last_name=last,
                email=self._email(applicant),
                address="12 Example Road\nManchester M1 1AA",
                profession=profession,
                registration_body=body,
                registration_number=number,
                training=training,
                conduct_version="1",
                privacy_version="1",
            ),
            # Member plus asks for the accreditation certificate: a scan that turned out blank.
            files=[membership.Evidence("certificate.pdf", "application/pdf", BLANK_PDF)]
            if category == "member_plus"
            else [],
            ip="198.51.100.7",
            now=t,
            key=self.key,
            links=self._links(),
        )

    def ask(self, applicant: Applicant, t: datetime) -> None:
        application = self.s.scalars(
            select(Application).where(Application.email == self._email(applicant))
        ).one()
        membership.ask_for_more(
            self.s,
            application_id=application.id,
            question=applicant[8],
            actor=self.staff["office"],
            now=t,
            key=self.key,
            links=self._links(),
        )
