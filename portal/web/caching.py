"""Anonymous views of public pages, revalidated instead of rendered for nothing: a weak ETag from the page's
bytes, and 304 Not Modified when the browser already holds them.

`Cache-Control: private, no-cache` rather than `public, max-age`: every page carries the visitor's own CSRF
token (tied to their cookie, in the htmx headers and every form), so no shared cache may hold one visitor's
page for another, and `Vary: Cookie` says the page follows the cookie. `no-cache` makes the browser ask each
time, and the ETag (from the bytes, so the token and any change of the text, the menu or the footer are in it)
turns the answer into a 304 without the page. A logged-in page, a page with a flashed message, and anything
but a 200 keep the default (`no-store`, set by the security headers).
"""

from __future__ import annotations

import hashlib

from starlette.responses import Response

from portal.web.context import Ctx

CACHE_CONTROL = "private, no-cache"


def etag_for(body: bytes) -> str:
    return 'W/"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _matches(header: str, tag: str) -> bool:
    """If-None-Match compares weakly (RFC 9110 13.1.2): `W/` does not count, `*` matches anything."""
    wanted = tag.removeprefix("W/")
    return any(part.strip() == "*" or part.strip().removeprefix("W/") == wanted for part in header.split(","))


def revalidated(ctx: Ctx, response: Response) -> Response:
    """The response with its validators when a visitor may keep it; a bodiless 304 when they hold it already."""
    request = ctx.request
    if (
        ctx.principal is not None
        or ctx.flash_messages
        or request.method not in ("GET", "HEAD")
        or response.status_code != 200
    ):
        return response
    tag = etag_for(bytes(response.body))
    vary = ", ".join(v for v in (response.headers.get("vary"), "Cookie") if v)
    headers = {"ETag": tag, "Cache-Control": CACHE_CONTROL, "Vary": vary}
    if _matches(request.headers.get("if-none-match", ""), tag):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response
