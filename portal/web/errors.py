"""Errors with a stable code and a human message, and the pages and JSON that show them."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.db import is_unreachable
from portal.errors import Kind, PortalError
from portal.web.context import page_context

log = logging.getLogger("portal.errors")

TITLES = {
    400: ("Bad request", "The request could not be understood. Please go back and try again."),
    403: ("Not allowed", "You do not have permission to do that."),
    404: ("Not found", "There is nothing at this address. It may have moved, or the link may be mistyped."),
    405: ("Not allowed", "That action is not possible at this address."),
    413: ("Too large", "What you sent is larger than the portal accepts."),
    422: ("Please check the form", "Some of what you entered needs attention."),
    429: ("Too many attempts", "Please wait a little and try again."),
    503: (
        "Briefly unavailable",
        "The portal cannot reach its database just now. Please try again in a moment.",
    ),
    500: (
        "Something went wrong",
        "An error occurred on our side. It has been logged; please try again shortly.",
    ),
}


#: The one place an error's kind becomes an HTTP status.
STATUS: dict[Kind, int] = {
    Kind.INVALID: 422,
    Kind.MALFORMED: 400,
    Kind.NOT_FOUND: 404,
    Kind.GONE: 410,
    Kind.CONFLICT: 409,
    Kind.FORBIDDEN: 403,
    Kind.UNAUTHENTICATED: 401,
    Kind.THROTTLED: 429,
    Kind.TOO_LARGE: 413,
    Kind.UNAVAILABLE: 503,
}


def status_for(exc: PortalError) -> int:
    return STATUS[exc.kind]


def json_error(code: str, message: str, status_code: int, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if extra:
        body["error"].update(extra)
    return JSONResponse(body, status_code=status_code)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/healthz"


#: Words of a missing address that say nothing of what was wanted.
_ADDRESS_NOISE = frozenset({"html", "htm", "php", "asp", "aspx", "index", "www"})


def words_of_path(path: str) -> str:
    """What a missing address was probably about, as words to search for: `/find-a-therapist.html` ->
    `find a therapist`."""
    words = [w for w in re.findall(r"[^\W_]+", unquote(path).lower()) if w not in _ADDRESS_NOISE]
    return " ".join(words)[:100]


def error_response(request: Request, status_code: int, code: str, message: str | None = None) -> Response:
    title, default_message = TITLES.get(status_code, TITLES[500] if status_code >= 500 else TITLES[400])
    message = message or default_message
    if wants_json(request):
        return json_error(code, message, status_code)
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            # Error pages show no login state: they must render even when loading it is what failed.
            **page_context(request),
            "status_code": status_code,
            "title": title,
            "message": message,
            "code": code,
            # A 404 offers search, with the missing address's words already typed.
            "search_words": words_of_path(request.url.path) if status_code == 404 else "",
        },
        status_code=status_code,
    )


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 400: "bad_request", 413: "too_large"}.get(
        exc.status_code, "http_error"
    )
    # Starlette's own detail strings are generic; ours come through PortalError instead.
    response = error_response(request, exc.status_code, code)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def portal_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PortalError)
    return error_response(request, status_for(exc), exc.code, exc.message)


async def server_error_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    return error_response(request, 500, "server_error")


async def database_unavailable_handler(request: Request, exc: Exception) -> Response:
    """The database is restarting or unreachable (or, on SQLite, locked for too long): a clear 503 with
    Retry-After, and one log line rather than a traceback per request. Retrying is safe everywhere: bookings
    carry a key, scans a nonce, and a ballot is one per roll entry."""
    if not is_unreachable(exc):
        # "no such table", a bad statement, a broken constraint: our fault, not the database's absence.
        return await server_error_handler(request, exc)
    log.warning("database unavailable: %s", exc.__class__.__name__)
    response = error_response(request, 503, "unavailable")
    response.headers["Retry-After"] = "5"
    return response
