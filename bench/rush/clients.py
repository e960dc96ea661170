"""People at the portal, over real HTTP: a delegate booking through the booking form, a member voting with a
personal ballot link, a scanner at the door. Each has its own cookies and connections (one browser or one
phone), and sends its requests to the portal's addresses in turn, so one journey crosses server processes.

With `retry=True` a person does what a browser's "try again" does after an error page or a dropped
connection: sends the same request again, with the same idempotency key (the booking form's `form_key`,
the scan's `nonce`, the same ballot link), until it gets an answer or `give_up_after` seconds have passed.
Without it, every failed request is an error and the action stops.
"""

from __future__ import annotations

import functools
import re
import ssl
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')
TRACKER = re.compile(r'class="tracker".*?<strong>([A-Z2-7]{5}-[A-Z2-7]{5})</strong>', re.S)
STATUS_CODE = re.compile(r'data-code="([a-z_]+)"')


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client: making one loads the CA bundle (some 30 ms of CPU), which would
    otherwise be paid by every person and show up as load on the machine the portal runs on."""
    return ssl.create_default_context()


@dataclass
class Stats:
    """What the clients saw, shared by their threads: latencies (seconds) per request kind and per action,
    errors and retries with a sample of their causes."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    retries: Counter[str] = field(default_factory=Counter)
    causes: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def timed(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latency[kind].append(seconds)

    def error(self, kind: str, cause: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            self.causes[f"{kind}: {cause}"] += 1

    def retry(self, kind: str, cause: str) -> None:
        with self.lock:
            self.retries[kind] += 1
            self.causes[f"{kind} (retried): {cause}"] += 1

    @property
    def requests(self) -> int:
        return sum(len(v) for k, v in self.latency.items() if not k.startswith("action:"))

    def percentile(self, kind: str, q: float) -> float:
        values = sorted(self.latency.get(kind, []))
        if not values:
            return float("nan")
        return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


class Person:
    """One browser or device: its own cookie jar and connections; requests go to `urls` in turn."""

    def __init__(
        self,
        urls: list[str],
        stats: Stats,
        *,
        start: int = 0,
        retry: bool = False,
        give_up_after: float = 90.0,
        timeout: float = 30.0,
    ) -> None:
        self.urls = urls
        self.stats = stats
        self.turn = start
        self.retry = retry
        self.give_up_after = give_up_after
        self.client = httpx.Client(
            timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls_context()
        )
        #: How many attempts the last `send` took.
        self.attempts = 0

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Person:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _base(self) -> str:
        url = self.urls[self.turn % len(self.urls)]
        self.turn += 1
        return url

    def send(self, kind: str, method: str, path: str, *, expect: set[int], **kwargs: Any) -> Any:
        """The response when its status is expected; None (an error counted) otherwise. A 5xx or a dropped
        connection is retried when `retry` is on; anything else is an answer, and not retried."""
        started = time.perf_counter()
        pause = 0.1
        self.attempts = 0
        while True:
            self.attempts += 1
            sent = time.perf_counter()
            try:
                response = self.client.request(method, self._base() + path, **kwargs)
            except httpx.TransportError as exc:
                cause = type(exc).__name__
            else:
                self.stats.timed(kind, time.perf_counter() - sent)
                if response.status_code in expect:
                    self.stats.timed(f"action:{kind}", time.perf_counter() - started)
                    return response
                cause = f"HTTP {response.status_code}"
                if response.status_code < 500:
                    self.stats.error(kind, cause)
                    return None
            if not self.retry or time.perf_counter() - started > self.give_up_after:
                self.stats.error(kind, cause)
                return None
            self.stats.retry(kind, cause)
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def _csrf(response: Any) -> str:
    found = CSRF_INPUT.search(response.text)
    assert found, "no CSRF token on the page"
    return found.group(1)


def delegate_email(slug: str, n: int) -> str:
    """The n-th delegate's address, different for each event (the checks count e-mails by address)."""
    return f"delegate-{n:05d}@{slug}.example.org"


class Delegate(Person):
    """Books a place through the booking form: open it, check the details, confirm."""

    def open_form(self, slug: str, *, ticket_id: int, n: int) -> dict[str, str] | None:
        response = self.send("booking form", "GET", f"/events/{slug}/book", expect={200})
        if response is None:
            return None
        form_key = FORM_KEY.search(response.text)
        assert form_key, "no form key on the booking form"
        return {
            "csrf_token": _csrf(response),
            "form_key": form_key.group(1),
            "ticket": str(ticket_id),
            "first_name": "Delegate",
            "last_name": f"Number {n:05d}",
            "email": delegate_email(slug, n),
        }

    def review(self, slug: str, form: dict[str, str]) -> bool:
        data = {**form, "action": "review"}
        return (
            self.send("booking review", "POST", f"/events/{slug}/book", data=data, expect={200}) is not None
        )

    def confirm(self, slug: str, form: dict[str, str]) -> str | None:
        """The booking's own page (where the confirmation redirects), or None."""
        data = {**form, "action": "confirm"}
        response = self.send("booking confirm", "POST", f"/events/{slug}/book", data=data, expect={303})
        return None if response is None else response.headers["location"]


class Voter(Person):
    """Votes with a personal ballot link: open the ballot, review the choice, cast."""

    def open_ballot(self, token: str) -> str | None:
        """The CSRF token of the ballot form, or None."""
        response = self.send("ballot", "GET", f"/elections/vote/{token}", expect={200})
        return None if response is None else _csrf(response)

    def review(self, token: str, csrf: str, choice: dict[str, str]) -> bool:
        data = {"csrf_token": csrf, **choice}
        return (
            self.send("ballot review", "POST", f"/elections/vote/{token}/review", data=data, expect={200})
            is not None
        )

    def cast(self, token: str, csrf: str, choice: dict[str, str]) -> str | None:
        """`cast` (a receipt with its tracker), `already_voted`, or None (an error)."""
        data = {"csrf_token": csrf, **choice}
        response = self.send(
            "ballot cast", "POST", f"/elections/vote/{token}/cast", data=data, expect={200, 409}
        )
        if response is None:
            return None
        if response.status_code == 200 and TRACKER.search(response.text):
            return "cast"
        code = STATUS_CODE.search(response.text)
        if response.status_code == 409 and code and code.group(1) == "voted":
            return "already_voted"
        self.stats.error("ballot cast", f"HTTP {response.status_code} without a receipt")
        return None


class Scanner(Person):
    """A scanner device at a door: `POST /api/checkin` with its bearer token."""

    def __init__(self, urls: list[str], stats: Stats, *, token: str, door: str, **options: Any) -> None:
        super().__init__(urls, stats, **options)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.door = door

    def scan(self, code: str, nonce: str) -> str | None:
        """The scan's status (`ok`, `already_checked_in` ...), or None (an error)."""
        body = {"code": code, "door": self.door, "nonce": nonce}
        response = self.send("scan", "POST", "/api/checkin", json=body, headers=self.headers, expect={200})
        return None if response is None else str(response.json()["status"])
