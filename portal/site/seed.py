"""The site a fresh install starts with: the society's current website's menu (captured from it), each page a
short placeholder telling staff what to write, and the entries that lead to the portal's own pages (the events
calendar, the National Meeting, the training courses, regional meetings and past events, the members' login, the
elections and their results).

`portal db upgrade` runs `seed_site` after the schema: it places the tree only while the site has no pages at
all, so running the upgrade again never duplicates a page nor brings back one staff deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.site import service
from portal.site.models import Page


@dataclass(frozen=True)
class SeedPage:
    title: str
    #: What staff should write here (the placeholder says it).
    brief: str = ""
    children: tuple[SeedPage, ...] = ()
    #: A menu entry that leads to one of the portal's own pages or another address (see service.LINK_ROUTES).
    link: str = ""
    in_menu: bool = True
    slug: str = ""
    #: "faq" for a question-and-answer page (see portal/site/faq.py).
    kind: str = "page"

    @property
    def the_slug(self) -> str:
        return self.slug or service.slugify(self.title)


def _p(title: str, brief: str = "", *children: SeedPage, slug: str = "", in_menu: bool = True) -> SeedPage:
    return SeedPage(title, brief, tuple(children), slug=slug, in_menu=in_menu)


def _link(title: str, link: str, slug: str = "") -> SeedPage:
    return SeedPage(title, link=link, slug=slug)


#: The captured site's menu, top to bottom (../shared/seed/ipt-uk-website.txt), then the footer's pages.
SITE: tuple[SeedPage, ...] = (
    _p(
        "Home",
        "A short introduction to IPT and to the society, for a visitor who has never heard of either.",
        _link("Contact Us", "contact:form"),
        _link("News", "site:news"),
    ),
    _p(
        "PSA & Website Projects",
        "What the society's current projects are and how members can take part.",
        _p("Website Project", "What is changing on the website, and how to send feedback."),
        _p("PSA", "The society's work towards a Professional Standards Authority accredited register."),
    ),
    _p(
        "About IPT",
        "What Interpersonal Psychotherapy is, in plain words, and where the pages below go further.",
        _p("Mission & Vision", "The society's mission and vision, as the trustees agreed them."),
        _p("Stages of IPT", "The initial, middle and ending phases of IPT, and what happens in each."),
        _p("IPT Research", "The evidence for IPT: key trials and reviews, with links to them."),
        _link("Find a Therapist", "register:directory", slug="find-a-therapist"),
        _p(
            "Policies",
            "The society's policies, each as a PDF attached to this page, with a line on what it covers.",
            _p(
                "Safeguarding",
                "The safeguarding policy: who the safeguarding lead is and how to raise a concern.",
            ),
        ),
        _link("Complaints", "complaints:page"),
        # The team room's pages (committees, people, photos) under the captured titles.
        SeedPage(
            "Meet the Team",
            link="team:index",
            children=(
                _p(
                    "About IPT UK",
                    "The society's history, its charitable status and what it does for members.",
                ),
                SeedPage(
                    "Executive Committee",
                    link="/team/executive-committee",
                    children=(
                        _link("Exec 2025 Elections", "elections:index", slug="exec-2025-elections"),
                        _link("Exec Elections May 2023", "elections:archive", slug="exec-elections-may-2023"),
                    ),
                ),
                _link("Training Committee", "/team/training-committee"),
                _link("Admin Team", "/team/admin-team"),
            ),
        ),
    ),
    _p(
        "Accreditation & Membership",
        "Why join, the levels of accreditation, and where to start.",
        _link("Accreditation Standards", "accreditation:standards", slug="accreditation-standards"),
        _link("Membership Options", "membership:options", slug="membership-options"),
        _link("Register as a Member", "membership:apply", slug="register-as-a-member"),
    ),
    _p(
        "Training & Events",
        "The training the society runs and recognises, and its meetings and events.",
        _link("Events Calendar", "events:calendar"),
        _link("IPT UK National Meeting", "events:calendar?kind=meeting", slug="ipt-uk-national-meeting"),
        # The training room's course pages (the six courses a fresh install places), its list of external
        # CPD courses, and the events room's regional meetings and archive.
        _link("IPT Practitioner Training", "/training/ipt-practitioner"),
        _link("IPT-A Practitioner Training", "/training/ipt-a-practitioner"),
        _link("IPT Supervisor Training", "/training/ipt-supervisor"),
        _link("IPT Refresher Training", "/training/ipt-refresher"),
        _link("IPC Training", "/training/ipc"),
        _link("Regional Meetings & Events", "events:regional", slug="regional-meetings-events"),
        SeedPage(
            "Other Courses",
            link="training:index",
            children=(
                _link("IPT for Bipolar", "/training/ipt-for-bipolar"),
                _link("External CPD Courses", "training:cpd"),
                _link("IPC Training", "/training/ipc", slug="ipc-training"),
            ),
        ),
        _link("Past Events", "events:archive"),
    ),
    _p(
        "Members' Area",
        "What members find here, and how to log in.",
        _link("Members' Login", "accounts:login", slug="members-login"),
        SeedPage(
            "Membership FAQs",
            "the questions members ask about joining, renewing and their accreditation",
            kind="faq",
        ),
        SeedPage(
            "Training FAQs",
            "the questions asked about the trainings: places, prerequisites, certificates",
            kind="faq",
        ),
    ),
    _p(
        "ISIPT Con 2024",
        "The ISIPT conference 2024: its programme, speakers and slides.",
        slug="isipt-con-2024",
    ),
    _p("Cookies", "Which cookies the site sets (only those it needs) and why.", in_menu=False),
    _p(
        "Terms and Conditions", "The terms of using the site and booking events.", slug="terms", in_menu=False
    ),
    _p(
        "Privacy Notice",
        "What personal data the society holds, why, for how long, and your rights.",
        in_menu=False,
    ),
    _p(
        "Accessibility Statement",
        "How accessible the site is, what is known not to be, and how to ask for another format.",
        slug="accessibility",
        in_menu=False,
    ),
)

#: The footer's links, by the paths the tree gives them.
FOOTER_PATHS = ("contact-us", "cookies", "terms", "privacy-notice", "accessibility")

#: The home page's introduction, as the society's current site has it.
HOME_INTRODUCTION = """\
## A Brief Introduction to IPT

### What is Interpersonal Psychotherapy?

Interpersonal Psychotherapy (Klerman & Weissman et al, 1984) provides a pragmatic, time-limited and focused
approach to the treatment of major depression.

It is modest in its use of psychotherapy jargon and promotes attention to the relationship-based issues which
are central to the experience of many depressed patients.

### Treatment

The treatment does not become entangled in questions of causation, acknowledging the capacity for depression to
both precipitate and reflect interpersonal change and difficulty. Instead it attends to difficulties arising in
the daily experience of maintaining relationships and resolving difficulties while suffering an episode of
major depression.

### Aims

The fundamental clinical task of IPT is to help patients to learn to link mood with interpersonal contacts, and
to recognise that by appropriately addressing interpersonal situations they may simultaneously improve both
their relationships and depressive state.

### Goals of Interpersonal Psychotherapy

1. To reduce the symptoms of depression.
2. To improve the quality of the patient's social and interpersonal functioning.

IPT is an evidence-based psychotherapy. It has been evaluated as both an acute intervention (Elkin et al, 1989)
and as a maintenance therapy (Klerman et al, 1974; Frank et al, 1990) for major depression.

### Adaptation & Use of Interpersonal Psychotherapy

IPT has also been adapted for use with different age groups including adolescents (Mufson et al, 1993) and
older adults (Reynolds et al, 1999), as well as medically ill depressed patients (Markowitz 1998; O', 2000);
Bulimia Nervosa (Fairburn 1993) and Bulimic Disorders (Whight et al, 2011), Bipolar Disorder (Frank et al 1997),
and Dysthymia (Markowitz, 1998).

Applications with anxiety disorders and post traumatic stress disorder are ongoing. IPT was originally designed
as an individual therapy but has since been modified for use in a group setting (Wilfley et al, 2000).

### Limitations of Therapy

As a short-term therapy with a narrow and defined focus we do not claim to effect major shifts in attachment
status or significant personality change (though IPT can begin the process of both). Neither do we claim to
make changes beyond the scope of the defined intervention. It is important for all IPT UK members to refer a
service user to another practitioner if their needs surpass their level of IPT knowledge and skills. It is
crucial to ensure that all IPT UK members are trained for the level of practice, whether this is a
practitioner, supervisor, or trainer, in accordance with IPT UK's accreditation standards. Please see our Code
of Conduct.

As a therapy that aims to bring about positive change in people's lives, we are also mindful of the potential
risks of harm. All IPT UK members are expected to adhere to our policies and guidance to minimise these risks.
Should any concerns arise, we strongly encourage the use of our
[Complaints Procedure](/complaints).

### The Guide to Interpersonal Psychotherapy

*The Guide to Interpersonal Psychotherapy* is the definitive, practical guide to Interpersonal Psychotherapy
(IPT) for clinicians and researchers. IPT is a well-researched, time-limited, and diagnosis-focused therapy. An
update and expansion of the original 1984, 2000, and 2007 IPT manuals, this guide illustrates not only
individual IPT treatment for patients with major depression but adaptations of IPT for different diagnoses,
patient populations, and treatment formats. This book is the basis for the extensive research that has
validated IPT and led to its listing in treatment guidelines.
"""


def placeholder(page: SeedPage) -> str:
    if page.kind == "faq":
        return (
            f"*This page is waiting for its questions.* Staff who edit the website: write here {page.brief}, "
            f"each question on a line of its own starting with ## and its answer below it.\n\n"
            f"## How do I edit this page?\n\n"
            f"Log in, open **Website** and choose **{page.title}**."
        )
    brief = page.brief[0].lower() + page.brief[1:] if page.brief[1:2].islower() else page.brief
    return (
        f"*This page is waiting for its text.* Staff who edit the website: write here {brief}\n\n"
        f"Log in, open **Website** and choose **{page.title}** to edit it."
    )


def walk(pages: tuple[SeedPage, ...] = SITE, parent: str = "") -> list[tuple[str, SeedPage]]:
    """(path, page) of every page of the tree, parents first."""
    out: list[tuple[str, SeedPage]] = []
    for page in pages:
        if not parent and page.the_slug == service.HOME_SLUG:
            path = ""
        else:
            path = f"{parent}/{page.the_slug}".strip("/")
        out.append((path, page))
        out.extend(walk(page.children, path))
    return out


def seed_site(session: Session, *, now: datetime) -> int:
    """Place the captured site's tree of placeholder pages, all published, when the site has no pages yet;
    the number placed (0 when it already had some)."""
    if session.scalar(select(func.count()).select_from(Page)):
        return 0
    placed = 0

    def place(pages: tuple[SeedPage, ...], parent_id: int | None) -> None:
        nonlocal placed
        for position, item in enumerate(pages):
            created = service.create_page(
                session,
                values=service.PageValues(
                    title=item.title,
                    slug=item.the_slug,
                    parent_id=parent_id,
                    position=position,
                    body="" if item.link else placeholder(item),
                    link=item.link,
                    status="published",
                    in_menu=item.in_menu,
                    kind=item.kind,
                ),
                actor=None,
                now=now,
                reserved=(),
                note="Placed by the fresh install",
                audited=False,
            )
            placed += 1
            place(item.children, created.id)

    place(SITE, None)
    return placed
