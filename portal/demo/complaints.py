"""The demo's complaints: five cases at the procedure's stages (one with its acknowledgement overdue, one about a
member on the roll, one referred, one closed with its decision and letters), handled by the complaints officer."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.complaints import service as complaints
from portal.demo.base import DemoBase
from portal.demo.timeline import london

#: (days ago, about, subject, complainant, what happened, when, outcome sought, the stages it is taken through).
CASES: tuple[tuple[int, str, str, str, str, str, str, tuple[str, ...]], ...] = (
    (
        1,
        "course",
        "IPT Practitioner training (Manchester cohort)",
        "Alex Morgan",
        "The second supervision day was cancelled the evening before, and no new date has been offered.",
        "Last week",
        "A new date for the supervision day, and the travel costs refunded.",
        (),
    ),
    (
        14,
        "society",
        "",
        "Jordan Ellis",
        "I renewed my membership in January but the portal still showed me as lapsed when I tried to book.",
        "January and February",
        "My membership corrected and an explanation.",
        (),
    ),
    (
        20,
        "member",
        "",
        "Sam Taylor",
        "My therapist ended our sessions abruptly by text message and has not answered since.",
        "In the spring",
        "An acknowledgement that this was not handled well.",
        ("acknowledged", "under_consideration"),
    ),
    (
        30,
        "member",
        "A practitioner in Leeds",
        "Robin Clarke",
        "A practitioner advertising IPT sessions claims to be accredited by the society.",
        "Since March",
        "The claim checked and stopped.",
        ("acknowledged", "referred"),
    ),
    (
        75,
        "society",
        "",
        "Casey Brooks",
        "I was charged the member rate twice for the National Meeting.",
        "At booking",
        "The second payment refunded.",
        ("acknowledged", "under_consideration", "decision", "outcome", "closed"),
    ),
)


class ComplaintSteps(DemoBase):
    def plan_complaints(self) -> None:
        for n, case in enumerate(CASES):
            self.at(london(self.today - timedelta(days=case[0]), 10 + n), self.receive_complaint, n)

    def receive_complaint(self, n: int, t: datetime) -> None:
        _days, about, subject, name, what, when, outcome, steps = CASES[n]
        if about == "member" and not subject:
            subject = self.in_standing()[7 + n].person.full_name
        first = name.split()[0].lower()
        complaint = complaints.submit(
            self.s,
            values={
                "about": about,
                "subject_name": subject,
                "name": name,
                "email": f"{first}.complainant@example.org",
                "phone": "",
                "what_happened": what,
                "happened_when": when,
                "outcome_sought": outcome,
            },
            client=complaints.client_digest(self.key, f"demo-{n}"),
            now=t,
        )
        if about == "member" and n == 2:
            self.at(t + timedelta(days=1), self.link_member, complaint.id, self.in_standing()[7 + n].number)
        for k, step in enumerate(steps):
            self.at(t + timedelta(days=2 + 5 * k), self.case_step, complaint.id, step)

    def link_member(self, complaint_id: int, number: str, t: datetime) -> None:
        complaints.link_member(
            self.s, complaint_id=complaint_id, membership_number=number, actor=self.staff["complaints"], now=t
        )

    def case_step(self, complaint_id: int, step: str, t: datetime) -> None:
        officer = self.staff["complaints"]
        case = complaints.get_case(self.s, complaint_id)
        if step == "decision":
            complaints.add_entry(
                self.s,
                complaint_id=complaint_id,
                kind="decision",
                body="Upheld: the booking system took the payment twice. The second payment is refunded.",
                actor=officer,
                now=t,
            )
            return
        complaints.move_stage(
            self.s,
            complaint_id=complaint_id,
            from_stage=case.stage,
            to_stage=step,
            referred_to="The HCPC" if step == "referred" else "",
            actor=officer,
            now=t,
        )
        if step == "acknowledged":
            complaints.send_letter(
                self.s,
                complaint_id=complaint_id,
                subject="We have received your complaint",
                body="Thank you for your complaint. A member of our complaints panel is looking into it, and we "
                "will write to you with the outcome within 28 working days.",
                actor=officer,
                now=t,
            )
        elif step == "under_consideration":
            complaints.add_entry(
                self.s,
                complaint_id=complaint_id,
                kind="note",
                body="Asked the member concerned for their account of events.",
                actor=officer,
                now=t,
            )
