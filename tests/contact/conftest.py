"""Contact us fixtures: a set-up portal whose society has a contact address, an office login, a real SMTP server
the outbox sends to, and a helper that sends the form as a visitor would."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import SmtpServer, csrf_token, login, make_account, smtp_server

from portal.mail.sender import Sender
from portal.settings import Settings
from portal.society.models import Society

STARTED = re.compile(r'name="started" value="([^"]+)"')


@pytest.fixture
def society(admin: Any, database: Any) -> None:
    with database.session() as s:
        found = s.get(Society, 1)
        found.contact_email = "office@ipt.example"


@pytest.fixture
def office(database: Any, passwords: Any, society: None) -> Any:
    return make_account(database, passwords, email="owen@example.org", roles="office", name="Owen Office")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def sender(database: Any, settings: Settings, smtp: SmtpServer, clock: Any) -> Sender:
    return Sender(
        database, dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{smtp.port}"), clock=clock
    )


@pytest.fixture
def send_message(client: Any, clock: Any, society: None) -> Callable[..., Any]:
    """Open the form, wait as a person would (5 s on the test clock), send it; returns the response."""

    def send(*, wait: float = 5, **fields: str) -> Any:
        page = client.get("/contact")
        assert page.status_code == 200
        started = STARTED.search(page.text)
        assert started
        clock.advance(seconds=wait)
        data = {
            "csrf_token": csrf_token(client),
            "started": started.group(1),
            "topic": "membership",
            "name": "Sam Sender",
            "email": "sam@example.org",
            "subject": "Joining",
            "message": "How do I join as an associate member?",
            "website": "",
            **fields,
        }
        return client.post("/contact", data=data)

    return send


@pytest.fixture
def office_login(client: Any, office: Any) -> Callable[[], Any]:
    def log_in() -> Any:
        return login(client, "owen@example.org")

    return log_in
