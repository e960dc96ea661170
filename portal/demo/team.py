"""Meet the Team: the committees' people, posts, biographies and portraits. The Executive Committee is taken
from last year's published election by the office, as staff would do it (a person confirms; nothing is
automatic); the Training Committee and the Admin Team are added by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from portal.demo.base import DemoBase
from portal.elections import photos
from portal.team import service as team
from portal.team.models import Committee

DESCRIPTIONS = {
    "executive-committee": (
        "The Executive Committee runs IPT UK between Annual General Meetings: its finances, its membership and "
        "its standards. Its members are elected by the membership for three years; the Chair, the Treasurer and "
        "the Secretary are its officers."
    ),
    "training-committee": (
        "The Training Committee sets the standards for IPT training in the UK, approves training courses and "
        "supervisors, and reviews applications for accreditation."
    ),
    "admin-team": "The Admin Team answers members' questions, keeps the register and runs the society's events.",
}

HAND_PICKED = {
    "training-committee": (
        (
            "Dr Priya Raman",
            "Chair",
            "Consultant clinical psychologist and IPT supervisor; trains IPT-A practitioners.",
        ),
        (
            "Tom Gallagher",
            "Accreditation lead",
            "IPT practitioner and supervisor in primary care mental health.",
        ),
        (
            "Aisha Mensah",
            "Course approvals",
            "Leads IPT training for a regional NHS talking-therapies service.",
        ),
    ),
    "admin-team": (
        ("Sam Patel", "Office manager", "Looks after membership, renewals and the conference's bookings."),
        ("Joanna Wood", "Events and CPD", "Runs the National Meeting and the society's CPD records."),
    ),
}

BIOS = (
    "Has practised IPT in adult mental health services for over ten years and supervises trainees.",
    "Works in perinatal mental health and teaches IPT on the regional training programme.",
    "An IPT-A practitioner in child and adolescent mental health services, with a research interest in groups.",
    "Leads a primary care psychological therapies team and chairs its clinical governance group.",
)


class TeamSteps(DemoBase):
    def plan_team(self) -> None:
        self.at(self.now - timedelta(days=300), self.fill_committees)

    def fill_committees(self, t: datetime) -> None:
        from portal.demo.elections import PORTRAIT_COLOURS, portrait

        office = self.staff["office"]
        team.ensure_defaults(self.s, now=t)
        for c in self.s.scalars(select(Committee)):
            c.description = DESCRIPTIONS.get(c.slug, c.description)
        published = team.published_elections(self.s)
        executive = team.committee_by_slug(self.s, "executive-committee")
        if published:
            for n, member in enumerate(
                team.take_elected(
                    self.s, actor=office, committee_id=executive.id, election_id=published[0].id, now=t
                )
            ):
                initials = "".join(part[0] for part in member.name.split()[:2])
                clean = photos.clean_photo(portrait(initials, PORTRAIT_COLOURS[n % len(PORTRAIT_COLOURS)]))
                team.update_person(
                    self.s,
                    actor=office,
                    person_id=member.id,
                    data=team.PersonData(
                        name=member.name, post=member.post, bio=BIOS[n % len(BIOS)], photo=clean.jpeg
                    ),
                    now=t,
                )
        for slug, people in HAND_PICKED.items():
            target = team.committee_by_slug(self.s, slug)
            for name, post, bio in people:
                team.add_person(
                    self.s, actor=office, committee_id=target.id, data=team.PersonData(name, post, bio), now=t
                )
