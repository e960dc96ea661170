"""Training and events beyond the three big ones: the website editor writes the six courses' pages, the office
puts their dates on the calendar (one practitioner block already taught), the regional groups announce their
meetings, the office keeps a list of external CPD courses (one of them over), and the ISIPT conference IPT UK
hosted in June 2024 is recorded with its programme, so the archive has it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from portal.demo.events import EventSteps
from portal.demo.timeline import london, next_weekday
from portal.events import catalogue
from portal.events.models import Event
from portal.training import service as training

#: slug: (summary, what it is, who it is for, prerequisites)
COURSES: dict[str, tuple[str, str, str, str]] = {
    "ipt-practitioner": (
        "The practitioner course in IPT for depression: four days of teaching, then supervised practice.",
        """Interpersonal Psychotherapy is a time-limited, structured therapy for depression that links the
client's mood with what is happening in their relationships. The practitioner course teaches the model, its
three phases and its four problem areas (grief, role disputes, role transitions and interpersonal sensitivity).

- **Teaching:** four days, in two blocks of two days, usually online.
- **Supervised practice:** eight cases over about a year, with an accredited IPT supervisor.
- **Fees:** £850 for members, £950 for non-members, including the teaching days; supervision is arranged
  separately.

Completing the teaching and the supervised cases leads to accreditation as an IPT practitioner.""",
        """Qualified mental health professionals who see adults with depression: clinical and counselling
psychologists, psychiatrists, mental health nurses, high-intensity therapists, counsellors and
psychotherapists.""",
        """- A core professional training in a mental health profession.
- Access to clients with depression in your work, to take on supervised training cases.
- Your manager's agreement to the time for supervision.""",
    ),
    "ipt-a-practitioner": (
        "IPT for adolescents with depression, with sessions that can involve parents or carers.",
        """IPT-A adapts IPT for young people aged 12 to 18: shorter sessions, attention to the family and to
school, and sessions that can involve a parent or carer. The course has four days of teaching and supervised
practice of four cases.

Practitioners already accredited in IPT may take a shortened two-day conversion course.""",
        "Professionals working in child and adolescent mental health services, in schools or in youth services.",
        """- A core professional training, and experience of therapeutic work with adolescents.
- Access to adolescents with depression for supervised cases.""",
    ),
    "ipt-supervisor": (
        "Becoming an accredited IPT supervisor.",
        """The two-day supervisor course covers the structure of IPT supervision, rating recorded sessions with
the adherence scale, giving feedback, and supporting practitioners through their training cases towards
accreditation. It is followed by the supervision of one trainee under the eye of a senior supervisor.""",
        "Accredited IPT practitioners who want to supervise trainees in their service or region.",
        """- Accredited as an IPT practitioner for at least two years.
- A current IPT caseload.
- A reference from your own IPT supervisor.""",
    ),
    "ipt-refresher": (
        "A day for practitioners returning to IPT or renewing their accreditation.",
        """The refresher day revisits the IPT model, the four problem areas and the phases of treatment, with
practice in small groups using recorded role-plays. It counts as six hours of CPD.""",
        """Practitioners who have not delivered IPT in the last year, and anyone renewing their accreditation
who wants to bring their practice up to date.""",
        "Trained in IPT (the practitioner course or an equivalent approved by the Training Committee).",
    ),
    "ipc": (
        "Interpersonal Counselling: a brief intervention of up to six sessions, based on IPT.",
        """Interpersonal Counselling (IPC) is a brief, structured intervention based on IPT, for people with
milder depression or distress. It keeps IPT's focus on relationships and life events in fewer, shorter
sessions. The course has two days of teaching and three supervised cases.""",
        """Practitioners in primary care, wellbeing and student services, and others who are not
psychotherapists but offer brief psychological help.""",
        "A professional role in which you offer brief psychological help, and access to suitable clients.",
    ),
    "ipt-for-bipolar": (
        "Interpersonal and Social Rhythm Therapy (IPSRT) for bipolar disorder.",
        """IPSRT combines IPT with work on the regularity of daily routines (sleep, meals, activity), which helps
stabilise mood in bipolar disorder. The two-day course runs once a year and is followed by two supervised
cases.""",
        "Accredited IPT practitioners working with people with bipolar disorder.",
        """- Accredited as an IPT practitioner.
- Working in a service that sees people with bipolar disorder, with access to psychiatric review.""",
    ),
}

#: The courses' dates: (course slug, days from today, days long, title, venue, price in pence).
DATES: tuple[tuple[str, int, int, str, str, int], ...] = (
    ("ipt-practitioner", -110, 2, "IPT Practitioner Training: autumn teaching block", "Online", 85000),
    ("ipt-practitioner", 38, 2, "IPT Practitioner Training: spring teaching block", "Online", 85000),
    ("ipt-practitioner", 190, 2, "IPT Practitioner Training: autumn teaching block", "Online", 85000),
    ("ipt-a-practitioner", 66, 2, "IPT-A Practitioner Training", "The Tavistock Centre, London", 85000),
    ("ipt-supervisor", 101, 2, "IPT Supervisor Training", "Friends Meeting House, Manchester", 40000),
    ("ipt-refresher", 24, 1, "IPT Refresher Day", "Birmingham and Midland Institute", 9500),
    ("ipc", 52, 2, "IPC Training", "Online", 35000),
    ("ipt-for-bipolar", 143, 2, "IPT for Bipolar Disorder (IPSRT)", "Online", 45000),
)

#: Regional meetings: (region, days from today, title, venue).
REGIONAL: tuple[tuple[str, int, str, str], ...] = (
    ("north-west", -40, "North West IPT group: winter meeting", "Friends Meeting House, Manchester"),
    ("north-west", 19, "North West IPT group: case discussion", "Friends Meeting House, Manchester"),
    ("london", 12, "London and South East peer supervision evening", "Online"),
    ("london", 75, "London IPT group: IPT and long-term conditions", "Resource for London, Holloway Road"),
    ("scotland", 33, "Scotland IPT network: spring meeting", "The Lighthouse, Glasgow"),
    (
        "west-midlands",
        47,
        "Midlands IPT group: grief and complicated grief",
        "Birmingham and Midland Institute",
    ),
    ("wales", 61, "IPT Cymru: interpersonal sensitivity", "Online"),
)

#: External CPD courses: (title, provider, link, days from today to the first day or None, days long, note).
EXTERNAL: tuple[tuple[str, str, str, int | None, int, str], ...] = (
    (
        "Working with grief and loss",
        "Cruse Bereavement Support",
        "https://www.cruse.org.uk/training/",
        27,
        1,
        "A one-day workshop that pairs well with IPT's grief problem area.",
    ),
    (
        "Group IPT: an introduction",
        "International Society for Interpersonal Psychotherapy",
        "https://interpersonalpsychotherapy.org/",
        58,
        2,
        "Two online half-days on running IPT in groups.",
    ),
    (
        "Measurement-based care in psychological therapies",
        "Example Learning Network",
        "https://learning.example.org/measurement-based-care",
        None,
        0,
        "A self-paced online course, about six hours; counts towards CPD.",
    ),
    (
        "Perinatal mental health: assessment and risk",
        "Example Perinatal Partnership",
        "https://perinatal.example.org/courses/assessment",
        -20,
        1,
        "Last month's one-day course (kept on the staff list; no longer shown to visitors).",
    ),
)

ISIPT_2024 = "isipt-conference-2024"
ISIPT_PROGRAMME = """IPT UK hosted the international conference of the International Society for Interpersonal
Psychotherapy in London in June 2024: 420 delegates from 31 countries, three keynotes, twelve symposia and
six workshops.

### Wednesday 26 June

- **Opening keynote:** IPT in low-resource settings: lessons from a decade of task-sharing.
- **Symposium:** Adapting IPT for perinatal depression.
- **Symposium:** Interpersonal counselling in primary care: the evidence so far.

### Thursday 27 June

- **Keynote:** What changes in IPT? Mechanisms and mediators.
- **Symposium:** IPT for adolescents: families, schools and digital delivery.
- Poster session and the conference dinner.

### Friday 28 June

- **Keynote:** Training and fidelity: keeping IPT IPT at scale.
- **Round table:** The future of IPT training in the UK.

Slides from the keynotes are available to members from the office."""
ISIPT_SESSIONS: tuple[tuple[int, int, int, str], ...] = (
    # (day of the conference, start hour, end hour, session)
    (0, 14, 16, "Workshop: group IPT"),
    (1, 9, 11, "Workshop: IPT-A with families"),
    (1, 14, 16, "Workshop: rating fidelity from recordings"),
)


class TrainingSteps(EventSteps):
    def __init__(self, *args: Any, **options: Any) -> None:
        super().__init__(*args, **options)
        #: The events this part made (outside `self.events`, whose bookings the demo's report lists).
        self.other_events: dict[str, Event] = {}

    def plan_training(self) -> None:
        self.at(self.origin + timedelta(days=2), self.record_isipt_2024)
        self.at(self.origin + timedelta(days=3, hours=2), self.write_courses)
        for number, (slug, offset, length, title, venue, price) in enumerate(DATES):
            announced = london(self.today + timedelta(days=min(offset - 90, -5)), 10, number)
            self.at(announced, self.add_course_date, slug, offset, length, title, venue, price)
        for number, (region, offset, title, venue) in enumerate(REGIONAL):
            announced = london(self.today + timedelta(days=min(offset - 45, -3)), 14, number)
            self.at(announced, self.add_regional, region, offset, title, venue)
        for number, item in enumerate(EXTERNAL):
            self.at(london(self.today - timedelta(days=50 - number), 11), self.add_external, item)

    def _event(
        self, name: str, data: catalogue.EventData, tickets: list[catalogue.TicketData], t: datetime
    ) -> Event:
        event = catalogue.create_event(self.s, data=data, actor=self.staff["office"], now=t)
        for ticket in tickets:
            catalogue.save_ticket(
                self.s,
                event_id=event.id,
                data=ticket,
                actor=self.staff["office"],
                now=t,
                links=self.event_links,
            )
        self.other_events[name] = event
        return event

    def record_isipt_2024(self, t: datetime) -> None:
        """The office records the conference of June 2024 (before the portal), for the archive."""
        starts = datetime(2024, 6, 26, 8, 30, tzinfo=UTC)
        data = catalogue.EventData(
            title="ISIPT Conference 2024",
            slug=ISIPT_2024,
            kind="conference",
            starts_at=starts,
            ends_at=datetime(2024, 6, 28, 16, 0, tzinfo=UTC),
            registration_opens_at=datetime(2023, 11, 1, 9, 0, tzinfo=UTC),
            registration_closes_at=datetime(2024, 6, 14, 16, 0, tzinfo=UTC),
            venue="Queen Elizabeth II Centre",
            address="Broad Sanctuary\nLondon SW1P 3EE",
            description=ISIPT_PROGRAMME,
            contact_email="conference@example.org",
            status="published",
        )
        event = self._event("isipt_2024", data, [catalogue.TicketData("Delegate", price=39500)], t)
        for day, start, end, title in ISIPT_SESSIONS:
            on = starts.date() + timedelta(days=day)
            catalogue.save_workshop(
                self.s,
                event_id=event.id,
                data=catalogue.WorkshopData(
                    title,
                    datetime(on.year, on.month, on.day, start - 1, tzinfo=UTC),
                    datetime(on.year, on.month, on.day, end - 1, tzinfo=UTC),
                ),
                actor=self.staff["office"],
                now=t,
                links=self.event_links,
            )

    def write_courses(self, t: datetime) -> None:
        """The six courses as `portal db upgrade` places them, then the editor writes each one."""
        training.ensure_courses(self.s, now=t - timedelta(hours=1))
        for course in training.list_courses(self.s, include_drafts=True):
            if course.slug not in COURSES:
                continue
            summary, about, audience, prerequisites = COURSES[course.slug]
            training.save_course(
                self.s,
                course_id=course.id,
                data=training.CourseData(
                    title=course.title,
                    slug=course.slug,
                    summary=summary,
                    about=about,
                    audience=audience,
                    prerequisites=prerequisites,
                    position=course.position,
                    status="published",
                ),
                actor=self.staff["editor"],
                now=t,
            )

    def add_course_date(
        self, slug: str, offset: int, length: int, title: str, venue: str, price: int, t: datetime
    ) -> None:
        course = training.course_by_slug(self.s, slug, include_drafts=True)
        day = next_weekday(self.today + timedelta(days=offset), 1)  # a Tuesday
        starts = london(day, 9, 30)
        data = catalogue.EventData(
            title=title,
            slug=f"{slug}-{day.isoformat()}",
            kind="training",
            course_id=course.id,
            starts_at=starts,
            ends_at=london(day + timedelta(days=length - 1), 16, 30),
            registration_opens_at=t,
            registration_closes_at=starts - timedelta(days=7),
            venue=venue,
            description=f"Teaching for [{course.title}](/training/{slug}): see the course's page for who it is "
            "for and what you need before you book.",
            capacity=24,
            contact_email="training@example.org",
            status="published",
            payment_due_days=14,
        )
        tickets = [
            catalogue.TicketData("Member", price=price, member_only=True),
            catalogue.TicketData("Non-member", price=price + price // 8, position=1),
        ]
        self._event(f"course:{data.slug}", data, tickets, t)

    def add_regional(self, region: str, offset: int, title: str, venue: str, t: datetime) -> None:
        day = next_weekday(self.today + timedelta(days=offset), 3)  # a Thursday
        starts = london(day, 18 if venue == "Online" else 14)
        data = catalogue.EventData(
            title=title,
            slug=f"regional-{region}-{day.isoformat()}",
            kind="regional",
            region=region,
            starts_at=starts,
            ends_at=starts + timedelta(hours=2 if venue == "Online" else 3),
            registration_opens_at=t,
            registration_closes_at=starts - timedelta(hours=2),
            venue=venue,
            description="Case discussion, a short talk and peer support. Free for members; bring a case to "
            "discuss if you have one (anonymised).",
            capacity=30,
            members_only=True,
            status="published",
        )
        self._event(f"regional:{data.slug}", data, [catalogue.TicketData("Member", price=0)], t)

    def add_external(self, item: tuple[str, str, str, int | None, int, str], t: datetime) -> None:
        title, provider, url, offset, length, note = item
        starts: date | None = None if offset is None else self.today + timedelta(days=offset)
        ends = None if starts is None or length <= 1 else starts + timedelta(days=length - 1)
        training.save_external(
            self.s,
            item_id=None,
            data=training.ExternalData(title, provider, url, starts, ends, note),
            actor=self.staff["office"],
            now=t,
        )
