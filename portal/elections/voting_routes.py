"""Members' election pages and voting: the elections and an election's page, the ballot (logged in or through a
personal ballot link), its review and the cast, the ballot trackers, and the "My elections" section of My
account. Appended to the elections routes in routes.py, so the names are `elections:...`.

Nothing here logs or e-mails a ballot. The receipt is rendered straight from the cast (no redirect), so the
tracker is never put in a URL, a cookie or a row that knows the voter.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.elections import catch_up, roll, service, voting
from portal.elections.ballots import (
    BallotContest,
    ballot_contests,
    hidden_fields,
    ordinal,
    read_ballot,
)
from portal.elections.errors import Code, ElectionError
from portal.elections.models import NOMINATION_STATUSES, STATES, Election
from portal.elections.route_helpers import (
    is_runner,
    own_member,
    trackers_visible,
)
from portal.elections.secrecy import normalise_tracker
from portal.errors import Forbidden, Kind
from portal.members.models import Member
from portal.members.selfservice_routes import render_section
from portal.web.context import Ctx
from portal.web.errors import status_for
from portal.web.hooks import ToDo
from portal.web.templating import local_time

# --- members: the elections and their candidates -----------------------------------------------------------------


@page("member")
def index(ctx: Ctx) -> Response:
    elections = [e for e in service.list_elections(ctx.db) if e.state(ctx.now) != "draft"]
    return ctx.render("elections/index.html", {"elections": elections, "states": STATES})


@page("member", catch_up=(catch_up.BY_ID,))
def detail(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    if election.state(ctx.now) == "draft" and not is_runner(ctx):
        raise ElectionError(Code.NOT_FOUND, "There is no such election.", kind=Kind.NOT_FOUND)
    member = own_member(ctx)
    return ctx.render(
        "elections/detail.html",
        {
            "election": election,
            "state": election.state(ctx.now),
            "states": STATES,
            "eligible": service.is_eligible(election, member, now=ctx.now),
            "status": voting.voter_status(ctx.db, election=election, member_id=member.id, now=ctx.now),
            "mine": service.nomination_views(ctx.db, election, member_id=member.id),
            "member": member,
            "summary": roll.summary(ctx.db, election),
            "statuses": NOMINATION_STATUSES,
            "trackers_open": trackers_visible(ctx, election),
        },
    )


# --- voting ------------------------------------------------------------------------------------------------------


def _voter(ctx: Ctx) -> voting.Voter:
    if "token" in ctx.params:
        return voting.voter_from_link(ctx.db, token=ctx.params["token"], key=ctx.key)
    return voting.Voter(election_id=ctx.params["election_id"], member_id=acting.member_id(ctx))


def _urls(ctx: Ctx, voter: voting.Voter) -> dict[str, str]:
    if voter.token is not None:
        return {
            "ballot": ctx.url_for("elections:link_ballot", token=voter.token),
            "review": ctx.url_for("elections:link_review", token=voter.token),
            "cast": ctx.url_for("elections:link_cast", token=voter.token),
        }
    return {
        "ballot": ctx.url_for("elections:ballot", election_id=voter.election_id),
        "review": ctx.url_for("elections:review", election_id=voter.election_id),
        "cast": ctx.url_for("elections:cast", election_id=voter.election_id),
    }


def _status_page(ctx: Ctx, election: Election, code: str, *, status_code: int = 200) -> Response:
    return ctx.render(
        "elections/ballot_status.html",
        {"election": election, "code": code, "trackers_open": trackers_visible(ctx, election)},
        status_code=status_code,
    )


def _ballot_page(
    ctx: Ctx,
    election: Election,
    voter: voting.Voter,
    contests: list[BallotContest],
    *,
    raw: dict[int, Any],
    errors: dict[str, str],
) -> Response:
    return ctx.render(
        "elections/ballot.html",
        {
            "election": election,
            "contests": contests,
            "raw": raw,
            "errors": errors,
            "urls": _urls(ctx, voter),
            "ordinal": ordinal,
        },
        status_code=422 if errors else 200,
    )


def _open_ballot(ctx: Ctx) -> tuple[voting.Voter, Election, list[BallotContest], Response | None]:
    voter = _voter(ctx)
    election = catch_up.current(ctx, voter.election_id)
    status = voting.voter_status(ctx.db, election=election, member_id=voter.member_id, now=ctx.now)
    contests = ballot_contests(ctx.db, election, key=ctx.key, voter=voter.member_id)
    if status != "can_vote":
        return (
            voter,
            election,
            contests,
            _status_page(
                ctx,
                election,
                status,
                status_code=409 if status == "voted" and ctx.request.method == "POST" else 200,
            ),
        )
    return voter, election, contests, None


@page("member", catch_up=(catch_up.BY_ID,))
def ballot(ctx: Ctx) -> Response:
    return _ballot(ctx)


@page("public", catch_up=(catch_up.BY_BALLOT_LINK,))
def link_ballot(ctx: Ctx) -> Response:
    return _ballot(ctx)


def _ballot(ctx: Ctx) -> Response:
    """The ballot; a POST here comes from "Change my choices" on the review page and fills it in again."""
    voter, election, contests, refused = _open_ballot(ctx)
    if refused is not None:
        return refused
    raw = read_ballot(ctx.form, contests).raw if ctx.request.method == "POST" else {}
    return _ballot_page(ctx, election, voter, contests, raw=raw, errors={})


@page("member")
def review(ctx: Ctx) -> Response:
    return _review(ctx)


@page("public")
def link_review(ctx: Ctx) -> Response:
    return _review(ctx)


def _review(ctx: Ctx) -> Response:
    voter, election, contests, refused = _open_ballot(ctx)
    if refused is not None:
        return refused
    read = read_ballot(ctx.form, contests)
    if read.errors:
        return _ballot_page(ctx, election, voter, contests, raw=read.raw, errors=read.errors)
    return ctx.render(
        "elections/review.html",
        {
            "election": election,
            "rows": [(bc, [bc.label_of(c) for c in read.selections.get(bc.id, [])]) for bc in contests],
            "hidden": hidden_fields(contests, read.selections),
            "urls": _urls(ctx, voter),
        },
    )


@page("member")
def cast(ctx: Ctx) -> Response:
    return _cast(ctx)


@page("public")
def link_cast(ctx: Ctx) -> Response:
    return _cast(ctx)


def _cast(ctx: Ctx) -> Response:
    """Cast (sealed to the election's key), then show the receipt once."""
    voter, election, contests, refused = _open_ballot(ctx)
    if refused is not None:
        return refused
    read = read_ballot(ctx.form, contests)
    if read.errors:
        return _ballot_page(ctx, election, voter, contests, raw=read.raw, errors=read.errors)
    try:
        with ctx.attempt():
            tracker = voting.cast_ballot(
                ctx.db,
                election_id=election.id,
                member_id=voter.member_id,
                selections=read.selections,
                key=ctx.key,
                now=ctx.now,
                contests=contests,
            )
    except ElectionError as exc:
        if exc.code in ("already_voted", "not_on_roll", "not_eligible", "closed", "not_open"):
            code = "voted" if exc.code == "already_voted" else exc.code
            return _status_page(ctx, election, code, status_code=status_for(exc))
        raise
    return ctx.render("elections/receipt.html", {"election": election, "tracker": tracker})


# --- the ballot trackers ----------------------------------------------------------------------------------------------


@page("public", catch_up=(catch_up.BY_ID,))
def trackers(ctx: Ctx) -> Response:
    """Every ballot by tracker (GET); the lookup of one tracker is a POST, so a voter's tracker never sits
    in a URL (and so in a server's or proxy's access log)."""
    election = catch_up.current(ctx, ctx.params["election_id"])
    if election.state(ctx.now) == "draft" and not is_runner(ctx):
        raise ElectionError(Code.NOT_FOUND, "There is no such election.", kind=Kind.NOT_FOUND)
    if election.ballots_hash is None:
        return ctx.render(
            "elections/trackers.html",
            {"election": election, "waiting": True, "closed": election.state(ctx.now) == "closed"},
        )
    if not trackers_visible(ctx, election):
        raise Forbidden(Code.NOT_PUBLISHED, "The ballot trackers will be published here with the results.")
    wanted = normalise_tracker(str(ctx.form.get("tracker", ""))) if ctx.form is not None else ""
    rows = voting.tracked_ballots(ctx.db, election=election, key=ctx.key)
    return ctx.render(
        "elections/trackers.html",
        {
            "election": election,
            "waiting": False,
            "rows": rows,
            "wanted": wanted,
            "found": [r for r in rows if normalise_tracker(r.tracker) == wanted] if wanted else [],
            "contests": ballot_contests(ctx.db, election, key=ctx.key),
        },
    )


# --- "My account": my elections ------------------------------------------------------------------------------------


def my_elections(ctx: Ctx) -> tuple[str, str] | None:
    """The elections a member can take part in now (or recently), with what they still can do."""
    if ctx.principal is None or ctx.principal.member_id is None:
        return None
    member = ctx.db.get(Member, ctx.principal.member_id)
    if member is None:
        return None
    rows = []
    for election in service.list_elections(ctx.db):
        state = election.state(ctx.now)
        if state == "draft":
            continue
        status = voting.voter_status(ctx.db, election=election, member_id=member.id, now=ctx.now)
        rows.append({"election": election, "state": state, "status": status})
    if not rows:
        return None
    return "My elections", render_section(
        ctx, "elections/_my_elections.html", {"rows": rows, "states": STATES}
    )


def votes_to_cast(ctx: Ctx) -> list[ToDo]:
    """For "Things to do": every open election the member may still vote in, with its close."""
    if ctx.principal is None or ctx.principal.member_id is None:
        return []
    todo = []
    for election in service.list_elections(ctx.db):
        if election.state(ctx.now) != "voting":
            continue
        status = voting.voter_status(
            ctx.db, election=election, member_id=ctx.principal.member_id, now=ctx.now
        )
        if status == "can_vote":
            todo.append(
                ToDo(
                    title=f"Vote in the {election.title}",
                    detail=f"Voting closes {local_time(election.voting_close_at, '%-d %B %Y, %H:%M')}",
                    url=ctx.url_for("elections:ballot", election_id=election.id),
                    action="Vote now",
                    due=election.voting_close_at,
                )
            )
    return todo


routes = [
    Route("/", index, name="index"),
    Route("/vote/{token}", link_ballot, methods=["GET", "POST"], name="link_ballot"),
    Route("/vote/{token}/review", link_review, methods=["POST"], name="link_review"),
    Route("/vote/{token}/cast", link_cast, methods=["POST"], name="link_cast"),
    Route("/{election_id:int}", detail, name="detail"),
    Route("/{election_id:int}/ballot", ballot, methods=["GET", "POST"], name="ballot"),
    Route("/{election_id:int}/ballot/review", review, methods=["POST"], name="review"),
    Route("/{election_id:int}/ballot/cast", cast, methods=["POST"], name="cast"),
    Route("/{election_id:int}/trackers", trackers, methods=["GET", "POST"], name="trackers"),
]
