"""The table of everyone who signs in to the consoles is `people`: agents, supervisors, knowledge
managers and admins alike, as the admins' API has always called them; a console session names its
`person_id`.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL's names for what it made with the table: renamed along, so they say what they belong to.
POSTGRESQL_NAMES = (
    ("SEQUENCE", "agents_id_seq", "people_id_seq"),
    ("INDEX", "agents_pkey", "people_pkey"),
    ("INDEX", "agents_email_key", "people_email_key"),
    ("INDEX", "agents_token_hash_key", "people_token_hash_key"),
)


def upgrade() -> None:
    # Both databases carry the other tables' foreign keys over to the new name: PostgreSQL refers to
    # the table itself, SQLite rewrites the references (since 3.26, legacy_alter_table off).
    op.rename_table("agents", "people")
    if op.get_bind().dialect.name == "postgresql":
        for kind, old, new in POSTGRESQL_NAMES:
            op.execute(f"ALTER {kind} {old} RENAME TO {new}")
    op.drop_index("ix_web_sessions_agent_id", table_name="web_sessions")
    op.alter_column("web_sessions", "agent_id", new_column_name="person_id")
    op.create_index("ix_web_sessions_person_id", "web_sessions", ["person_id"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_person_id", table_name="web_sessions")
    op.alter_column("web_sessions", "person_id", new_column_name="agent_id")
    op.create_index("ix_web_sessions_agent_id", "web_sessions", ["agent_id"])
    if op.get_bind().dialect.name == "postgresql":
        for kind, old, new in reversed(POSTGRESQL_NAMES):
            op.execute(f"ALTER {kind} {new} RENAME TO {old}")
    op.rename_table("people", "agents")
