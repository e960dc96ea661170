"""What the home page shows, each block read once (one statement a block): the introduction (the home page of
the site's pages), the next three events with places left, the election under way, the latest three news posts,
and the society's standing (its row is held by the session, so the footer reads it again for nothing).

The home page sits above the rooms it reads from: events, elections, the site and the society know nothing of
it, and it only reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from portal.elections import service as elections
from portal.elections.models import Election
from portal.events import catalogue
from portal.events.models import Event
from portal.site import news
from portal.site import service as site
from portal.site.models import NewsPost, Page
from portal.society import service as society_service

EVENTS_SHOWN = 3
NEWS_SHOWN = 3


@dataclass(frozen=True)
class UpcomingEvent:
    event: Event
    #: None when the event has no capacity (places without limit).
    places_left: int | None


@dataclass(frozen=True)
class ElectionNotice:
    election: Election
    #: "nominations", "between" (nominations closed, voting not yet open) or "voting".
    stage: str
    #: The moment the notice counts towards: the close of nominations, the opening or the close of voting.
    until: datetime


@dataclass(frozen=True)
class Standing:
    name: str
    charity_number: str
    company_number: str
    registered_address: str


@dataclass(frozen=True)
class FrontPage:
    introduction: Page | None
    events: list[UpcomingEvent]
    election: ElectionNotice | None
    news: list[NewsPost]
    standing: Standing | None


def election_notice(election: Election | None, *, now: datetime) -> ElectionNotice | None:
    if election is None:
        return None
    stage = election.state(now)
    until = {
        "nominations": election.nominations_close_at,
        "between": election.voting_open_at,
        "voting": election.voting_close_at,
    }.get(stage)
    return None if until is None else ElectionNotice(election, stage, until)


def standing(session: Session) -> Standing | None:
    found = society_service.society(session)
    if found is None:
        return None
    return Standing(
        name=found.name,
        charity_number=found.charity_number or "",
        company_number=found.company_number or "",
        registered_address=found.registered_address or "",
    )


def front_page(session: Session, *, now: datetime, include_drafts: bool) -> FrontPage:
    """Everything the home page shows at `now`; `include_drafts` shows staff a draft introduction."""
    return FrontPage(
        introduction=site.home_page(session, include_drafts=include_drafts),
        events=[
            UpcomingEvent(event, catalogue.places_left(event))
            for event in catalogue.next_with_places(session, now=now, limit=EVENTS_SHOWN)
        ],
        election=election_notice(elections.current_election(session, now=now), now=now),
        news=news.latest(session, limit=NEWS_SHOWN),
        standing=standing(session),
    )
