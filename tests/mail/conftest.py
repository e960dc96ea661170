"""Fixtures for the outbox: a real SMTP server (aiosmtpd), settings that send to it, a sender, and a log
capture that works whether or not pytest's logging plugin is loaded."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support import SmtpServer, smtp_server

from portal.mail.sender import Sender
from portal.settings import Settings


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def smtp_settings(settings: Settings, smtp: SmtpServer) -> Settings:
    return dataclasses.replace(settings, smtp_url=f"smtp://127.0.0.1:{smtp.port}")


@pytest.fixture
def make_sender(database: Any, smtp_settings: Settings, clock: Any) -> Callable[..., Sender]:
    def make(**kwargs: Any) -> Sender:
        return Sender(database, kwargs.pop("settings", smtp_settings), clock=clock, **kwargs)

    return make


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        return [record.getMessage() for record in self.records]


@pytest.fixture
def portal_log() -> Iterator[_Records]:
    """Every record of the `portal` loggers, at DEBUG, for the test."""
    handler = _Records()
    logger = logging.getLogger("portal")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
