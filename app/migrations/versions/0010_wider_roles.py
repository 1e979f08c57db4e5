"""Roles up to 32 characters: "knowledge_manager" has 17, and PostgreSQL refused it in 16.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as table:
        table.alter_column("role", type_=sa.String(32), existing_type=sa.String(16), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("agents") as table:
        table.alter_column("role", type_=sa.String(16), existing_type=sa.String(32), existing_nullable=False)
