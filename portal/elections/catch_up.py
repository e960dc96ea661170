"""What an election page owes the clock before it is shown: the first request after voting opens freezes the
roll (once the trustees are ready), the first after it closes closes voting. Pages declare it
(`@page(..., catch_up=(catch_up.BY_ID,))`), so the boundary takes the step in a short write transaction of its
own *before* the request's, and the page then reads the election as it now is (never a second connection
beside the request's). The periodic job (`elections/tasks.py`) does the same early, for elections nobody visits.
"""

from __future__ import annotations

from collections.abc import Callable

from portal.elections import service, voting
from portal.elections.links import Links
from portal.elections.models import Election
from portal.errors import PortalError
from portal.web.boundary import UNSAFE, CatchUp
from portal.web.context import Ctx


def _by_id(ctx: Ctx) -> int | None:
    return ctx.params.get("election_id")


def _by_ballot_link(ctx: Ctx) -> int | None:
    try:
        return voting.voter_from_link(ctx.db, token=ctx.params["token"], key=ctx.key).election_id
    except PortalError:
        return None  # an unknown link: the page itself says so


def _step(election_of: Callable[[Ctx], int | None]) -> CatchUp:
    def due(ctx: Ctx) -> bool:
        election_id = election_of(ctx)
        if election_id is None:
            return False
        election = ctx.db.get(Election, election_id)
        return election is not None and voting.needs_update(election, ctx.now)

    def run(ctx: Ctx) -> None:
        election_id = election_of(ctx)
        assert election_id is not None  # `due` said so, in this same transaction
        voting.bring_up_to_date(
            ctx.db, election_id=election_id, now=ctx.now, key=ctx.key, links=Links.for_app(ctx.request.app)
        )

    return CatchUp(due=due, run=run)


#: For a page whose path names the election (`{election_id:int}`).
BY_ID = _step(_by_id)
#: For a personal ballot link's pages (`/vote/{token}`).
BY_BALLOT_LINK = _step(_by_ballot_link)


def current(ctx: Ctx, election_id: int) -> Election:
    """The election as the clock has it. An action (an unsafe method) takes any step still due inside its
    own transaction, so the action and the step it relies on happen whole; a page that reads has declared
    its catch-up, so the step was taken before its transaction opened, and it just reads."""
    election = service.get_election(ctx.db, election_id)
    if ctx.request.method in UNSAFE and voting.needs_update(election, ctx.now):
        voting.bring_up_to_date(
            ctx.db, election_id=election_id, now=ctx.now, key=ctx.key, links=Links.for_app(ctx.request.app)
        )
        election = service.get_election(ctx.db, election_id)
    return election
