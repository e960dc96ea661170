"""The demo's accreditation: the five levels as `portal db upgrade` places them (naming the courses), then the
accreditation officer writes each standard, so the public Accreditation Standards page reads as the society's.
Two applications go through the portal's own rules: a member's for IPC practitioner, confirmed by their
supervisor's link and approved with conditions a month ago (the register shows them); and the demo member's for
supervisor, confirmed and waiting in the reviewer's queue."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from portal.accreditation import applications, cpd
from portal.accreditation import service as accreditation
from portal.accreditation.links import Links as AccreditationLinks
from portal.demo.base import DemoBase
from portal.demo.timeline import london, london_date

#: slug -> (supervised cases, supervision hours, CPD hours a year, what the standard asks, in Markdown).
STANDARDS: dict[str, tuple[int, int, int, str]] = {
    "ipt-practitioner": (
        8,
        40,
        12,
        "- Completion of an IPT practitioner course approved by the society.\n"
        "- At least **eight supervised cases**, two of them recorded and rated at the required standard.\n"
        "- A core professional training (for example in psychology, nursing, psychiatry or counselling).",
    ),
    "ipt-a-practitioner": (
        6,
        30,
        12,
        "- Completion of the IPT-A practitioner course.\n"
        "- At least **six supervised cases** with young people aged 12 to 18, two of them recorded.\n"
        "- Experience of working with adolescents and their families.",
    ),
    "ipc-practitioner": (
        4,
        12,
        8,
        "- Completion of the IPC course.\n"
        "- At least **four supervised cases** of Interpersonal Counselling.\n"
        "- Work in a setting where brief psychological support is offered (primary care, third sector).",
    ),
    "supervisor": (
        2,
        30,
        15,
        "- Accredited practitioner for at least three years.\n"
        "- The supervisor course, and supervision of two practitioners' cases under the supervision of a "
        "trainer.",
    ),
    "trainer": (
        0,
        0,
        20,
        "- Accredited supervisor, with co-delivery of two practitioner courses with an accredited trainer.\n"
        "- Accreditation is renewed every three years with evidence of continuing practice and CPD.",
    ),
}


#: The demo member's CPD this year: (days ago, activity, hours, kind, reflection).
CPD_LOG: tuple[tuple[int, str, str, str, str], ...] = (
    (70, "Reading: Weissman, Markowitz and Klerman, The Guide to IPT, chapters 5 to 7", "4", "reading",
     "Role transitions: I use the timeline exercise with two clients now."),
    (40, "Peer supervision group, North West", "2", "supervision",
     "A case of complicated grief; the group helped me keep to the focus."),
    (12, "Webinar: IPT by video", "1.5", "course", "Practical points on starting and ending sessions online."),
)  # fmt: skip


class AccreditationSteps(DemoBase):
    def plan_accreditation(self) -> None:
        self.accreditation_applications: list[int] = []
        # After the courses are placed (their ids are what the levels name).
        self.at(self.origin + timedelta(days=3, hours=3), self.write_standards)
        self.at(london(self.today - timedelta(days=80), 10), self.accredit_demo_member)
        self.at(london(self.today - timedelta(days=45), 11), self.apply_with_conditions)
        self.at(london(self.today - timedelta(days=20), 11), self.demo_member_applies)
        for number, (days_ago, *entry) in enumerate(CPD_LOG):
            on = max(self.today - timedelta(days=days_ago), date(self.today.year, 1, 1))
            if london(on, 9, number) < self.now:
                self.at(london(on, 9, number), self.log_cpd, on, *entry)

    def accredit_demo_member(self, t: datetime) -> None:
        """The officer records the demo member as an IPT practitioner for three years (until applications do)."""
        assert self.demo_member is not None
        level = next(lv for lv in accreditation.list_levels(self.s) if lv.slug == "ipt-practitioner")
        start = self.today - timedelta(days=400)
        cpd.record_holding(
            self.s,
            member_id=self.demo_member.id,
            level_id=level.id,
            from_on=start,
            until_on=start + timedelta(days=3 * 365),
            actor=self.staff["accreditation"],
            now=t,
        )

    def _accreditation_links(self) -> AccreditationLinks:
        return AccreditationLinks(self.election_links.base_url, self._path_for)

    def _apply(self, member_id: int, slug: str, data: applications.ApplicationData, t: datetime) -> None:
        """A member applies; two days later their supervisor confirms through the link they were e-mailed."""
        level = next(lv for lv in accreditation.list_levels(self.s) if lv.slug == slug)
        found = applications.apply(
            self.s,
            member_id=member_id,
            level_id=level.id,
            data=data,
            files=[],
            today=london_date(t),
            now=t,
            key=self.key,
            links=self._accreditation_links(),
        )
        (token,) = self._take_inbox()
        self.at(t + timedelta(days=2), self.supervisor_confirms, token)
        self.accreditation_applications.append(found.id)

    def supervisor_confirms(self, token: str, t: datetime) -> None:
        applications.supervisor_answer(self.s, token=token, confirm=True, comment="", key=self.key, now=t)

    def apply_with_conditions(self, t: datetime) -> None:
        member = next(m for m in self.in_standing() if m is not self.demo_member and m.id)
        self._apply(
            member.id,
            "ipc-practitioner",
            applications.ApplicationData(
                training_done=True,
                training_registration_id=None,
                training_note="IPC course, Manchester, March last year.",
                supervised_cases=4,
                supervision_hours=14,
                supervisor_name="Dr Helen Marsh",
                supervisor_email="helen.marsh@example.org",
            ),
            t,
        )
        self.at(t + timedelta(days=15), self.approve_with_conditions, self.accreditation_applications[-1])

    def approve_with_conditions(self, application_id: int, t: datetime) -> None:
        applications.approve(
            self.s,
            application_id=application_id,
            from_on=london_date(t),
            until_on=None,
            conditions="Works with adults only, under monthly supervision, until the next re-accreditation.",
            actor=self.staff["accreditation"],
            now=t,
            links=self._accreditation_links(),
        )

    def demo_member_applies(self, t: datetime) -> None:
        assert self.demo_member is not None
        self._apply(
            self.demo_member.id,
            "supervisor",
            applications.ApplicationData(
                training_done=True,
                training_registration_id=None,
                training_note="IPT supervisor course, London, last spring.",
                supervised_cases=3,
                supervision_hours=34,
                supervisor_name="Prof. Alan Reid",
                supervisor_email="alan.reid@example.org",
                statement="I supervise two practitioners in our NHS talking therapies service.",
            ),
            t,
        )

    def log_cpd(
        self, on: date, activity: str, hours: str, category: str, reflection: str, t: datetime
    ) -> None:
        assert self.demo_member is not None
        cpd.add_entry(
            self.s,
            member_id=self.demo_member.id,
            data=cpd.CpdData(on, activity, Decimal(hours), category, reflection),
            today=on,
            now=t,
        )

    def write_standards(self, t: datetime) -> None:
        accreditation.ensure_levels(self.s, now=t - timedelta(minutes=30))
        for level in accreditation.list_levels(self.s):
            if level.slug not in STANDARDS:
                continue
            cases, hours, cpd, text = STANDARDS[level.slug]
            accreditation.save_level(
                self.s,
                level_id=level.id,
                data=accreditation.LevelData(
                    name=level.name,
                    slug=level.slug,
                    course_id=level.course_id,
                    supervised_cases=cases,
                    supervision_hours=hours,
                    sign_off_required=level.sign_off_required,
                    cpd_hours=cpd,
                    duration_months=36,
                    description=text,
                ),
                actor=self.staff["accreditation"],
                now=t,
            )
