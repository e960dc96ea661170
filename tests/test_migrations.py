"""Models and migrations agree, on every engine: upgrading an empty database gives exactly the models' schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from portal import migrate
from portal.db import make_engine
from portal.models import metadata


def test_migrations_produce_the_schema_the_models_describe(db_url):
    # db_url is already migrated to the latest revisions (the test template / per-worker database).
    engine = make_engine(db_url, null_pool=True)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": migrate.include_name}
        )
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_migrations_have_a_single_head():
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1, f"merge the migration branches: {script.get_heads()}"
