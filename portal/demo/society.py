"""The society itself: its logins and staff, its settings (the invoice details), the roll as the office
exports it and imports it twice, and the members who activate their own accounts."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal.accounts import service as accounts
from portal.demo.base import DemoBase
from portal.demo.people import DemoMember, Person, anniversary
from portal.demo.timeline import london, london_date, spread
from portal.members import importer, selfservice
from portal.members.models import Member
from portal.members.service import DEFAULT_CATEGORIES, DEFAULT_LEVELS
from portal.society import service as society_service
from portal.web.tokens import new_token

#: Every demo login has this password (printed by `portal demo`, and in the README).
DEMO_PASSWORD = "ipt-demo-password"  # noqa: S105 - a published demo password, for demo data only
SOCIETY = "IPT UK"
#: Test-net addresses (RFC 5737): the demo's members asked for their activation links from "home".
HOME_IP = "192.0.2.10"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    name: str
    email: str
    password: str = DEMO_PASSWORD


ADMIN = DemoLogin("Administrator", "Helen Carter", "admin@example.org")
#: The other staff, with their roles.
STAFF: tuple[tuple[DemoLogin, tuple[str, ...]], ...] = (
    (DemoLogin("Office staff", "Sam Patel", "office@example.org"), ("office",)),
    (
        DemoLogin("Returning officer", "Margaret Doyle", "returning.officer@example.org"),
        ("returning_officer",),
    ),
    (DemoLogin("Scrutineer", "David Okoye", "scrutineer@example.org"), ("scrutineer",)),
    (DemoLogin("Scrutineer", "Grace Lin", "scrutineer2@example.org"), ("scrutineer",)),
    (DemoLogin("Door staff", "Tom Reid", "door@example.org"), ("door",)),
    (DemoLogin("Website editor", "Priya Shah", "editor@example.org"), ("editor",)),
    (DemoLogin("Complaints handler", "Nadia Rahman", "complaints@example.org"), ("complaints",)),
    (DemoLogin("Accreditation officer", "Ruth Adebayo", "accreditation@example.org"), ("accreditation",)),
)
MEMBER = DemoLogin("Member", "Megan Hughes", "member@example.org")
LOGINS: tuple[DemoLogin, ...] = (ADMIN, *(login for login, _ in STAFF), MEMBER)

CATEGORY_LABELS = dict(DEFAULT_CATEGORIES)
LEVEL_LABELS = dict(DEFAULT_LEVELS)
ROLL_HEADINGS = [
    "Membership No",
    "Forename",
    "Surname",
    "Email Address",
    "Category",
    "Accreditation",
    "Status",
    "Joined",
    "Renewal date",
]


def roll_csv(members: Sequence[DemoMember], *, first: bool) -> bytes:
    """The office's export, as the first import had it (`first`) or as it is now."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ROLL_HEADINGS)
    for m in members:
        if first and m.first_status is None:
            continue
        category = m.first_category if first else m.category
        level = m.first_accreditation if first else m.accreditation
        renewal = m.first_renewal if first else m.renewal_on
        writer.writerow(
            [
                m.number,
                m.person.first_name,
                m.person.last_name,
                m.email,
                CATEGORY_LABELS[category],
                LEVEL_LABELS[level],
                m.first_status if first else m.status,
                m.joined_on.isoformat(),
                renewal.isoformat() if renewal else "",
            ]
        )
    return out.getvalue().encode()


class SocietySteps(DemoBase):
    def plan_society(self) -> None:
        """Fourteen months ago the portal is set up, its staff added and the roll imported; the roll is
        imported again two months ago; members activate their accounts in between."""
        self.plan_members()
        self.at(self.origin, self.set_up)
        self.at(self.origin + timedelta(minutes=20), self.invoice_details)
        for n, (login, roles) in enumerate(STAFF):
            self.at(self.origin + timedelta(hours=1, minutes=10 * n), self.add_staff, login, roles)
        self.at(self.origin + timedelta(days=2), self.import_roll, True)
        self.at(london(self.today - timedelta(days=60), 11), self.import_roll, False)
        self.plan_activations()

    def plan_members(self) -> None:
        rng, today = self.rng, self.today
        first_import = london_date(self.origin) + timedelta(days=2)
        demo = DemoMember(
            person=Person("Megan", "Hughes", "she"),
            email=MEMBER.email,
            category="member_plus",
            accreditation="accredited_practitioner",
            status="active",
            joined_on=date(2016, 3, 14),
            renewal_on=anniversary(date(2016, 3, 14), today),
            first_status="active",
            first_category="member_plus",
            first_accreditation="accredited_practitioner",
            first_renewal=anniversary(date(2016, 3, 14), today - timedelta(days=350)),
        )
        self.people.reserve(demo.person, demo.email)
        self.demo_member = demo
        members = [demo]
        earliest = date(2005, 1, 10).toordinal()
        for _ in range(279):
            person = self.people.person()
            category = rng.choices(
                ["trainee", "basic", "member_plus", "organisation", "honorary"], weights=[12, 40, 36, 6, 4]
            )[0]
            joined = date.fromordinal(rng.randint(earliest, (first_import - timedelta(days=30)).toordinal()))
            if category == "honorary":
                level = rng.choice(["trainer", "supervisor"])
            elif category == "trainee":
                level = "none"
            else:
                level = rng.choices(
                    ["none", "accredited_practitioner", "supervisor", "trainer"], weights=[40, 35, 15, 10]
                )[0]
            member = DemoMember(
                person=person,
                email=self.people.email(person),
                category=category,
                accreditation=level,
                status="active",
                joined_on=joined,
                renewal_on=None,
                first_status="active",
                first_category=category,
                first_accreditation=level,
            )
            if category != "honorary":
                member.first_renewal = anniversary(joined, today - timedelta(days=350))
                lapses = member.first_renewal < today - timedelta(days=70)
                roll = rng.random()
                if lapses and roll < 0.13:
                    member.status, member.renewal_on = "lapsed", member.first_renewal
                elif lapses and roll < 0.19:
                    member.status, member.renewal_on = "resigned", member.first_renewal
                else:
                    # Those who stay renewed with the office before their date passed: the first export
                    # already holds a date the portal's clock never sees lapse before the second import.
                    member.first_renewal = anniversary(joined, today - timedelta(days=60))
                    due = anniversary(joined, today - timedelta(days=50))
                    overdue = due <= today - timedelta(days=5) and rng.random() < 0.35
                    member.renewal_on = due if overdue else anniversary(joined, today)
            # Qualified since the first import: a trainee then, with no accreditation.
            recent = joined > first_import - timedelta(days=3 * 365)
            if category in ("basic", "member_plus") and recent and rng.random() < 0.5:
                member.first_category, member.first_accreditation = "trainee", "none"
            members.append(member)
        for _ in range(20):
            person = self.people.person()
            joined = today - timedelta(days=rng.randint(65, 150))
            members.append(
                DemoMember(
                    person=person,
                    email=self.people.email(person),
                    category=rng.choices(["trainee", "basic"], weights=[60, 40])[0],
                    accreditation="none",
                    status="active",
                    joined_on=joined,
                    renewal_on=anniversary(joined, joined),
                    first_status=None,
                )
            )
        members.sort(key=lambda m: (m.joined_on, m.person.last_name, m.person.first_name))
        for number, member in enumerate(members, start=1001):
            member.number = str(number)
        self.members = members

    # --- steps: the society and its staff ---

    def set_up(self, t: datetime) -> None:
        self.staff["admin"] = accounts.setup_first_admin(
            self.s,
            society_name=SOCIETY,
            name=ADMIN.name,
            email=ADMIN.email,
            password=ADMIN.password,
            passwords=self.passwords,
            now=t,
        )

    def invoice_details(self, t: datetime) -> None:
        society_service.save_details(
            self.s,
            values={
                "name": SOCIETY,
                "address": "IPT UK\n12 Example Row\nManchester\nM1 1AA",
                "charity_number": "1190000 (demo)",
                "contact_email": "office@example.org",
                "phone": "0161 496 0000",
                "company_number": "09723196",
                "registered_address": "IPT UK, 124 City Road, London, EC1V 2NX",
                "account_name": "IPT UK",
                "sort_code": "00-00-00",
                "account_number": "12345678",
                "iban": "GB33BUKB20201555555555",
                "bic": "BUKBGB22",
                "notes": "Demo bank details: please do not send money.",
            },
            actor=self.staff["admin"],
            now=t,
        )

    def add_staff(self, login: DemoLogin, roles: tuple[str, ...], t: datetime) -> None:
        # The demo seeds as the operator would on the command line (actor None): an administrator may not add
        # an account with the returning officer's or a scrutineer's role.
        guarded = any(r in accounts.GUARDED_ROLES for r in roles)
        account, token = accounts.create_staff(
            self.s,
            actor=None if guarded else self.staff["admin"],
            name=login.name,
            email=login.email,
            roles=list(roles),
            now=t,
            key=self.key,
        )
        self.staff.setdefault(roles[0], account)
        self.staff[login.email] = account
        self.at(t + timedelta(hours=5), self.choose_password, token, login.password)

    def choose_password(self, token: str, password: str, t: datetime) -> None:
        accounts.set_password_with_token(
            self.s, token=token, password=password, passwords=self.passwords, now=t, key=self.key
        )

    def import_roll(self, first: bool, t: datetime) -> None:
        content = roll_csv(self.members, first=first)
        filename = f"membership-export-{london_date(t).isoformat()}.csv"
        plan = importer.plan_import(self.s, content=content, filename=filename)
        if not plan.ok:
            raise RuntimeError(f"the demo roll does not import: {[p.message for p in plan.problems][:3]}")
        importer.apply_import(
            self.s,
            content=content,
            filename=filename,
            actor=self.staff["office"],
            lapse_missing=False,
            now=t,
            expected_digest=plan.digest,
        )
        ids = dict(self.s.execute(select(Member.membership_number, Member.id)).all())
        for member in self.members:
            member.id = ids.get(member.number, 0)

    # --- steps: members' own accounts ---

    def plan_activations(self) -> None:
        assert self.demo_member is not None
        others = self.rng.sample([m for m in self.in_standing() if m is not self.demo_member], 11)
        self.at(self.origin + timedelta(days=31, hours=9), self.activate, self.demo_member, MEMBER.password)
        for member, when in zip(
            others,
            spread(self.rng, self.origin + timedelta(days=3), self.now - timedelta(days=20), 11),
            strict=True,
        ):
            self.at(when, self.activate, member, new_token(12))

    def activate(self, member: DemoMember, password: str, t: datetime) -> None:
        """The member asks for an activation link, and follows it a few minutes later."""
        selfservice.request_activation(
            self.s, email=member.email, ip=HOME_IP, now=t, key=self.key, links=self.selfservice_links
        )
        [token] = self._take_inbox()
        self.at(t + timedelta(minutes=6), self.set_password, member, token, password)

    def set_password(self, member: DemoMember, token: str, password: str, t: datetime) -> None:
        account = accounts.set_password_with_token(
            self.s, token=token, password=password, passwords=self.passwords, now=t, key=self.key
        )
        member.account_id = account.id
