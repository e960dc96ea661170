"""The returning officer's and scrutineers' pages: setting elections and their posts up, deciding nominations,
opening voting, the roll and its corrections, reminders, and turnout. Appended to the elections routes in
routes.py, so the names are `elections:...`."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.elections import catch_up, progress, roll, service, trustees, voting
from portal.elections.ballots import (
    valid_candidates,
)
from portal.elections.errors import Code, ElectionError
from portal.elections.forms import election_values, read_contest, read_setup
from portal.elections.models import BALLOT_ORDERS, METHODS, NOMINATION_STATUSES, STATES, STV_RULES, Election
from portal.elections.reminders import remind_now
from portal.elections.route_helpers import (
    RUNNERS,
    WATCHERS,
    labels_for,
    links_for,
    trackers_visible,
)
from portal.elections.service import count_words
from portal.errors import Kind
from portal.members.models import STATUSES
from portal.web.context import Ctx
from portal.web.forms import FormReader

# --- returning officer and scrutineers ------------------------------------------------------------------------------


@page(*RUNNERS)
def manage(ctx: Ctx) -> Response:
    return ctx.render(
        "elections/manage.html",
        {
            "elections": service.list_elections(ctx.db),
            "states": STATES,
            "can_edit": acting.login(ctx).has("returning_officer"),
        },
    )


def _setup_form(ctx: Ctx, election: Election | None) -> Response:
    categories, levels = labels_for(ctx, "category"), labels_for(ctx, "accreditation")
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
                            ctx.db, actor=acting.actor(ctx), setup=setup, now=ctx.now
                        )
                        ctx.flash("The election is set up. Now add its posts.")
                    else:
                        service.update_election(
                            ctx.db,
                            actor=acting.actor(ctx),
                            election_id=election.id,
                            setup=setup,
                            now=ctx.now,
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
    not_ready = trustees.not_ready_reason(ctx.db, election)
    waiting = next((v.nomination.id for v in views if v.nomination.status == "submitted"), None)
    return ctx.render(
        "elections/admin.html",
        {
            "progress": progress.progress(election, ctx.now, not_ready=not_ready, waiting_nomination=waiting),
            "election": election,
            "state": election.state(ctx.now),
            "states": STATES,
            "methods": METHODS,
            "views": views,
            "statuses": NOMINATION_STATUSES,
            "counts": {c.id: len(found.of(c)) for c in election.contests},
            "summary": roll.summary(ctx.db, election),
            "can_edit": acting.login(ctx).has("returning_officer"),
            "locked": election.locked(ctx.now),
            "category_labels": labels_for(ctx, "category"),
            "level_labels": labels_for(ctx, "accreditation"),
            "ballots": voting.ballots_cast(ctx.db, election.id),
            "pending": voting.pool_size(ctx.db, election.id),
            "trackers_open": trackers_visible(ctx, election),
            "trustees": trustees.trustees(ctx.db, election.id),
            "not_ready": not_ready,
            "ballot_orders": BALLOT_ORDERS,
            "member_statuses": STATUSES,
            "my_trustee": trustees.trustee_for(
                ctx.db, election_id=election.id, account_id=acting.login(ctx).account_id
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
                ctx.db, actor=acting.actor(ctx), election_id=election.id, contest_id=contest.id, now=ctx.now
            )
            ctx.flash(f"{contest.title} is removed.")
            return ctx.redirect("elections:admin", election_id=election.id)
        setup, values, errors = read_contest(ctx.form)
        if setup is not None:
            try:
                with ctx.attempt():
                    if contest is None:
                        service.add_contest(
                            ctx.db,
                            actor=acting.actor(ctx),
                            election_id=election.id,
                            setup=setup,
                            now=ctx.now,
                        )
                    else:
                        service.update_contest(
                            ctx.db,
                            actor=acting.actor(ctx),
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
            "can_edit": acting.login(ctx).has("returning_officer") and not election.locked(ctx.now),
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
                    actor=acting.actor(ctx),
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
        actor=acting.actor(ctx),
        election_id=ctx.params["election_id"],
        now=ctx.now,
        key=ctx.key,
        links=links_for(ctx),
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
            "category_labels": labels_for(ctx, "category"),
            "can_edit": acting.login(ctx).has("returning_officer") and election.state(ctx.now) == "voting",
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
                    actor=acting.actor(ctx),
                    election_id=election.id,
                    member_id=member.id,
                    action=action,
                    reason=reason,
                    now=ctx.now,
                    key=ctx.key,
                    links=links_for(ctx),
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
        actor=acting.actor(ctx),
        election_id=ctx.params["election_id"],
        now=ctx.now,
        key=ctx.key,
        links=links_for(ctx),
    )
    ctx.flash(f"Reminders sent to {sent} member{'s' if sent != 1 else ''} who have not voted.")
    return ctx.redirect("elections:admin", election_id=ctx.params["election_id"])


@page(*WATCHERS, catch_up=(catch_up.BY_ID,))
def turnout(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    figures = roll.turnout(ctx.db, election.id, category_labels=labels_for(ctx, "category"))
    return ctx.render(
        "elections/turnout.html",
        {"election": election, "turnout": figures, "state": election.state(ctx.now), "states": STATES},
        partial="elections/_turnout.html",
    )


routes = [
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
]
