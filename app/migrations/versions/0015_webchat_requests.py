"""Web chat requests, counted against the limits on starting sessions and sending messages.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.timestamps import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webchat_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_webchat_requests_key_at", "webchat_requests", ["key", "at"])
    op.create_index("ix_webchat_requests_at", "webchat_requests", ["at"])


def downgrade() -> None:
    op.drop_table("webchat_requests")
