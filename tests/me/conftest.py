"""Fixtures for member self-service: members on the roll, reading the outbox, capturing the portal's logs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from support import as_sent

from portal.mail.models import OutboxEmail
from portal.members.models import Member


@pytest.fixture
def add_member(database: Any, clock: Any) -> Callable[..., Member]:
    def add(
        email: str = "mary@example.org", *, status: str = "active", number: str = "1001", **extra: Any
    ) -> Member:
        with database.session() as session:
            member = Member(
                membership_number=number,
                email=email,
                first_name=extra.pop("first_name", "Mary"),
                last_name=extra.pop("last_name", "Jones"),
                category=extra.pop("category", "basic"),
                status=status,
                created_at=clock(),
                updated_at=clock(),
                **extra,
            )
            session.add(member)
        return member

    return add


@pytest.fixture
def outbox(database: Any) -> Callable[[], list[OutboxEmail]]:
    """Every e-mail in the outbox, oldest first."""

    def read() -> list[OutboxEmail]:
        with database.session(write=False) as session:
            return list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))

    return read


def link_in(email: OutboxEmail) -> str:
    """The one single-use link an e-mail carries, as a path (the test client's base is the base URL)."""
    [link] = set(re.findall(r"http://testserver(/(?:password|me/email)/\S+)", as_sent(email).text))
    return link


@pytest.fixture
def link() -> Callable[[OutboxEmail], str]:
    return link_in


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(record.getMessage() for record in self.records)


@pytest.fixture
def portal_log(app: Any) -> Iterator[_Records]:
    """Every record of the `portal` loggers (at DEBUG), made after the app set its own level."""
    handler = _Records()
    logger = logging.getLogger("portal")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
