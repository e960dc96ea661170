"""The search index (one row per public document, and its full-text side: an FTS5 table on SQLite, a tsvector
table under a GIN index on PostgreSQL, both kept in step by triggers) and the website's redirects from the old
site's addresses, filled for the captured menu's pages (`/find-a-therapist.html` and the rest).

The index is filled by `portal db upgrade` after the schema (while it is empty) or `portal search rebuild`:
the documents' text comes from the rooms' own rules (Markdown turned into words), not from SQL here.

Revision ID: search_0001
Revises: membership_0001
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "search_0001"
down_revision = "mail_0002"
branch_labels = None
depends_on = None

#: The old site's addresses (its menu's titles as a Weebly site names them) and where each page is now.
OLD_ADDRESSES = [
    ("/index.html", "/"),
    ("/contact-us.html", "/contact"),
    ("/psa-website-projects.html", "/psa-website-projects"),
    ("/website-project.html", "/psa-website-projects/website-project"),
    ("/psa.html", "/psa-website-projects/psa"),
    ("/about-ipt.html", "/about-ipt"),
    ("/mission-vision.html", "/about-ipt/mission-vision"),
    ("/stages-of-ipt.html", "/about-ipt/stages-of-ipt"),
    ("/ipt-research.html", "/about-ipt/ipt-research"),
    ("/find-a-therapist.html", "/about-ipt/find-a-therapist"),
    ("/policies.html", "/about-ipt/policies"),
    ("/safeguarding.html", "/about-ipt/policies/safeguarding"),
    ("/complaints.html", "/complaints"),
    ("/meet-the-team.html", "/team"),
    ("/about-ipt-uk.html", "/about-ipt/meet-the-team/about-ipt-uk"),
    ("/executive-committee.html", "/team/executive-committee"),
    ("/exec-2025-elections.html", "/elections/"),
    ("/exec-elections-may-2023.html", "/elections/archive"),
    ("/training-committee.html", "/team/training-committee"),
    ("/admin-team.html", "/team/admin-team"),
    ("/accreditation-membership.html", "/accreditation-membership"),
    ("/accreditation-standards.html", "/accreditation-membership/accreditation-standards"),
    ("/membership-options.html", "/accreditation-membership/membership-options"),
    ("/register-as-a-member.html", "/accreditation-membership/register-as-a-member"),
    ("/training-events.html", "/training-events"),
    ("/events-calendar.html", "/events"),
    ("/ipt-uk-national-meeting.html", "/events?kind=meeting"),
    ("/ipt-practitioner-training.html", "/training-events/ipt-practitioner-training"),
    ("/ipt-a-practitioner-training.html", "/training-events/ipt-a-practitioner-training"),
    ("/ipt-supervisor-training.html", "/training-events/ipt-supervisor-training"),
    ("/ipt-refresher-training.html", "/training-events/ipt-refresher-training"),
    ("/ipc-training.html", "/training-events/ipc-training"),
    ("/regional-meetings-events.html", "/training-events/regional-meetings-events"),
    ("/other-courses.html", "/training-events/other-courses"),
    ("/ipt-for-bipolar.html", "/training-events/other-courses/ipt-for-bipolar"),
    ("/external-cpd-courses.html", "/training-events/other-courses/external-cpd-courses"),
    ("/members-area.html", "/members-area"),
    ("/members-login.html", "/login"),
    ("/membership-faqs.html", "/members-area/membership-faqs"),
    ("/training-faqs.html", "/members-area/training-faqs"),
    ("/isipt-con-2024.html", "/isipt-con-2024"),
    ("/cookies.html", "/cookies"),
    ("/terms-and-conditions.html", "/terms"),
    ("/privacy-notice.html", "/privacy-notice"),
    ("/accessibility-statement.html", "/accessibility"),
]

_SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title, body, content='search_documents', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
_POSTGRES = [
    "CREATE FUNCTION search_vector(title text, body text) RETURNS tsvector LANGUAGE sql IMMUTABLE AS "
    "$$ SELECT setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B') $$",
    "CREATE TABLE search_fts (document_id integer PRIMARY KEY "
    "REFERENCES search_documents (id) ON DELETE CASCADE, vector tsvector NOT NULL)",
    "CREATE INDEX ix_search_fts_vector ON search_fts USING gin (vector)",
    "CREATE FUNCTION search_fts_refresh() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO search_fts (document_id, vector) VALUES (NEW.id, search_vector(NEW.title, NEW.body)) "
    "ON CONFLICT (document_id) DO UPDATE SET vector = EXCLUDED.vector; RETURN NEW; END $$",
    "CREATE TRIGGER search_documents_fts AFTER INSERT OR UPDATE OF title, body ON search_documents "
    "FOR EACH ROW EXECUTE FUNCTION search_fts_refresh()",
]


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=400), nullable=False),
        sa.Column("date", portal.db.UTCDateTime(), nullable=True),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_search_documents_kind_key")),
    )
    for statement in _POSTGRES if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)

    redirects = op.create_table(
        "site_redirects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_path", sa.String(length=400), nullable=False),
        sa.Column("target", sa.String(length=400), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_redirects")),
        sa.UniqueConstraint("old_path", name=op.f("uq_site_redirects_old_path")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        redirects,
        [
            {"old_path": old, "target": target, "updated_at": now, "updated_by": "The old site's menu"}
            for old, target in OLD_ADDRESSES
        ],
    )


def downgrade() -> None:
    op.drop_table("site_redirects")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE search_fts")
        op.execute("DROP FUNCTION search_fts_refresh")
        op.execute("DROP FUNCTION search_vector")
    else:
        op.execute("DROP TABLE search_fts")
    op.drop_table("search_documents")
