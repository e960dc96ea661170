"""A local stand-in for the few Stripe endpoints the portal uses (Stripe itself cannot be reached from CI).

A Starlette app on a port from PORTAL_TEST_PORTS, run by uvicorn in a thread: `POST /v1/checkout/sessions`,
`GET /v1/checkout/sessions/{id}`, `POST /v1/checkout/sessions/{id}/expire` and `POST /v1/refunds`, answering
with Stripe-shaped JSON (the official client parses it). Its hosted page (`session.url`, `/pay/{id}`) has a
Pay button that completes the session, sends the signed `checkout.session.completed` webhook to the portal
and redirects to the success URL, as Stripe does. Webhooks are signed exactly as Stripe documents: header
`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<payload>" with the endpoint's secret>`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from support import SECRET, free_port

from portal.settings import Secret, Settings

SECRET_KEY = "sk_test_standin_0123456789"
WEBHOOK_SECRET = "whsec_standin_0123456789abcdef"


def sign(payload: bytes, secret: str = WEBHOOK_SECRET, *, at: int | None = None) -> str:
    """The `Stripe-Signature` header for `payload`, as Stripe makes it."""
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`line_items[0][price_data][unit_amount]=4500`) back into a structure."""
    out: dict[str, Any] = {}
    for raw_key, value in pairs:
        parts = [raw_key.split("[", 1)[0], *re.findall(r"\[([^\]]*)\]", raw_key)]
        node: Any = out
        for part, following in zip(parts, [*parts[1:], None], strict=True):
            if following is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return out


@dataclass
class StandIn:
    """The stand-in's state and its handles for tests: `complete`, `expire`, `event`, `deliver`."""

    webhook_url: str = ""
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    delivered: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    base_url: str = ""
    #: Deliver the webhook when the hosted page's Pay button is pressed.
    send_on_pay: bool = True
    #: How a webhook reaches the portal: `(payload, headers) -> response`; None posts to `webhook_url`.
    sender: Callable[[bytes, dict[str, str]], Any] | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_test_{next(self._ids):08d}"

    # --- the API -------------------------------------------------------------------------------------------------

    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {SECRET_KEY}"

    async def create_session(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"error": {"type": "invalid_request_error", "message": "bad key"}}, 401)
        params = _nest(list((await request.form()).multi_items()))  # type: ignore[arg-type]
        item = params["line_items"]["0"]
        amount = int(item["price_data"]["unit_amount"]) * int(item.get("quantity", 1))
        session_id = self._id("cs")
        obj = {
            "id": session_id,
            "object": "checkout.session",
            "mode": params["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount,
            "currency": item["price_data"]["currency"],
            "client_reference_id": params.get("client_reference_id"),
            "customer_email": params.get("customer_email"),
            "metadata": params.get("metadata", {}),
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "expires_at": int(params["expires_at"]),
            "payment_intent": None,
            "url": f"{self.base_url}/pay/{session_id}",
        }
        self.sessions[session_id] = obj
        return JSONResponse(obj)

    async def get_session(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"error": {"type": "invalid_request_error", "message": "bad key"}}, 401)
        found = self.sessions.get(request.path_params["session_id"])
        if found is None:
            return JSONResponse(
                {"error": {"type": "invalid_request_error", "message": "No such session"}}, 404
            )
        return JSONResponse(found)

    async def expire_session(self, request: Request) -> Response:
        found = self.sessions.get(request.path_params["session_id"])
        if found is None:
            return JSONResponse(
                {"error": {"type": "invalid_request_error", "message": "No such session"}}, 404
            )
        if found["status"] == "open":
            found["status"] = "expired"
        return JSONResponse(found)

    async def create_refund(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"error": {"type": "invalid_request_error", "message": "bad key"}}, 401)
        form = dict((await request.form()).items())
        refund = {
            "id": self._id("re"),
            "object": "refund",
            "amount": int(str(form["amount"])),
            "payment_intent": form["payment_intent"],
            "status": "succeeded",
            "currency": "gbp",
        }
        self.refunds.append(refund)
        return JSONResponse(refund)

    # --- the hosted page ---------------------------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        found = self.sessions.get(request.path_params["session_id"])
        if found is None:
            return HTMLResponse("No such session", 404)
        if request.method == "POST":
            self.complete(found["id"])
            if self.send_on_pay:
                self.deliver(self.event("checkout.session.completed", found["id"]))
            return RedirectResponse(found["success_url"].replace("{CHECKOUT_SESSION_ID}", found["id"]), 303)
        amount = f"£{found['amount_total'] / 100:.2f}"
        return HTMLResponse(
            f"<!doctype html><html lang='en'><head><title>Stand-in checkout</title></head><body><main>"
            f"<h1>Pay {amount}</h1><form method='post'><button type='submit'>Pay</button></form>"
            f"<p><a href='{found['cancel_url']}'>Cancel</a></p></main></body></html>"
        )

    # --- handles for tests ---------------------------------------------------------------------------------------

    def complete(self, session_id: str) -> dict[str, Any]:
        found = self.sessions[session_id]
        if found["status"] == "open":
            found.update(status="complete", payment_status="paid", payment_intent=self._id("pi"))
        return found

    def expire(self, session_id: str) -> dict[str, Any]:
        found = self.sessions[session_id]
        if found["status"] == "open":
            found["status"] = "expired"
        return found

    def event(self, kind: str, session_id: str, *, event_id: str | None = None) -> dict[str, Any]:
        """A Stripe event about a session, as it is now."""
        return {
            "id": event_id or self._id("evt"),
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "type": kind,
            "livemode": False,
            "pending_webhooks": 1,
            "data": {"object": dict(self.sessions[session_id])},
        }

    def deliver(self, event: dict[str, Any], *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> Any:
        """POST the event to the portal's webhook, signed as Stripe signs it."""
        payload = json.dumps(event).encode()
        headers = {"Content-Type": "application/json", "Stripe-Signature": sign(payload, secret, at=at)}
        if self.sender is not None:
            response = self.sender(payload, headers)
        else:
            response = httpx.post(self.webhook_url, content=payload, headers=headers, timeout=10)
        self.delivered.append((response.status_code, event))
        return response

    def reset(self) -> None:
        self.sessions.clear()
        self.refunds.clear()
        self.delivered.clear()
        self.send_on_pay = True
        self.sender = None

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/checkout/sessions", self.create_session, methods=["POST"]),
                Route("/v1/checkout/sessions/{session_id}", self.get_session, methods=["GET"]),
                Route("/v1/checkout/sessions/{session_id}/expire", self.expire_session, methods=["POST"]),
                Route("/v1/refunds", self.create_refund, methods=["POST"]),
                Route("/pay/{session_id}", self.page, methods=["GET", "POST"]),
            ]
        )


class Running:
    """The stand-in served by uvicorn in a thread until `stop()`."""

    def __init__(self, standin: StandIn) -> None:
        self.standin = standin
        self.port = free_port()
        standin.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            standin.app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the Stripe stand-in did not start")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return self.standin.base_url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


def start() -> Running:
    return Running(StandIn())


# --- fixtures (imported by the tests that pay by card) -------------------------------------------------------------


@pytest.fixture(scope="session")
def stripe_server() -> Iterator[Running]:
    running = start()
    yield running
    running.stop()


@pytest.fixture
def standin(stripe_server: Running) -> StandIn:
    """The stand-in, emptied for the test."""
    stripe_server.standin.reset()
    return stripe_server.standin


def card_settings(db_url: str, api_base: str) -> Settings:
    """The test settings with card payment on, through the stand-in."""
    return Settings(
        database_url=db_url,
        secret_key=Secret(SECRET),
        base_url="http://testserver",
        env="test",
        run_mail_worker=False,
        stripe_secret_key=Secret(SECRET_KEY),
        stripe_webhook_secret=Secret(WEBHOOK_SECRET),
        stripe_api_base=api_base,
    )
