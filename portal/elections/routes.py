"""Election pages: members nominate and vote (logged in or through a personal ballot link), the returning
officer sets elections up and runs them, scrutineers watch, and everyone can read the candidates and, after
the close, the ballot trackers. Mounted in app.py as `Mount("/elections", ..., name="elections")`.

Nothing here logs or e-mails a ballot. The receipt is rendered straight from the cast (no redirect), so the
tracker is never put in a URL, a cookie or a row that knows the voter.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.access import page
from portal.accounts.models import Account
from portal.elections import catch_up, photos, results_routes, roll, service, trustee_routes, trustees, voting
from portal.elections.ballots import (
    BallotContest,
    ballot_contests,
    hidden_fields,
    ordinal,
    read_ballot,
    uncontested,
    valid_candidates,
)
from portal.elections.errors import Code, ElectionError
from portal.elections.forms import election_values, read_contest, read_setup
from portal.elections.links import Links
from portal.elections.models import BALLOT_ORDERS, METHODS, NOMINATION_STATUSES, STATES, STV_RULES, Election
from portal.elections.reminders import remind_now
from portal.elections.secrecy import normalise_tracker
from portal.elections.service import NominationForm, count_words
from portal.errors import Forbidden, Kind
from portal.members.models import STATUSES, Member
from portal.members.selfservice_routes import render_section
from portal.members.service import option_labels
from portal.web.context import Ctx
from portal.web.errors import status_for
from portal.web.forms import FormReader

RUNNERS = ("returning_officer", "scrutineer")
WATCHERS = ("returning_officer", "scrutineer", "office")


# --- helpers ---------------------------------------------------------------------------------------------------


def _links(ctx: Ctx) -> Links:
    return Links.for_app(ctx.request.app)


def _actor(ctx: Ctx) -> Account:
    account = ctx.db.get(Account, ctx.principal.account_id)
    assert account is not None
    return account


def _member(ctx: Ctx) -> Member:
    member = ctx.db.get(Member, ctx.principal.member_id)
    assert member is not None
    return member


def _is_runner(ctx: Ctx) -> bool:
    return ctx.principal is not None and ctx.principal.has(*RUNNERS)


def _labels(ctx: Ctx, kind: str) -> dict[str, str]:
    return option_labels(ctx.db, kind)


# --- members: the elections and their candidates -----------------------------------------------------------------


@page("member")
def index(ctx: Ctx) -> Response:
    elections = [e for e in service.list_elections(ctx.db) if e.state(ctx.now) != "draft"]
    return ctx.render("elections/index.html", {"elections": elections, "states": STATES})


@page("member", catch_up=(catch_up.BY_ID,))
def detail(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    if election.state(ctx.now) == "draft" and not _is_runner(ctx):
        raise ElectionError(Code.NOT_FOUND, "There is no such election.", kind=Kind.NOT_FOUND)
    member = _member(ctx)
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
            "trackers_open": _trackers_visible(ctx, election),
        },
    )


@page("public")
def candidates(ctx: Ctx) -> Response:
    election = service.get_election(ctx.db, ctx.params["election_id"])
    state = election.state(ctx.now)
    if state == "draft":
        raise ElectionError(Code.NOT_FOUND, "There is no such election.", kind=Kind.NOT_FOUND)
    found = valid_candidates(ctx.db, election)
    posts = []
    for contest in election.contests:
        rows = found.of(contest)
        posts.append(
            {
                "contest": contest,
                "candidates": rows,
                "uncontested": uncontested(contest, len(rows)) and state != "nominations",
            }
        )
    return ctx.render(
        "elections/candidates.html",
        {"election": election, "posts": posts, "state": state, "methods": METHODS},
    )


@page("public")
def photo(ctx: Ctx) -> Response:
    data = service.photo_of(
        ctx.db,
        election_id=ctx.params["election_id"],
        nomination_id=ctx.params["nomination_id"],
        staff=_is_runner(ctx),
    )
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})


# --- members: nominations ----------------------------------------------------------------------------------------


@page("member", uploads=(photos.NOMINATION_PHOTO,), catch_up=(catch_up.BY_ID,))
def nominate(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    member = _member(ctx)
    values: dict[str, Any] = {"candidate": member.membership_number}
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        # Decoded and re-encoded by the guard before this transaction began (photos.NOMINATION_PHOTO).
        upload = ctx.uploads.get("photo")
        reader = FormReader(ctx.form)
        if upload is not None and upload.error is not None:
            reader.error("photo", upload.error.message)
        contest_id = reader.choice("contest", [str(c.id) for c in election.contests], label="the post")
        people = {}
        for name, label in (
            ("candidate", "the candidate"),
            ("proposer", "the proposer"),
            ("seconder", "the seconder"),
        ):
            text = reader.text(
                name, label=f"the membership number or e-mail address of {label}", max_length=254
            )
            found = service.find_member(ctx.db, text) if text else None
            if text and found is None:
                reader.error(name, f"No member has that membership number or e-mail address ({label}).")
            people[name] = found
        statement = reader.text("statement", label="a statement", max_length=20000)
        words = count_words(statement)
        if words > election.statement_word_limit:
            reader.error(
                "statement",
                f"The statement has {words} words. Shorten it to {election.statement_word_limit} or fewer.",
            )
        values, errors = reader.data, reader.errors
        if reader.ok:
            try:
                with ctx.attempt():
                    service.nominate(
                        ctx.db,
                        election_id=election.id,
                        nominator_id=member.id,
                        form=NominationForm(
                            contest_id=int(contest_id),
                            nominee_id=people["candidate"].id,
                            proposer_id=people["proposer"].id,
                            seconder_id=people["seconder"].id,
                            statement=statement,
                            photo=upload.value if upload is not None else None,
                        ),
                        now=ctx.now,
                        key=ctx.key,
                        links=_links(ctx),
                    )
            except ElectionError as exc:
                if exc.code == "nominations_closed":
                    raise
                role = str(exc.details.get("role", ""))
                field = {
                    "not_eligible": {"proposer": "proposer", "seconder": "seconder"}.get(role, "candidate"),
                    "same_person": "seconder",
                    "too_long": "statement",
                    "bad_photo": "photo",
                    "already_nominated": "candidate",
                }.get(exc.code, "contest")
                errors = {field: exc.message}
            else:
                ctx.flash(
                    "Thank you. The nomination is recorded. We have e-mailed everyone who needs to confirm it."
                )
                return ctx.redirect("elections:detail", election_id=election.id)
    return ctx.render(
        "elections/nominate.html",
        {
            "election": election,
            "state": election.state(ctx.now),
            "eligible": service.is_eligible(election, member, now=ctx.now),
            "member": member,
            "values": values,
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )


@page("public")
def nomination_link(ctx: Ctx) -> Response:
    token = ctx.params["token"]
    row, nomination = service.nomination_token(ctx.db, token=token, key=ctx.key)
    if ctx.request.method == "POST":
        confirm = (ctx.form.get("answer") if ctx.form else "") == "confirm"
        service.answer_nomination(ctx.db, token=token, confirm=confirm, now=ctx.now, key=ctx.key)
        ctx.flash(
            "Thank you: your answer is recorded."
            if confirm
            else "You have declined. The nomination will not go ahead."
        )
        return ctx.redirect("elections:nomination_link", token=token)
    election = service.get_election(ctx.db, nomination.election_id)
    view = next(v for v in service.nomination_views(ctx.db, election) if v.nomination.id == nomination.id)
    return ctx.render(
        "elections/nomination_link.html",
        {
            "election": election,
            "view": view,
            "role": row.role,
            "used": row.used_at is not None,
            "open": election.state(ctx.now) == "nominations" and nomination.status == "pending",
            "statuses": NOMINATION_STATUSES,
        },
    )


@page("member")
def withdraw(ctx: Ctx) -> Response:
    service.withdraw_nomination(
        ctx.db,
        election_id=ctx.params["election_id"],
        nomination_id=ctx.params["nomination_id"],
        member_id=ctx.principal.member_id,
        now=ctx.now,
    )
    ctx.flash("You have withdrawn. Your name will not be on the ballot for that post.")
    return ctx.redirect("elections:detail", election_id=ctx.params["election_id"])


# --- voting ------------------------------------------------------------------------------------------------------


def _voter(ctx: Ctx) -> voting.Voter:
    if "token" in ctx.params:
        return voting.voter_from_link(ctx.db, token=ctx.params["token"], key=ctx.key)
    return voting.Voter(election_id=ctx.params["election_id"], member_id=ctx.principal.member_id)


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
        {"election": election, "code": code, "trackers_open": _trackers_visible(ctx, election)},
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
            )
    except ElectionError as exc:
        if exc.code in ("already_voted", "not_on_roll", "not_eligible", "closed", "not_open"):
            code = "voted" if exc.code == "already_voted" else exc.code
            return _status_page(ctx, election, code, status_code=status_for(exc))
        raise
    return ctx.render("elections/receipt.html", {"election": election, "tracker": tracker})


# --- the ballot trackers ----------------------------------------------------------------------------------------------


def _trackers_visible(ctx: Ctx, election: Election) -> bool:
    return election.state(ctx.now) == "closed" and (election.tracker_public or _is_runner(ctx))


@page("public", catch_up=(catch_up.BY_ID,))
def trackers(ctx: Ctx) -> Response:
    """Every ballot by tracker (GET); the lookup of one tracker is a POST, so a voter's tracker never sits
    in a URL (and so in a server's or proxy's access log)."""
    election = catch_up.current(ctx, ctx.params["election_id"])
    if election.state(ctx.now) == "draft" and not _is_runner(ctx):
        raise ElectionError(Code.NOT_FOUND, "There is no such election.", kind=Kind.NOT_FOUND)
    if election.ballots_hash is None:
        return ctx.render(
            "elections/trackers.html",
            {"election": election, "waiting": True, "closed": election.state(ctx.now) == "closed"},
        )
    if not _trackers_visible(ctx, election):
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


# --- returning officer and scrutineers ------------------------------------------------------------------------------


@page(*RUNNERS)
def manage(ctx: Ctx) -> Response:
    return ctx.render(
        "elections/manage.html",
        {
            "elections": service.list_elections(ctx.db),
            "states": STATES,
            "can_edit": ctx.principal.has("returning_officer"),
        },
    )


def _setup_form(ctx: Ctx, election: Election | None) -> Response:
    categories, levels = _labels(ctx, "category"), _labels(ctx, "accreditation")
    values: dict[str, Any] = (
        election_values(election)
        if election
        else {
            "statuses": ["active"],
            "ballot_order": "alphabetical",
            "statement_word_limit": 300,
            "reminder_days": "3,1",
        }
    )
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        setup, values, errors = read_setup(ctx.form, categories=categories, accreditations=levels)
        if setup is not None:
            try:
                with ctx.attempt():
                    if election is None:
                        election = service.create_election(
                            ctx.db, actor=_actor(ctx), setup=setup, now=ctx.now
                        )
                        ctx.flash("The election is set up. Now add its posts.")
                    else:
                        service.update_election(
                            ctx.db, actor=_actor(ctx), election_id=election.id, setup=setup, now=ctx.now
                        )
                        ctx.flash("The election is saved.")
                    return ctx.redirect("elections:admin", election_id=election.id)
            except ElectionError as exc:
                if exc.code != "bad_timetable":
                    raise
                errors = dict(exc.details.get("fields", {}))
    return ctx.render(
        "elections/setup.html",
        {
            "election": election,
            "values": values,
            "errors": errors,
            "statuses": STATUSES,
            "categories": categories,
            "levels": levels,
            "orders": BALLOT_ORDERS,
            "stv_rules": STV_RULES,
        },
        status_code=422 if errors else 200,
    )


@page("returning_officer")
def create(ctx: Ctx) -> Response:
    return _setup_form(ctx, None)


@page("returning_officer", catch_up=(catch_up.BY_ID,))
def edit(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    if election.locked(ctx.now):
        raise ElectionError(
            Code.LOCKED, "Voting has opened: the election can no longer be changed.", kind=Kind.CONFLICT
        )
    return _setup_form(ctx, election)


@page(*RUNNERS, catch_up=(catch_up.BY_ID,))
def admin(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    views = service.nomination_views(ctx.db, election)
    found = valid_candidates(ctx.db, election)
    return ctx.render(
        "elections/admin.html",
        {
            "election": election,
            "state": election.state(ctx.now),
            "states": STATES,
            "methods": METHODS,
            "views": views,
            "statuses": NOMINATION_STATUSES,
            "counts": {c.id: len(found.of(c)) for c in election.contests},
            "summary": roll.summary(ctx.db, election),
            "can_edit": ctx.principal.has("returning_officer"),
            "locked": election.locked(ctx.now),
            "category_labels": _labels(ctx, "category"),
            "level_labels": _labels(ctx, "accreditation"),
            "ballots": voting.ballots_cast(ctx.db, election.id),
            "pending": voting.pool_size(ctx.db, election.id),
            "trackers_open": _trackers_visible(ctx, election),
            "trustees": trustees.trustees(ctx.db, election.id),
            "not_ready": trustees.not_ready_reason(ctx.db, election),
            "my_trustee": trustees.trustee_for(
                ctx.db, election_id=election.id, account_id=ctx.principal.account_id
            ),
            "awaiting_shares": voting.awaiting_shares(election, ctx.now),
        },
    )


def _contest_form(ctx: Ctx, election: Election, contest_id: int | None) -> Response:
    contest = service.get_contest(ctx.db, contest_id, election_id=election.id) if contest_id else None
    values: dict[str, Any] = (
        {
            "title": contest.title,
            "description": contest.description,
            "seats": contest.seats,
            "method": contest.method,
            "ron": contest.ron,
            "officer": contest.officer,
            "position": contest.position,
        }
        if contest
        else {"seats": 1, "method": "plurality", "position": len(election.contests) + 1}
    )
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        if contest is not None and (ctx.form.get("action") if ctx.form else "") == "remove":
            service.remove_contest(
                ctx.db, actor=_actor(ctx), election_id=election.id, contest_id=contest.id, now=ctx.now
            )
            ctx.flash(f"{contest.title} is removed.")
            return ctx.redirect("elections:admin", election_id=election.id)
        setup, values, errors = read_contest(ctx.form)
        if setup is not None:
            try:
                with ctx.attempt():
                    if contest is None:
                        service.add_contest(
                            ctx.db, actor=_actor(ctx), election_id=election.id, setup=setup, now=ctx.now
                        )
                    else:
                        service.update_contest(
                            ctx.db,
                            actor=_actor(ctx),
                            election_id=election.id,
                            contest_id=contest.id,
                            setup=setup,
                            now=ctx.now,
                        )
                    ctx.flash(f"{setup.title} is saved.")
                    return ctx.redirect("elections:admin", election_id=election.id)
            except ElectionError as exc:
                if exc.code != "bad_value":
                    raise
                errors = dict(exc.details.get("fields", {"title": exc.message}))
    return ctx.render(
        "elections/contest.html",
        {"election": election, "contest": contest, "values": values, "errors": errors, "methods": METHODS},
        status_code=422 if errors else 200,
    )


@page("returning_officer", catch_up=(catch_up.BY_ID,))
def contest_new(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    return _contest_form(ctx, election, None)


@page("returning_officer", catch_up=(catch_up.BY_ID,))
def contest_edit(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    return _contest_form(ctx, election, ctx.params["contest_id"])


@page(*RUNNERS, catch_up=(catch_up.BY_ID,))
def nomination(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    view = next(
        (
            v
            for v in service.nomination_views(ctx.db, election)
            if v.nomination.id == ctx.params["nomination_id"]
        ),
        None,
    )
    if view is None:
        raise ElectionError(Code.NOT_FOUND, "There is no such nomination.", kind=Kind.NOT_FOUND)
    return ctx.render(
        "elections/nomination.html",
        {
            "election": election,
            "view": view,
            "statuses": NOMINATION_STATUSES,
            "errors": {},
            "can_edit": ctx.principal.has("returning_officer") and not election.locked(ctx.now),
            "words": count_words(view.nomination.statement),
        },
    )


@page("returning_officer")
def decide(ctx: Ctx) -> Response:
    election_id, nomination_id = ctx.params["election_id"], ctx.params["nomination_id"]
    reader = FormReader(ctx.form)
    decision = reader.choice("decision", ["accept", "reject"], label="accept or reject")
    reason = reader.text("reason", label="a reason", required=decision == "reject", max_length=2000)
    if reader.ok:
        try:
            with ctx.attempt():
                service.decide_nomination(
                    ctx.db,
                    actor=_actor(ctx),
                    election_id=election_id,
                    nomination_id=nomination_id,
                    accept=decision == "accept",
                    reason=reason,
                    now=ctx.now,
                )
        except ElectionError as exc:
            if exc.code not in ("incomplete", "reason_required"):
                raise
            reader.error("decision", exc.message)
        else:
            ctx.flash(
                "The nomination is accepted." if decision == "accept" else "The nomination is rejected."
            )
            return ctx.redirect("elections:admin", election_id=election_id)
    election = service.get_election(ctx.db, election_id)
    view = next(
        (v for v in service.nomination_views(ctx.db, election) if v.nomination.id == nomination_id), None
    )
    if view is None:
        raise ElectionError(Code.NOT_FOUND, "There is no such nomination.", kind=Kind.NOT_FOUND)
    return ctx.render(
        "elections/nomination.html",
        {
            "election": election,
            "view": view,
            "statuses": NOMINATION_STATUSES,
            "errors": reader.errors,
            "values": reader.data,
            "can_edit": True,
            "words": count_words(view.nomination.statement),
        },
        status_code=422,
    )


@page("returning_officer")
def open_now(ctx: Ctx) -> Response:
    roll.open_voting(
        ctx.db,
        actor=_actor(ctx),
        election_id=ctx.params["election_id"],
        now=ctx.now,
        key=ctx.key,
        links=_links(ctx),
    )
    ctx.flash("Voting is open. The roll is frozen and every member on it has been sent a ballot link.")
    return ctx.redirect("elections:admin", election_id=ctx.params["election_id"])


@page(*RUNNERS, catch_up=(catch_up.BY_ID,))
def roll_page(ctx: Ctx) -> Response:
    return _roll_page(ctx, errors={}, values={})


def _roll_page(
    ctx: Ctx, *, errors: dict[str, str], values: dict[str, Any], status_code: int = 200
) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    return ctx.render(
        "elections/roll.html",
        {
            "election": election,
            "entries": roll.entries(ctx.db, election.id),
            "corrections": roll.corrections(ctx.db, election.id),
            "summary": roll.summary(ctx.db, election),
            "can_edit": ctx.principal.has("returning_officer") and election.state(ctx.now) == "voting",
            "errors": errors,
            "values": values,
        },
        status_code=status_code,
    )


@page("returning_officer")
def roll_correct(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    reader = FormReader(ctx.form)
    action = reader.choice("action", ["add", "remove"], label="whether to add or remove")
    text = reader.text("member", label="the membership number or e-mail address", max_length=254)
    reason = reader.text("reason", label="the reason for the correction", max_length=2000)
    member = service.find_member(ctx.db, text) if text else None
    if text and member is None:
        reader.error("member", "No member has that membership number or e-mail address.")
    if reader.ok and member is not None:
        try:
            with ctx.attempt():
                roll.correct_roll(
                    ctx.db,
                    actor=_actor(ctx),
                    election_id=election.id,
                    member_id=member.id,
                    action=action,
                    reason=reason,
                    now=ctx.now,
                    key=ctx.key,
                    links=_links(ctx),
                )
        except ElectionError as exc:
            if exc.code not in ("already_on_roll", "already_voted", "not_on_roll", "reason_required"):
                raise
            reader.error("member", exc.message)
        else:
            done = "added to" if action == "add" else "removed from"
            ctx.flash(f"{member.full_name} is {done} the roll.")
            return ctx.redirect("elections:roll", election_id=election.id)
    return _roll_page(ctx, errors=reader.errors, values=reader.data, status_code=422)


@page("returning_officer")
def remind(ctx: Ctx) -> Response:
    sent = remind_now(
        ctx.db,
        actor=_actor(ctx),
        election_id=ctx.params["election_id"],
        now=ctx.now,
        key=ctx.key,
        links=_links(ctx),
    )
    ctx.flash(f"Reminders sent to {sent} member{'s' if sent != 1 else ''} who have not voted.")
    return ctx.redirect("elections:admin", election_id=ctx.params["election_id"])


@page(*WATCHERS, catch_up=(catch_up.BY_ID,))
def turnout(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    figures = roll.turnout(ctx.db, election.id, category_labels=_labels(ctx, "category"))
    return ctx.render(
        "elections/turnout.html",
        {"election": election, "turnout": figures, "state": election.state(ctx.now), "states": STATES},
        partial="elections/_turnout.html",
    )


routes = [
    Route("/", index, name="index"),
    Route("/manage", manage, name="manage"),
    Route("/manage/new", create, methods=["GET", "POST"], name="create"),
    Route("/manage/{election_id:int}", admin, name="admin"),
    Route("/manage/{election_id:int}/edit", edit, methods=["GET", "POST"], name="edit"),
    Route("/manage/{election_id:int}/posts/new", contest_new, methods=["GET", "POST"], name="contest_new"),
    Route(
        "/manage/{election_id:int}/posts/{contest_id:int}",
        contest_edit,
        methods=["GET", "POST"],
        name="contest_edit",
    ),
    Route("/manage/{election_id:int}/nominations/{nomination_id:int}", nomination, name="nomination"),
    Route(
        "/manage/{election_id:int}/nominations/{nomination_id:int}/decide",
        decide,
        methods=["POST"],
        name="decide",
    ),
    Route("/manage/{election_id:int}/open", open_now, methods=["POST"], name="open_voting"),
    Route("/manage/{election_id:int}/roll", roll_page, name="roll"),
    Route("/manage/{election_id:int}/roll/correct", roll_correct, methods=["POST"], name="roll_correct"),
    Route("/manage/{election_id:int}/remind", remind, methods=["POST"], name="remind"),
    Route("/manage/{election_id:int}/turnout", turnout, name="turnout"),
    Route("/vote/{token}", link_ballot, methods=["GET", "POST"], name="link_ballot"),
    Route("/vote/{token}/review", link_review, methods=["POST"], name="link_review"),
    Route("/vote/{token}/cast", link_cast, methods=["POST"], name="link_cast"),
    Route("/nominations/{token}", nomination_link, methods=["GET", "POST"], name="nomination_link"),
    Route("/{election_id:int}", detail, name="detail"),
    Route("/{election_id:int}/candidates", candidates, name="candidates"),
    Route("/{election_id:int}/photos/{nomination_id:int}", photo, name="photo"),
    Route("/{election_id:int}/nominate", nominate, methods=["GET", "POST"], name="nominate"),
    Route(
        "/{election_id:int}/nominations/{nomination_id:int}/withdraw",
        withdraw,
        methods=["POST"],
        name="withdraw",
    ),
    Route("/{election_id:int}/ballot", ballot, methods=["GET", "POST"], name="ballot"),
    Route("/{election_id:int}/ballot/review", review, methods=["POST"], name="review"),
    Route("/{election_id:int}/ballot/cast", cast, methods=["POST"], name="cast"),
    Route("/{election_id:int}/trackers", trackers, methods=["GET", "POST"], name="trackers"),
]
routes += results_routes.routes
routes += trustee_routes.routes
