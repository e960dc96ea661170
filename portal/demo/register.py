"""The demo's register and Find a Therapist: a dozen members accredited (one with conditions), most of them with a
published practice profile across the regions; after the complaint linked to a member, that member is
suspended, and an older case ends in a removal."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from portal.accreditation import cpd
from portal.accreditation import service as accreditation
from portal.complaints.models import Complaint
from portal.demo.base import DemoBase
from portal.demo.timeline import london
from portal.register import directory
from portal.register import service as register

#: (level, region, towns, outward code, delivery, modalities, client groups, languages, fees, practice).
PRACTICES: tuple[tuple[str, str, tuple[str, ...], str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...],
                       tuple[int, int], str], ...] = (
    ("ipt-practitioner", "north-west", ("Manchester", "Salford"), "M1", "both", ("ipt",), ("adults", "perinatal"),
     ("English",), (55, 80), "Northern Quarter Therapy"),
    ("ipt-a-practitioner", "london", ("Camden",), "NW1", "in_person", ("ipt-a", "ipt"), ("adolescents",),
     ("English", "Polish"), (70, 95), "Camden Young People's IPT"),
    ("ipc-practitioner", "wales", ("Cardiff",), "CF10", "online", ("ipc",), ("adults", "older-adults"),
     ("English", "Welsh"), (40, 60), ""),
    ("supervisor", "scotland", ("Edinburgh", "Leith"), "EH6", "both", ("ipt", "group"), ("adults",),
     ("English",), (60, 85), "Leith Psychotherapy"),
    ("ipt-practitioner", "yorkshire", ("Leeds",), "LS1", "in_person", ("ipt", "ipt-bipolar"), ("adults",),
     ("English", "Urdu"), (50, 70), ""),
    ("ipt-practitioner", "south-west", ("Bristol",), "BS1", "online", ("ipt",), ("perinatal",), ("English",),
     (45, 65), "Harbourside IPT"),
    ("trainer", "west-midlands", ("Birmingham",), "B15", "both", ("ipt", "ipt-a", "group"),
     ("adults", "adolescents"), ("English", "Punjabi"), (75, 100), ""),
    ("ipt-practitioner", "north-east", ("Newcastle upon Tyne",), "NE1", "in_person", ("ipt",),
     ("older-adults",), ("English",), (50, 50), ""),
)  # fmt: skip


class RegisterSteps(DemoBase):
    def plan_register(self) -> None:
        # After the levels are written and the complaints received.
        self.at(london(self.today - timedelta(days=60), 11), self.accredit_practitioners)
        self.at(london(self.today - timedelta(days=50), 12), self.publish_profiles)
        self.at(london(self.today - timedelta(days=3), 15), self.decide_after_complaints)

    def _practitioners(self) -> list[int]:
        """The members the register's demo accredits: a slice of those in standing the other parts leave be."""
        return [m.id for m in self.in_standing()[20 : 20 + len(PRACTICES)]]

    def accredit_practitioners(self, t: datetime) -> None:
        levels = {level.slug: level.id for level in accreditation.list_levels(self.s)}
        for n, member_id in enumerate([*self._practitioners(), self.in_standing()[9].id]):
            slug = PRACTICES[n % len(PRACTICES)][0]
            start = self.today - timedelta(days=200 + 90 * n)
            # The fourth ends within the next 90 days (the staff page lists it).
            end = self.today + timedelta(days=45) if n == 3 else start + timedelta(days=3 * 365)
            holding = cpd.record_holding(
                self.s, member_id=member_id, level_id=levels[slug], from_on=start, until_on=end,
                actor=self.staff["accreditation"], now=t,
            )  # fmt: skip
            if n == 1:
                holding.conditions = (
                    "Works with young people only under the supervision of an IPT-A supervisor."
                )

    def publish_profiles(self, t: datetime) -> None:
        for n, member_id in enumerate([*self._practitioners(), self.in_standing()[9].id]):
            _level, region, towns, code, delivery, kinds, groups, languages, fees, name = PRACTICES[
                n % len(PRACTICES)
            ]
            directory.save_profile(
                self.s,
                member_id=member_id,
                data=directory.ProfileData(
                    published=True, practice_name=name, towns=towns, region=region, outward_code=code,
                    delivery=delivery, modalities=kinds, client_groups=groups, languages=languages,
                    fee_from=fees[0], fee_to=fees[1],
                    description="Time-limited Interpersonal Psychotherapy for depression, in 12 to 16 weekly "
                    "sessions: we look at what is happening in your relationships and roles, and how it connects "
                    "with your mood.",
                ),
                photo=None, remove_photo=False, actor=None, now=t + timedelta(minutes=n),
            )  # fmt: skip

    def decide_after_complaints(self, t: datetime) -> None:
        """The member a complaint case is linked to is suspended while it is considered (their profile goes);
        one practitioner is removed after an earlier finding."""
        suspended = self.in_standing()[9].id
        case = self.s.scalar(select(Complaint.id).where(Complaint.member_id == suspended))
        register.set_status(
            self.s, member_id=suspended, status="suspended", complaint_id=case,
            wording="Suspended while a complaint about their practice is considered.",
            actor=self.staff["complaints"], now=t,
        )  # fmt: skip
        removed = self._practitioners()[-1]
        register.set_status(
            self.s, member_id=removed, status="removed", complaint_id=None,
            wording="Removed from the register after a finding that they practised outside their competence.",
            actor=self.staff["complaints"], now=t + timedelta(minutes=5),
        )  # fmt: skip
