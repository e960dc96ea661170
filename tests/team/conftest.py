"""Meet the Team's tests start from what `portal db upgrade` makes: the society's three committees."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from portal.team import service


@pytest.fixture(autouse=True)
def committees(database: Any) -> None:
    with database.session() as session:
        service.ensure_defaults(session, now=datetime(2026, 1, 1, tzinfo=UTC))
