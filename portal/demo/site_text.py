"""The demo website's words: a summary and a Markdown text for every page of the captured menu (the home page's
introduction is the society's own, from `portal.site.seed`). Written for the demo; the people and numbers are
made up."""

from __future__ import annotations

from portal.site.seed import HOME_INTRODUCTION

#: path -> (summary, body)
PAGES: dict[str, tuple[str, str]] = {
    "": (
        "The UK society for Interpersonal Psychotherapy: training, accreditation, and a community of practice.",
        HOME_INTRODUCTION,
    ),
    "psa-website-projects": (
        "Two projects the Executive Committee is leading this year, and how members can help.",
        """This year the society is working on two projects that will change how members and the public meet us:
a new website, and an application to the Professional Standards Authority's Accredited Registers programme.

Both are led by members of the Executive Committee with the office, and both need members' views. The pages
below say where each stands.""",
    ),
    "psa-website-projects/website-project": (
        "The society's new website and members' portal.",
        """The website you are reading is the society's new portal: one place for the public pages, event booking,
the National Meeting, and Executive Committee elections.

### What has changed

- Booking for the conference and the National Meeting happens here, with confirmation by e-mail.
- Elections are run here, with secret ballots that even the office cannot read.
- The office edits every page itself, so information stays current.

### Tell us what you think

Please send comments to [office@example.org](mailto:office@example.org) with *Website* in the subject.""",
    ),
    "psa-website-projects/psa": (
        "Working towards a Professional Standards Authority accredited register.",
        """The Professional Standards Authority (PSA) accredits registers of health and care practitioners who are
not regulated by law. An accredited register gives the public confidence that the practitioners on it meet
agreed standards.

The Executive Committee agreed in 2024 to prepare an application. The work so far:

1. A review of our accreditation standards against the PSA's standards (done).
2. A public register of accredited practitioners (in progress).
3. A revised complaints procedure with an independent stage (out for consultation).

Members will be consulted before the application is submitted.""",
    ),
    "about-ipt": (
        "What Interpersonal Psychotherapy is, and where to learn more.",
        """Interpersonal Psychotherapy (IPT) is a time-limited, structured psychological therapy. It was developed
to treat depression, and it focuses on the link between a person's mood and what is happening in their
relationships.

IPT is recommended in NICE guidance for depression and is delivered in the NHS Talking Therapies programme.
The pages in this section describe how IPT works, the evidence for it, and how to find a practitioner.""",
    ),
    "about-ipt/mission-vision": (
        "Why the society exists and what it works towards.",
        """### Our mission

To promote the practice of Interpersonal Psychotherapy in the United Kingdom to a high standard, so that
people who could benefit from IPT can receive it from a properly trained practitioner.

### Our vision

A UK where IPT is available to everyone who needs it, delivered by practitioners who are trained, supervised
and supported by a thriving professional community.

### What we do

- Set and maintain standards for training and accreditation.
- Run training, refresher and supervisor courses, and an annual National Meeting.
- Keep a register of accredited practitioners.
- Support research into IPT and its adaptations.""",
    ),
    "about-ipt/stages-of-ipt": (
        "The three phases of a course of IPT.",
        """A course of IPT for depression usually lasts **12 to 16 weekly sessions**, in three phases.

### Initial phase (sessions 1 to 4)

The therapist and client review symptoms, agree that depression is a treatable illness, and complete an
*interpersonal inventory* of important relationships. Together they choose a focus: grief, a role dispute,
a role transition, or interpersonal sensitivity.

### Middle phase (sessions 5 to 12)

Work on the chosen focus: understanding what is happening in the relationships involved, trying new ways of
communicating, and linking changes in mood with changes in those relationships.

### Ending phase (final sessions)

Reviewing progress, recognising the client's own skills, planning for possible future difficulties and
acknowledging the feelings that ending brings.""",
    ),
    "about-ipt/ipt-research": (
        "The evidence behind IPT, with pointers to key studies.",
        """IPT is one of the most studied psychological therapies. Randomised trials have shown it to be effective
for depression in adults, adolescents and older people, and as a maintenance treatment to prevent relapse.

### Key studies

- Elkin et al (1989), the NIMH Treatment of Depression Collaborative Research Program.
- Frank et al (1990), IPT as a maintenance treatment for recurrent depression.
- Mufson et al (2004), IPT for depressed adolescents in school-based clinics.
- Cuijpers et al (2016), a meta-analysis of IPT across mental health problems.

Members who are researching IPT are welcome to present at the National Meeting; contact the office.""",
    ),
    "about-ipt/policies": (
        "The policies every member is expected to follow.",
        """The society's policies are agreed by the Executive Committee and reviewed every two years.

- **Code of Conduct**: the standards of behaviour expected of every member.
- **Safeguarding**: see the page below.
- **Equality, Diversity and Inclusion**: how the society works to be open to all.
- **Data Protection**: how personal data is handled (see the [Privacy Notice](/privacy-notice)).

Copies of each policy are available from the office.""",
    ),
    "about-ipt/policies/safeguarding": (
        "How the society protects children and adults at risk.",
        """Everyone has the right to be safe. IPT UK members work with people who may be vulnerable, and the
society expects every member to follow the safeguarding procedures of their employer and profession.

### The society's safeguarding lead

Dr Anika Rao (Executive Committee) is the safeguarding lead. Contact her through the office, marking your
message *Safeguarding*.

### Raising a concern

If a child or adult is in immediate danger, call **999**. Otherwise, report your concern to the local
authority's safeguarding team, and tell the safeguarding lead if it involves a member or a society event.""",
    ),
    "about-ipt/meet-the-team/about-ipt-uk": (
        "The society's history and what it does for its members.",
        """IPT UK was founded in 2007 by practitioners and trainers who wanted a professional home for
Interpersonal Psychotherapy in the UK. It became a company limited by guarantee in 2015 and a registered
charity soon after.

Today the society has around 300 members: trainee and accredited practitioners, supervisors and trainers,
working in the NHS, in universities and in private practice. Members receive reduced fees for training and the
National Meeting, a vote in the Executive Committee elections, and access to the members' area.""",
    ),
    "accreditation-membership": (
        "Join the society, and become accredited at the level you practise.",
        """Membership is open to anyone with an interest in IPT. Accreditation recognises that a member has been
trained and supervised to the society's standards, at the level of practitioner, supervisor or trainer.""",
    ),
    "training-events": (
        "The courses the society runs and the events where members meet.",
        """The society runs the core IPT courses, a refresher day and a supervisor course, and keeps a list of
CPD courses by other providers. Members meet at the National Meeting each year, at their regional groups'
meetings, and at the international conference when it comes to the UK.

- [Our courses](/training), each with its upcoming dates to book.
- Upcoming events of every kind are on the [Events Calendar](/events).
- [Regional meetings](/events/regional), region by region.
- [Past events](/events/archive), year by year, with their programmes.""",
    ),
    "members-area": (
        "The portal's pages for members: bookings, elections, your account.",
        """Log in to see your bookings and badges, to nominate and vote in the Executive Committee elections, and
to keep your contact details up to date. If you have not activated your account, use the link in the e-mail
the office sent you, or ask the office for a new one.""",
    ),
    "members-area/membership-faqs": (
        "Answers to the questions members ask most.",
        """## When does my membership renew?

A year from the day you joined. The office e-mails you a month before.

## I have changed my e-mail address. What do I do?

Log in and change it under **My account**. You will be asked to confirm the new address.

## Can I pay by bank transfer?

Yes. The bank details are on your invoice; please quote the invoice number as the reference.

## How do I become accredited?

See the [Accreditation Standards](/accreditation/standards).""",
    ),
    "members-area/training-faqs": (
        "Answers to common questions about the society's courses.",
        """## Do I need to be a member to book a course?

No, but members pay less.

## Will I get a certificate?

Yes: a certificate of attendance after the teaching days, and an accreditation certificate once your
supervised cases are approved.

## Are courses online or in person?

Most teaching is online; the refresher day and some supervisor courses are in person. Each event says which.""",
    ),
    "isipt-con-2024": (
        "The International Society for IPT conference, hosted by IPT UK in 2024.",
        """In June 2024 IPT UK hosted the international conference of the International Society for Interpersonal
Psychotherapy, with 420 delegates from 31 countries.

### Programme highlights

- **Keynote:** IPT in low-resource settings: lessons from a decade of task-sharing.
- **Symposium:** Adapting IPT for perinatal depression.
- **Workshops:** Group IPT; IPT-A with families; rating fidelity from recordings.

Its full programme is on the conference's page, [ISIPT Conference 2024](/events/isipt-conference-2024), in
the [archive of past events](/events/archive). Slides from the keynotes are available to members from the
office.""",
    ),
    "cookies": (
        "The only cookies this site sets, and why.",
        """This site sets only the cookies it needs to work. It sets no advertising or tracking cookies and uses
no third-party analytics.

| Cookie | What it is for | How long |
|---|---|---|
| `portal_session` | Keeps you logged in | Until you log out, or after a period of inactivity |
| `portal_csrf` | Protects forms against forgery by other sites | For your browser session |

Because these cookies are strictly necessary, the law does not require your consent for them.""",
    ),
    "terms": (
        "The terms of using this site and booking events.",
        """By using this site you agree to these terms.

### Bookings

A booking is confirmed when you receive a confirmation e-mail. Fees are payable within 30 days of the invoice
or before the event, whichever is sooner. Cancellations more than 14 days before an event are refunded less a
£20 administration fee; later cancellations are not refunded, but you may transfer your place to a colleague.

### Content

The content of this site is the society's. You may print or download pages for your own use.""",
    ),
    "privacy-notice": (
        "What personal data the society holds, why, and your rights.",
        """IPT UK is the data controller for the personal data it holds about members, delegates and visitors.

### What we hold and why

- **Members:** your name, contact details, membership and accreditation, to provide membership.
- **Delegates:** your booking details, to run the event and issue invoices and certificates.
- **Elections:** whether you voted, never how you voted.

### How long

Membership records are kept for six years after membership ends; booking records for six years for accounting.

### Your rights

You may ask for a copy of your data, to correct it, or to have it erased where the law allows. Contact the
office. You may also complain to the Information Commissioner's Office.""",
    ),
    "accessibility": (
        "How accessible this site is, and how to ask for another format.",
        """We want everyone to be able to use this site. It is designed to meet the Web Content Accessibility
Guidelines (WCAG) 2.2 at level AA:

- every page works with a keyboard alone, and the menu opens by keyboard and touch;
- pages work with screen readers and at 400% zoom;
- colour is never the only way information is shown.

### Known issues

Some older PDFs attached to pages may not be fully accessible. Ask the office for another format.

### Contact us

If you find a problem, e-mail [office@example.org](mailto:office@example.org). We aim to reply within five
working days.""",
    ),
}

#: A later edit the demo makes (so a page has a history to read): the society has grown.
HISTORY_EDIT = ("about-ipt/meet-the-team/about-ipt-uk",
                    "Today the society has around 300 members",
                    "Today the society has more than 300 members")  # fmt: skip

#: The categories' terms, as the office sets them (the Membership Options page is drawn from them):
#: code → (annual fee in pence, who is eligible, evidence needed, a file asked for).
CATEGORY_TERMS: dict[str, tuple[int, str, str, bool]] = {
    "trainee": (3000, "Practitioners in IPT training.", "A letter from your course or supervisor.", True),
    "basic": (4500, "Anyone with an interest in IPT.", "", False),
    "member_plus": (
        7500,
        "Accredited practitioners, supervisors and trainers; listed on the public register.",
        "Your accreditation certificate.",
        True,
    ),
    "organisation": (25000, "NHS trusts and services, with up to five named staff.", "", False),
    "honorary": (0, "Awarded by the Executive Committee.", "", False),
}

#: The news of the past months: (days before today, title, slug, summary, Markdown text, status).
NEWS: list[tuple[int, str, str, str, str, str]] = [
    (
        150,
        "Our new website and members' portal",
        "new-website-and-members-portal",
        "The society's website, event booking and elections now live in one place, edited by the office.",
        """The society's website has moved to its new home. Everything the old site had is here, and more:

- **booking** for the conference, the National Meeting and training, with confirmation by e-mail;
- **elections** to the Executive Committee, with secret ballots;
- **My account**, where members keep their details up to date.

Members will receive an e-mail inviting them to activate their account. Please tell us what you think
through [Contact Us](/contact).""",
        "published",
    ),
    (
        90,
        "Booking is open for the ISIPT conference",
        "isipt-conference-booking-open",
        "Early-bird tickets, workshops and the programme: book your place now.",
        """Booking is open for this year's ISIPT conference, hosted by IPT UK. Members pay the member rate;
students and trainees have reduced tickets, and each delegate chooses one workshop.

See the [events calendar](/events) for the programme, the venue and the ticket prices.""",
        "published",
    ),
    (
        50,
        "Nominations open for the Executive Committee",
        "executive-committee-nominations-open",
        "Stand for a trustee post, or nominate a colleague: every member in good standing may.",
        """The Executive Committee has posts to fill this year. Any member in good standing may stand, with a
proposer and a seconder who are members too. Candidates write a short statement, which every voter reads
beside the ballot.

Log in and open **Elections** to nominate. The returning officer answers questions at
[office@example.org](mailto:office@example.org).""",
        "published",
    ),
    (
        21,
        "National Meeting: every place is taken",
        "national-meeting-full",
        "Join the waitlist: places freed by cancellations are offered in turn.",
        """All the free places at this year's National Meeting are taken. Members who would like to come can still
join the waitlist from the meeting's page: when someone gives back a place, it is offered to the next person on
the list by e-mail, and held for them for two days.

If you have a place and can no longer come, please give it back from your booking so a colleague can have it.""",
        "published",
    ),
    (
        6,
        "Voting is open in the Executive Committee election",
        "executive-committee-voting-open",
        "Every eligible member has been e-mailed a ballot link. Your vote is secret.",
        """Voting has opened in the Executive Committee election. Each eligible member has been sent a personal
ballot link by e-mail; you can also log in and open **Elections**.

Ballots are sealed as they are cast and opened only after the close, by the election's trustees together.
After voting you are shown a tracker code: keep it, and check after the count that your ballot was counted as
cast.""",
        "published",
    ),
    (
        2,
        "Refresher training dates for next year",
        "refresher-training-dates",
        "Four refresher days across the UK, one of them online.",
        """The Training Committee has set next year's refresher days: London, Manchester, Edinburgh and one online.
Dates and booking will follow once the venues confirm.""",
        "draft",
    ),
]
