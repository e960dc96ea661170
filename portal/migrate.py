"""Running Alembic from code: `portal db upgrade`, and the tests that check models and migrations agree."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, create_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


#: Tables no model describes, made by the migrations themselves: the search index's full-text side (on SQLite
#: an FTS5 table with its shadow tables, on PostgreSQL a tsvector table), kept by triggers.
UNMODELLED_PREFIX = "search_fts"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """For Alembic's comparisons: leave out what no model describes (`UNMODELLED_PREFIX`)."""
    return not (type_ == "table" and (name or "").startswith(UNMODELLED_PREFIX))


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def current_revisions(url: str) -> set[str]:
    """The revisions the database at `url` is at: empty for a new database (no schema yet)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "heads") -> tuple[set[str], set[str]]:
    """Migrate to `revision`; returns the revisions before and after (before is empty for a new database)."""
    before = current_revisions(url)
    command.upgrade(alembic_config(url), revision)
    return before, current_revisions(url)


def upgrade_connection(connection: Connection, revision: str = "heads") -> None:
    command.upgrade(alembic_config(connection=connection), revision)
