"""Trustee pages: the returning officer names the trustees and makes the election key; each trustee, on
their own page, downloads their share once and proves they kept it; at the close the returning officer, with
the trustees present, gives k shares to open the ballot box.

Appended to the elections routes (`trustee_routes.routes` in routes.py), so the names are
`elections:trustees`, `elections:make_key`, `elections:trustee`, `elections:close` and so on.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.responses import Response
from starlette.routing import Route

from portal.accounts import acting
from portal.accounts.access import page
from portal.elections import service, trustees, voting
from portal.elections.errors import Code, ElectionError
from portal.elections.models import STATES, Election, Trustee
from portal.elections.route_helpers import RUNNERS
from portal.errors import Forbidden
from portal.web.context import Ctx
from portal.web.forms import FormReader

#: A share file is about 400 bytes: anything much larger is not one.
MAX_SHARE_BYTES = 4096


def _given_text(ctx: Ctx, text_field: str, file_field: str) -> str:
    """A share pasted into `text_field`, or else uploaded as `file_field`. (The guard closes the uploads once
    the handler is done: closing them here would close the other trustees' files before they are read.)"""
    form = ctx.form
    if form is None:
        return ""
    upload = form.get(file_field)
    if isinstance(upload, UploadFile) and upload.filename:
        return upload.file.read(MAX_SHARE_BYTES).decode("utf-8", errors="replace")
    pasted = form.get(text_field)
    return pasted if isinstance(pasted, str) else ""


# --- the returning officer: trustees and key -----------------------------------------------------------------------


def _trustees_page(
    ctx: Ctx, election: Election, *, errors: dict[str, str], chosen: list[int], threshold: int
) -> Response:
    return ctx.render(
        "elections/trustees.html",
        {
            "election": election,
            "trustees": trustees.trustees(ctx.db, election.id),
            "candidates": trustees.candidates(ctx.db),
            "labels": {a.id: trustees.label_of(a) for a in trustees.candidates(ctx.db)},
            "chosen": chosen,
            "threshold": threshold,
            "errors": errors,
            "not_ready": trustees.not_ready_reason(ctx.db, election),
        },
        status_code=422 if errors else 200,
    )


@page("returning_officer")
def trustees_page(ctx: Ctx) -> Response:
    election = service.get_election(ctx.db, ctx.params["election_id"])
    named = trustees.trustees(ctx.db, election.id)
    chosen = [t.account_id for t in named]
    threshold = election.trustee_threshold or trustees.DEFAULT_THRESHOLD
    if ctx.request.method != "POST":
        return _trustees_page(ctx, election, errors={}, chosen=chosen, threshold=threshold)
    reader = FormReader(ctx.form)
    chosen = [int(str(v)) for v in (ctx.form.getlist("trustee") if ctx.form else []) if str(v).isdigit()]
    raw = reader.text("threshold", label="how many trustees are needed", max_length=3)
    threshold = int(raw) if raw.isdigit() else 0
    if raw and not raw.isdigit():
        reader.error("threshold", "Give the number of trustees needed as a whole number, e.g. 2.")
    if reader.ok:
        try:
            with ctx.attempt():
                trustees.name_trustees(
                    ctx.db,
                    actor=acting.actor(ctx),
                    election_id=election.id,
                    account_ids=chosen,
                    threshold=threshold,
                    now=ctx.now,
                )
        except ElectionError as exc:
            if exc.code != "bad_trustees":
                raise
            reader.error("trustee", exc.message)
        else:
            ctx.flash(f"The trustees are named: any {threshold} of the {len(chosen)} open the ballot box.")
            return ctx.redirect("elections:trustees", election_id=election.id)
    return _trustees_page(ctx, election, errors=reader.errors, chosen=chosen, threshold=threshold)


@page("returning_officer")
def make_key(ctx: Ctx) -> Response:
    trustees.make_key(
        ctx.db, actor=acting.actor(ctx), election_id=ctx.params["election_id"], key=ctx.key, now=ctx.now
    )
    ctx.flash(
        "The election key is made. Each trustee must now download their share from their trustee page, "
        "and check it there; voting opens only when all have."
    )
    return ctx.redirect("elections:trustees", election_id=ctx.params["election_id"])


# --- each trustee: their share -------------------------------------------------------------------------------------


def _mine(ctx: Ctx) -> tuple[Election, Trustee]:
    """The election and this person's trustee row; 403 for anyone who is not one of its trustees."""
    election = service.get_election(ctx.db, ctx.params["election_id"])
    mine = trustees.trustee_for(ctx.db, election_id=election.id, account_id=acting.login(ctx).account_id)
    if mine is None:
        raise Forbidden(Code.NOT_TRUSTEE, "You are not a trustee of this election.")
    return election, mine


def _trustee_page(ctx: Ctx, election: Election, mine: Trustee, *, errors: dict[str, str]) -> Response:
    return ctx.render(
        "elections/trustee.html",
        {
            "election": election,
            "mine": mine,
            "trustees": trustees.trustees(ctx.db, election.id),
            "errors": errors,
            "state": election.state(ctx.now),
            "states": STATES,
        },
        status_code=422 if errors else 200,
    )


@page(*RUNNERS)
def trustee_page(ctx: Ctx) -> Response:
    election, mine = _mine(ctx)
    return _trustee_page(ctx, election, mine, errors={})


@page(*RUNNERS)
def trustee_download(ctx: Ctx) -> Response:
    election, _ = _mine(ctx)
    filename, text = trustees.download_share(
        ctx.db, account_id=acting.login(ctx).account_id, election_id=election.id, key=ctx.key, now=ctx.now
    )
    return Response(
        text,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@page(*RUNNERS)
def trustee_check(ctx: Ctx) -> Response:
    election, mine = _mine(ctx)
    text = _given_text(ctx, "share", "share_file")
    if not text.strip():
        return _trustee_page(ctx, election, mine, errors={"share": "Paste your share, or choose its file."})
    try:
        with ctx.attempt():
            trustees.check_share(
                ctx.db,
                account_id=acting.login(ctx).account_id,
                election_id=election.id,
                text=text,
                now=ctx.now,
            )
    except ElectionError as exc:
        if exc.code not in ("bad_share", "other_election", "wrong_share", "not_downloaded"):
            raise
        return _trustee_page(ctx, election, mine, errors={"share": exc.message})
    ctx.flash("Your share is checked: it is the one made for you. Keep it safe until the close.")
    return ctx.redirect("elections:trustee", election_id=election.id)


# --- the close: the returning officer, with the trustees -------------------------------------------------------------


def _close_page(ctx: Ctx, election: Election, *, errors: dict[str, str]) -> Response:
    return ctx.render(
        "elections/close.html",
        {
            "election": election,
            "trustees": trustees.trustees(ctx.db, election.id),
            "awaiting": voting.awaiting_shares(election, ctx.now),
            "pending": voting.pool_size(ctx.db, election.id),
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )


@page("returning_officer")
def close_page(ctx: Ctx) -> Response:
    election = service.get_election(ctx.db, ctx.params["election_id"])
    if ctx.request.method != "POST":
        return _close_page(ctx, election, errors={})
    given = [
        trustees.GivenShare(text=_given_text(ctx, f"share-{t.id}", f"file-{t.id}"), trustee_id=t.id)
        for t in trustees.trustees(ctx.db, election.id)
    ]
    try:
        with ctx.attempt():
            opened = voting.open_ballot_box(
                ctx.db,
                actor=acting.actor(ctx),
                election_id=election.id,
                shares=given,
                key=ctx.key,
                now=ctx.now,
            )
    except ElectionError as exc:
        if exc.code in ("not_closed", "opened"):
            raise
        field = f"share-{exc.details['trustee_id']}" if "trustee_id" in exc.details else "shares"
        return _close_page(ctx, service.get_election(ctx.db, election.id), errors={field: exc.message})
    ctx.flash(
        f"The ballot box is open: {opened} ballot{'s' if opened != 1 else ''}. Count the votes when ready."
    )
    return ctx.redirect("elections:results", election_id=election.id)


routes = [
    Route("/manage/{election_id:int}/trustees", trustees_page, methods=["GET", "POST"], name="trustees"),
    Route("/manage/{election_id:int}/key", make_key, methods=["POST"], name="make_key"),
    Route("/manage/{election_id:int}/close", close_page, methods=["GET", "POST"], name="close"),
    Route("/{election_id:int}/trustee", trustee_page, name="trustee"),
    Route("/{election_id:int}/trustee/share", trustee_download, methods=["POST"], name="trustee_download"),
    Route("/{election_id:int}/trustee/check", trustee_check, methods=["POST"], name="trustee_check"),
]
