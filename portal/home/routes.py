"""The home page, `/` (named `home`)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.access import page
from portal.home import service
from portal.site.routes import EDITORS
from portal.web.caching import revalidated
from portal.web.context import Ctx
from portal.web.meta import share


@page("public")
def home(ctx: Ctx) -> Response:
    staff = ctx.principal is not None and ctx.principal.has(*EDITORS)
    front = service.front_page(ctx.db, now=ctx.now, include_drafts=staff)
    about = front.introduction.summary if front.introduction else ""
    values = {
        "front": front,
        "home_page": front.introduction,
        "editor": staff,
        "share": share(ctx, title="Home", description=about, kind="website"),
    }
    return revalidated(ctx, ctx.render("home.html", values))


routes = [Route("/", home, name="home")]
