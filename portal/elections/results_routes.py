"""Results pages: the returning officer runs the count after the close and publishes it; scrutineers review
it beside them (and download each ranked post's ballots in BLT); members (everyone, when the election's
results are public) read the published results, as a page, CSV or PDF; past elections stay in the archive.

Appended to the elections routes (`results_routes.routes` in routes.py), so the names are
`elections:results`, `elections:results_count` and so on.
"""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.elections import catch_up, results, results_export
from portal.elections.errors import Code, ElectionError
from portal.elections.models import OUTCOMES, STATES, Election
from portal.errors import Forbidden, Kind
from portal.society.service import society_name
from portal.web.context import Ctx
from portal.web.forms import FormReader


def _refused(ctx: Ctx, election: Election) -> Response | None:
    """None when this viewer may see the results; otherwise the login page (for someone not logged in) or
    an error saying when the results come."""
    if election.state(ctx.now) == "draft" and not results.is_runner(ctx.principal):
        raise ElectionError(Code.NOT_FOUND, "There is no such election.", kind=Kind.NOT_FOUND)
    if results.may_see_results(election, ctx.principal):
        return None
    if ctx.principal is None:
        login = ctx.url_for("accounts:login")
        return RedirectResponse(f"{login}?next={ctx.request.url.path}", status_code=303)
    raise Forbidden(
        Code.NOT_PUBLISHED,
        "The results will be published here once the returning officer has counted the votes and the "
        "scrutineers have checked the count.",
    )


def _page(ctx: Ctx, election: Election, *, errors: dict[str, str] | None = None) -> Response:
    stage = results.results_stage(election, ctx.now)
    runner = results.is_runner(ctx.principal)
    visible = results.may_see_results(election, ctx.principal)
    posts = results.post_results(ctx.db, election.id) if visible else []
    officer = ctx.principal is not None and ctx.principal.has("returning_officer")
    return ctx.render(
        "elections/results/page.html",
        {
            "election": election,
            "state": election.state(ctx.now),
            "states": STATES,
            "stage": stage,
            "stages": results.RESULT_STAGES,
            "posts": posts,
            "charts": {post.contest_id: results_export.chart(post) for post in posts},
            "outcomes": OUTCOMES,
            "turnout": results.turnout(ctx.db, election) if visible else None,
            "stv_rule": results.stv_rule_label(election),
            "review": runner and stage != "published",
            "can_count": officer and stage in ("sealed", "counted"),
            "can_open": officer and stage == "closing",
            "can_publish": officer and stage == "counted",
            "trackers_open": election.tracker_public or runner,
            "errors": errors or {},
        },
        status_code=422 if errors else 200,
    )


@page("public", catch_up=(catch_up.BY_ID,))
def results_page(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    if results.is_runner(ctx.principal):
        return _page(ctx, election)
    return _refused(ctx, election) or _page(ctx, election)


@page("returning_officer")
def count_now(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    recount = election.counted_at is not None
    results.run_count(ctx.db, actor=acting.actor(ctx), election_id=election.id, now=ctx.now, key=ctx.key)
    ctx.flash(
        "The votes are counted again (with the same seed, so any lot is drawn the same way)."
        if recount
        else "The votes are counted. Check the count with the scrutineers, then publish the results."
    )
    return ctx.redirect("elections:results", election_id=election.id)


@page("returning_officer")
def publish_now(ctx: Ctx) -> Response:
    election = catch_up.current(ctx, ctx.params["election_id"])
    reader = FormReader(ctx.form)
    if not reader.checkbox("confirm"):
        reader.error("confirm", "Tick the box to confirm that the count has been checked.")
        return _page(ctx, election, errors=reader.errors)
    results.publish_results(
        ctx.db, actor=acting.actor(ctx), election_id=election.id, now=ctx.now, key=ctx.key
    )
    ctx.flash(
        "The results are published"
        + (" to everyone" if election.results_public else " to members")
        + ", and the ballot trackers are public."
    )
    return ctx.redirect("elections:results", election_id=election.id)


def _download(ctx: Ctx) -> tuple[Election, list[results.PostResult]]:
    election = catch_up.current(ctx, ctx.params["election_id"])
    refused = _refused(ctx, election)
    if refused is not None:
        raise Forbidden(Code.NOT_PUBLISHED, "Log in as a member to download the results.")
    return election, results.post_results(ctx.db, election.id)


def _filename(election: Election, suffix: str) -> str:
    return f"election-{election.id}-results{'-draft' if election.published_at is None else ''}.{suffix}"


@page("public", catch_up=(catch_up.BY_ID,))
def results_csv(ctx: Ctx) -> Response:
    election, posts = _download(ctx)
    return Response(
        results_export.results_csv(posts),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename(election, "csv")}"'},
    )


@page("public", catch_up=(catch_up.BY_ID,))
def results_pdf(ctx: Ctx) -> Response:
    election, posts = _download(ctx)
    content = results_export.results_pdf(
        election,
        posts,
        results.turnout(ctx.db, election),
        society=society_name(ctx.db),
        stv_rule=results.stv_rule_label(election),
        now=ctx.now,
    )
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{_filename(election, "pdf")}"'},
    )


@page("public", catch_up=(catch_up.BY_ID,))
def results_blt(ctx: Ctx) -> Response:
    """A ranked post's ballots in BLT: for the returning officer and scrutineers once counted, and for
    whoever may read the results once they are published (anyone can then recount)."""
    election, _ = _download(ctx)
    filename, text = results.contest_blt(ctx.db, election_id=election.id, contest_id=ctx.params["contest_id"])
    return Response(
        text,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@page("public")
def archive(ctx: Ctx) -> Response:
    return ctx.render(
        "elections/results/archive.html",
        {"elections": results.archive(ctx.db, ctx.principal)},
    )


routes = [
    Route("/archive", archive, name="archive"),
    Route("/{election_id:int}/results", results_page, name="results"),
    Route("/{election_id:int}/results.csv", results_csv, name="results_csv"),
    Route("/{election_id:int}/results.pdf", results_pdf, name="results_pdf"),
    Route("/{election_id:int}/results/posts/{contest_id:int}.blt", results_blt, name="results_blt"),
    Route("/manage/{election_id:int}/count", count_now, methods=["POST"], name="results_count"),
    Route("/manage/{election_id:int}/publish", publish_now, methods=["POST"], name="results_publish"),
]
