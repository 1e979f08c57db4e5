"""The table of everyone who signs in to the consoles is `people`: agents, supervisors, knowledge
managers and admins alike, as the admins' API has always called them.

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


def upgrade() -> None:
    # Both databases carry the other tables' foreign keys over to the new name: PostgreSQL refers to
    # the table itself, SQLite rewrites the references (since 3.26, legacy_alter_table off).
    op.rename_table("agents", "people")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER SEQUENCE agents_id_seq RENAME TO people_id_seq")
        op.execute("ALTER INDEX agents_pkey RENAME TO people_pkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX people_pkey RENAME TO agents_pkey")
        op.execute("ALTER SEQUENCE people_id_seq RENAME TO agents_id_seq")
    op.rename_table("people", "agents")
