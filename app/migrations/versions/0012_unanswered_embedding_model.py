"""An unanswered question's stored embedding names the model that made it: after `carebridge kb tune`
the questions are grouped with the new model's vectors, never a mix of two.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Vectors kept before this have no model named: they are embedded again when next grouped.
    with op.batch_alter_table("unanswered_questions") as table:
        table.add_column(sa.Column("embedding_model", sa.String(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("unanswered_questions") as table:
        table.drop_column("embedding_model")
