"""The people and words of the demo society: British names, affiliations, answers and candidates'
statements, drawn from a seeded `random.Random` so every run makes the same society; and the members of its
roll as the demo plans them (`DemoMember`)."""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


WOMEN = words(
    "Olivia Amelia Isla Ava Emily Sophie Grace Lucy Hannah Charlotte Eleanor Rebecca Sarah Emma Laura Rachel "
    "Claire Helen Joanne Catherine Fiona Siobhan Niamh Aoife Eilidh Morag Catriona Rhiannon Carys Ffion Siân "
    "Bethan Priya Aisha Fatima Zara Amara Ngozi Chloe Jessica Katie Alice Harriet Imogen Georgina Anna Maria "
    "Agnieszka Joanna Yasmin Nadia Samira Anjali Kiran Mei Abigail Ruth Miriam Deborah Jennifer Nicola Karen "
    "Susan Gillian Margaret Patricia Zoë Chiamaka Folasade Shabana Roisin Kirsty Lorna Heather Jane Alison"
)
MEN = words(
    "Oliver George Harry Jack Jacob Thomas James William Daniel Matthew Andrew David Michael Christopher "
    "Richard Stephen Paul Mark Peter John Robert Iain Callum Hamish Angus Ewan Gareth Rhys Dafydd Owain Seán "
    "Ciaran Declan Padraig Mohammed Ahmed Imran Hassan Raj Arjun Vikram Sanjay Kwame Chinedu Tunde Olumide "
    "Tomasz Piotr Marek Luca Ben Sam Tom Joe Alex Nathan Adam Simon Neil Graham Kevin Ian Alan Rory Fraser "
    "Euan Bilal Yusuf Dev Kofi Emeka"
)
SURNAMES = words(
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White "
    "Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason Mitchell Rose Cox Morgan "
    "Hughes Edwards Turner Ward Harris Martin Cooper Hill Moore Clark King Baker Harrison Morris Young Scott "
    "Campbell Stewart MacDonald Robertson Murray Reid Ross Paterson Fraser Kerr McAllister Murphy O'Brien "
    "O'Neill Kelly Byrne Doherty Quinn Gallagher Rees Price Lloyd Jenkins Griffiths Owen Powell Vaughan "
    "Shah Begum Ali Hussain Ahmed Sharma Singh Kaur Chowdhury Iqbal Okafor Adeyemi Mensah Okoro Nwosu Asante "
    "Kowalski Nowak Chen Wong Li Nguyen Rossi Fernandes D'Souza Bennett Carter Chapman Ellis Fletcher "
    "Gibson Hunt Knight Marshall Palmer Russell Stevens Wallace Webb Smith-Jones Ashworth Bradshaw Hartley"
)
#: Delegates from abroad come to the international (ISIPT) conference too.
INTERNATIONAL = (
    ("Ingrid", "Lindqvist", "Karolinska Institutet, Sweden"),
    ("Marieke", "de Vries", "Maastricht University, the Netherlands"),
    ("Carlos", "Mendoza", "Universidad de Chile"),
    ("Yuki", "Tanaka", "University of Tokyo, Japan"),
    ("Rebecca", "Goldberg", "Columbia University, USA"),
    ("Thandiwe", "Dlamini", "University of Cape Town, South Africa"),
    ("Liam", "O'Connor", "University College Dublin, Ireland"),
    ("Sophie", "Tremblay", "McGill University, Canada"),
    ("Matteo", "Bianchi", "University of Milan, Italy"),
    ("Aroha", "Ngata", "University of Auckland, New Zealand"),
    ("Hannah", "Weber", "Charité Berlin, Germany"),
    ("Ananya", "Iyer", "NIMHANS Bangalore, India"),
)
AFFILIATIONS = (
    "NHS Greater Glasgow and Clyde",
    "NHS Lothian",
    "South London and Maudsley NHS Foundation Trust",
    "Tavistock and Portman NHS Foundation Trust",
    "Oxford Health NHS Foundation Trust",
    "Leeds and York Partnership NHS Foundation Trust",
    "Birmingham and Solihull Mental Health NHS Foundation Trust",
    "Sheffield Health and Social Care NHS Foundation Trust",
    "Cardiff and Vale University Health Board",
    "Betsi Cadwaladr University Health Board",
    "Belfast Health and Social Care Trust",
    "Greater Manchester Mental Health NHS Foundation Trust",
    "Cumbria, Northumberland, Tyne and Wear NHS Foundation Trust",
    "Devon Partnership NHS Trust",
    "University of Exeter",
    "University of Manchester",
    "King's College London",
    "University of Glasgow",
    "University of Edinburgh",
    "Private practice",
    "Private practice",
    "Mind",
    "Perinatal mental health service, Bristol",
    "Talking Therapies, Norfolk",
)
DIETS = (
    "None",
    "Vegetarian",
    "Vegan",
    "Gluten-free",
    "Halal",
    "Kosher",
    "Other: I will tell you at the desk",
)
DIET_WEIGHTS = (58, 18, 8, 6, 5, 2, 3)
ACCESS_NEEDS = (
    "I use a wheelchair: step-free access and an accessible room for the workshops, please.",
    "Hearing loop or a seat near the front.",
    "I may need to step out for short breaks (a seat near a door).",
    "Large-print handouts, please.",
    "A quiet room at lunchtime would help.",
)


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    #: "she", "he" or "they": only to answer the optional pronouns question plausibly.
    pronoun: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


def ascii_slug(text: str) -> str:
    """`Siân O'Brien` → `sian.obrien`: an e-mail local part from a name."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9.]+", "", plain.replace(" ", ".").replace("-", "."))


class People:
    """Draws distinct people and unique example.org addresses from one seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.taken_names: set[tuple[str, str]] = set()
        self.taken_emails: set[str] = set()

    def person(self) -> Person:
        while True:
            pronoun = self.rng.choices(("she", "he", "they"), weights=(62, 36, 2))[0]
            first = self.rng.choice(WOMEN if pronoun == "she" else MEN if pronoun == "he" else WOMEN + MEN)
            last = self.rng.choice(SURNAMES)
            if (first, last) not in self.taken_names:
                self.taken_names.add((first, last))
                return Person(first, last, pronoun)

    def email(self, person: Person) -> str:
        base = ascii_slug(f"{person.first_name}.{person.last_name}")
        candidate, n = base, 1
        while f"{candidate}@example.org" in self.taken_emails:
            n += 1
            candidate = f"{base}{n}"
        address = f"{candidate}@example.org"
        self.taken_emails.add(address)
        return address

    def reserve(self, person: Person, email: str) -> None:
        self.taken_names.add((person.first_name, person.last_name))
        self.taken_emails.add(email)

    def diet(self) -> str:
        return self.rng.choices(DIETS, weights=DIET_WEIGHTS)[0]

    def pronouns(self, person: Person) -> str:
        """The optional answer: given by about two in five."""
        if self.rng.random() > 0.4:
            return ""
        return {"she": "she/her", "he": "he/him", "they": "they/them"}[person.pronoun]

    def access(self) -> str:
        return self.rng.choice(ACCESS_NEEDS) if self.rng.random() < 0.07 else ""

    def affiliation(self) -> str:
        return self.rng.choice(AFFILIATIONS)


STATEMENT_OPENINGS = (
    "I trained in IPT in {year} and have practised it ever since, first in {place} and now as {role}.",
    "Since my IPT training in {year} I have worked in {place}, where I am {role}.",
    "I have been a member of IPT UK since {year}. I work in {place} as {role}.",
)
STATEMENT_MIDDLES = (
    "I have supervised trainees for several years and helped run our regional study days.",
    "I led the local rollout of interpersonal counselling in primary care, which now reaches every practice in "
    "the area.",
    "I have taught IPT on the adolescent (IPT-A) course and care about access for young people.",
    "I sat on the training committee for three years and know how much work goes on behind each course.",
    "I chair a peer supervision group and have seen how much members value meeting each other.",
)
STATEMENT_AIMS = (
    "If elected I will keep our training affordable, and put more of the society's work online for members "
    "outside the big cities.",
    "If elected I will work for clear accreditation pathways and more supervisor places.",
    "If elected I will make sure the committee listens: regular open meetings, and minutes members can read.",
    "If elected I will build links with the international society and bring its conference to more members.",
)
ROLES = ("a clinical psychologist", "a senior IPT therapist", "an IPT supervisor", "a mental health nurse")
PLACES = (
    "an NHS talking therapies service",
    "a community mental health team",
    "a perinatal mental health service",
    "a university counselling service",
    "private practice",
)


def statement(rng: random.Random) -> str:
    """A candidate's statement of about 60 words (well under the 300-word limit)."""
    opening = rng.choice(STATEMENT_OPENINGS).format(
        year=rng.randint(2004, 2019), place=rng.choice(PLACES), role=rng.choice(ROLES)
    )
    return f"{opening} {rng.choice(STATEMENT_MIDDLES)}\n\n{rng.choice(STATEMENT_AIMS)}"


# --- the roll -----------------------------------------------------------------------------------------------


def anniversary(joined: date, after: date) -> date:
    """The first anniversary of joining after `after` (renewals fall due on it)."""
    year = max(after.year, joined.year + 1)
    while True:
        day = date(year, joined.month, min(joined.day, 28))
        if day > after:
            return day
        year += 1


@dataclass
class DemoMember:
    person: Person
    email: str
    category: str
    accreditation: str
    status: str
    joined_on: date
    renewal_on: date | None
    #: As the first roll import had them; `first_status` None: joined since.
    first_status: str | None
    first_category: str = ""
    first_accreditation: str = ""
    first_renewal: date | None = None
    number: str = ""
    id: int = 0
    account_id: int | None = None

    def good_standing(self, on: date) -> bool:
        return self.status == "active" and (self.renewal_on is None or self.renewal_on >= on)
