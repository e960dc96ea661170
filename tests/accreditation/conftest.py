"""Accreditation's tests start from what `portal db upgrade` makes: the society's six courses and the five
levels naming them (and a set-up portal, so pages answer)."""

from __future__ import annotations

from typing import Any

import pytest
from support import login, make_account

from portal.accreditation import service
from portal.training import service as training


@pytest.fixture
def levels(database: Any, admin: Any, clock: Any) -> dict[str, int]:
    """The five levels of a fresh install: slug -> id."""
    with database.session() as s:
        training.ensure_courses(s, now=clock())
        service.ensure_levels(s, now=clock())
        return {level.slug: level.id for level in service.list_levels(s)}


@pytest.fixture
def officer_client(client: Any, database: Any, passwords: Any, admin: Any) -> Any:
    make_account(
        database, passwords, email="accreditation@example.org", roles="accreditation", name="Avi Officer"
    )
    login(client, "accreditation@example.org")
    return client
