"""Members' nomination pages: the candidates and their photos (public), nominating oneself or another member, a
seconder's link, and withdrawing. Appended to the elections routes in routes.py, so the names are
`elections:...`."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.elections import catch_up, photos, service
from portal.elections.ballots import (
    uncontested,
    valid_candidates,
)
from portal.elections.errors import Code, ElectionError
from portal.elections.models import METHODS, NOMINATION_STATUSES
from portal.elections.route_helpers import (
    is_runner,
    links_for,
    own_member,
)
from portal.elections.service import NominationForm, count_words
from portal.errors import Kind
from portal.web.context import Ctx
from portal.web.forms import FormReader


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
        staff=is_runner(ctx),
    )
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})


# --- members: nominations ----------------------------------------------------------------------------------------


@page("member", uploads=(photos.NOMINATION_PHOTO,), catch_up=(catch_up.BY_ID,))
def nominate(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    member = own_member(ctx)
    values: dict[str, Any] = {"candidate": member.membership_number}
    errors: dict[str, str] = {}
    if ctx.request.method == "POST":
        # Decoded and re-encoded by the guard before this transaction began (photos.NOMINATION_PHOTO).
        upload = ctx.uploads.get("photo")
        reader = FormReader(ctx.form)
        if upload is not None and upload.error is not None:
            reader.error("photo", upload.error.message)
        contest_id = reader.choice("contest", [str(c.id) for c in election.contests], label="the post")
        people: dict[str, Any] = {}
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
                        links=links_for(ctx),
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
        member_id=acting.member_id(ctx),
        now=ctx.now,
    )
    ctx.flash("You have withdrawn. Your name will not be on the ballot for that post.")
    return ctx.redirect("elections:detail", election_id=ctx.params["election_id"])


routes = [
    Route("/nominations/{token}", nomination_link, methods=["GET", "POST"], name="nomination_link"),
    Route("/{election_id:int}/candidates", candidates, name="candidates"),
    Route("/{election_id:int}/photos/{nomination_id:int}", photo, name="photo"),
    Route("/{election_id:int}/nominate", nominate, methods=["GET", "POST"], name="nominate"),
    Route(
        "/{election_id:int}/nominations/{nomination_id:int}/withdraw",
        withdraw,
        methods=["POST"],
        name="withdraw",
    ),
]
