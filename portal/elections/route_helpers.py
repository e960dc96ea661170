"""What the elections handlers share: who runs an election and who watches it, and the member and links of a
request (the acting account is `accounts.acting.actor`)."""

from __future__ import annotations

from portal.accounts import acting
from portal.elections.links import Links
from portal.elections.models import Election
from portal.members.models import Member
from portal.members.service import option_labels
from portal.web.context import Ctx

RUNNERS = ("returning_officer", "scrutineer")
WATCHERS = ("returning_officer", "scrutineer", "office")


def links_for(ctx: Ctx) -> Links:
    return Links.for_app(ctx.request.app)


def own_member(ctx: Ctx) -> Member:
    member = ctx.db.get(Member, acting.member_id(ctx))
    assert member is not None
    return member


def is_runner(ctx: Ctx) -> bool:
    return ctx.principal is not None and ctx.principal.has(*RUNNERS)


def labels_for(ctx: Ctx, kind: str) -> dict[str, str]:
    return option_labels(ctx.db, kind)


def trackers_visible(ctx: Ctx, election: Election) -> bool:
    return election.state(ctx.now) == "closed" and (election.tracker_public or is_runner(ctx))
