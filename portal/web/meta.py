"""What a public page tells search engines and the sites it is shared on: its canonical address (the
configured base URL and the path, never the Host header or the query) and its Open Graph tags. A handler
passes `share(ctx, ...)` as `share` to its template; `base.html` writes the tags."""

from __future__ import annotations

from dataclasses import dataclass

from portal.web.context import Ctx, society_name

MAX_DESCRIPTION = 200


@dataclass(frozen=True)
class Share:
    url: str
    title: str
    description: str
    type: str
    site_name: str


def share(ctx: Ctx, *, title: str, description: str = "", kind: str = "article") -> Share:
    text = " ".join(description.split())
    if len(text) > MAX_DESCRIPTION:
        text = text[: MAX_DESCRIPTION - 1].rsplit(" ", 1)[0] + "\u2026"
    return Share(
        url=ctx.settings.base_url.rstrip("/") + ctx.request.url.path,
        title=title,
        description=text,
        type=kind,
        site_name=society_name(ctx.request),
    )
