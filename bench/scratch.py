"""A throwaway PostgreSQL database beside the one a URL names, for a benchmark's PostgreSQL leg."""

from __future__ import annotations

import os
from collections.abc import Callable

import sqlalchemy as sa

from portal.db import normalise_url


def postgres_scratch(url: str, label: str) -> tuple[str, Callable[[], None]]:
    """Create `portal_bench_<label>_<pid>` on the server of `url`; returns its URL and a function that drops it."""
    name = f"portal_bench_{label}_{os.getpid()}"
    admin = sa.create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.rsplit("/", 1)[0] + "/" + name, drop
