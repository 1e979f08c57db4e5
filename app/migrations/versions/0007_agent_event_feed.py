"""Agents' event feeds: numbered events kept so a reconnecting console resumes where it stopped.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.core.timestamps import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as table:
        table.add_column(sa.Column("last_event_seq", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("agents") as table:
        table.alter_column("last_event_seq", server_default=None)
    op.create_table(
        "agent_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("agent_id", "seq", name="uq_agent_events_agent_seq"),
    )
    op.create_index("ix_agent_events_created_at", "agent_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_agent_events_created_at", table_name="agent_events")
    op.drop_table("agent_events")
    with op.batch_alter_table("agents") as table:
        table.drop_column("last_event_seq")
