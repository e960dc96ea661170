"""The home page, `/` (named `home`)."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route

from portal.accounts.access import page
from portal.home import service
from portal.site.routes import EDITORS
from portal.web.context import Ctx


@page("public")
def home(ctx: Ctx) -> Response:
    staff = ctx.principal is not None and ctx.principal.has(*EDITORS)
    front = service.front_page(ctx.db, now=ctx.now, include_drafts=staff)
    return ctx.render("home.html", {"front": front, "home_page": front.introduction, "editor": staff})


routes = [Route("/", home, name="home")]
