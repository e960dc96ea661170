"""The demo's accreditation: the five levels as `portal db upgrade` places them (naming the courses), then the
accreditation officer writes each standard, so the public Accreditation Standards page reads as the society's."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.accreditation import service as accreditation
from portal.demo.base import DemoBase

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


class AccreditationSteps(DemoBase):
    def plan_accreditation(self) -> None:
        # After the courses are placed (their ids are what the levels name).
        self.at(self.origin + timedelta(days=3, hours=3), self.write_standards)

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
