"""Skills-based routing: work items, routing decisions, alerts; agents get languages, per-channel
capacity, teams, a role and presence state; conversations hand their queue fields to work items.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.core.timestamps import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Values of routing.Policy and the handoff defaults when this migration was written.
AGEING_SECONDS = 120.0
SUGGESTED_SKILL_LEVEL = 3


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "work_items",
        sa.Column("conversation_id", sa.Uuid(), sa.ForeignKey("conversations.id"), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("required", sa.JSON(), nullable=False),
        sa.Column("optional", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.Column("queue_rank", sa.Float(), nullable=False),
        sa.Column("front", sa.Boolean(), nullable=False),
        sa.Column("sla_due", UTCDateTime(), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("target_agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("stage_since", UTCDateTime(), nullable=True),
        sa.Column("refused_by", sa.JSON(), nullable=False),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True, index=True),
        sa.Column("assigned", sa.Boolean(), nullable=False),
        sa.Column("escalated_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_work_items_queue", "work_items", ["front", "queue_rank"])
    op.create_table(
        "routing_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.Uuid(), sa.ForeignKey("conversations.id"), nullable=False, index=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), sa.ForeignKey("conversations.id"), nullable=True),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id"), nullable=True),
        sa.Column("message", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
    )

    # Agents: one capacity becomes a capacity per channel (web chat was the only channel).
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="agent"))
        batch.add_column(sa.Column("languages", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("capacity_by_channel", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("teams", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("last_heartbeat_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("lost_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("missed_offers", sa.Integer(), nullable=False, server_default="0"))
        batch.alter_column("last_assigned_at", new_column_name="idle_since")
    agents = sa.table(
        "agents",
        sa.column("id", sa.Integer()),
        sa.column("capacity", sa.Integer()),
        sa.column("capacity_by_channel", sa.JSON()),
        sa.column("languages", sa.JSON()),
        sa.column("teams", sa.JSON()),
    )
    for agent_id, capacity in bind.execute(sa.select(agents.c.id, agents.c.capacity)).all():
        bind.execute(
            agents.update()
            .where(agents.c.id == agent_id)
            .values(capacity_by_channel={"webchat": capacity}, languages=["en"], teams=[])
        )
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("capacity")
    with op.batch_alter_table("agents") as batch:
        batch.alter_column("capacity_by_channel", new_column_name="capacity", nullable=False)
        batch.alter_column("languages", nullable=False)
        batch.alter_column("teams", nullable=False)
        batch.alter_column("role", server_default=None)
        batch.alter_column("missed_offers", server_default=None)

    # Conversations waiting for or owned by a person become work items.
    conversations = sa.table(
        "conversations",
        sa.column("id", sa.Uuid()),
        sa.column("channel", sa.String()),
        sa.column("owner", sa.String()),
        sa.column("agent_id", sa.Integer()),
        sa.column("priority", sa.Integer()),
        sa.column("required_skills", sa.JSON()),
        sa.column("queued_at", UTCDateTime()),
        sa.column("created_at", UTCDateTime()),
    )
    offers = sa.table(
        "offers",
        sa.column("id", sa.Integer()),
        sa.column("conversation_id", sa.Uuid()),
        sa.column("agent_id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("reason", sa.String()),
        sa.column("created_at", UTCDateTime()),
    )
    work_items = sa.table(
        "work_items",
        sa.column("conversation_id", sa.Uuid()),
        sa.column("channel", sa.String()),
        sa.column("language", sa.String()),
        sa.column("required", sa.JSON()),
        sa.column("optional", sa.JSON()),
        sa.column("priority", sa.Integer()),
        sa.column("queued_at", UTCDateTime()),
        sa.column("queue_rank", sa.Float()),
        sa.column("front", sa.Boolean()),
        sa.column("stage", sa.Integer()),
        sa.column("stage_since", UTCDateTime()),
        sa.column("refused_by", sa.JSON()),
        sa.column("agent_id", sa.Integer()),
        sa.column("assigned", sa.Boolean()),
    )
    offered = dict(
        bind.execute(sa.select(offers.c.conversation_id, offers.c.agent_id).where(offers.c.status == "pending")).all()
    )
    people = bind.execute(sa.select(conversations).where(conversations.c.owner.in_(["queue", "agent"]))).mappings()
    for row in people:
        queued_at = _aware(row["queued_at"] or row["created_at"])
        owned = row["owner"] == "agent"
        bind.execute(
            work_items.insert().values(
                conversation_id=row["id"],
                channel=row["channel"],
                language="en",
                required=dict.fromkeys(row["required_skills"] or [], SUGGESTED_SKILL_LEVEL),
                optional={},
                priority=row["priority"],
                queued_at=queued_at,
                queue_rank=queued_at.timestamp() - row["priority"] * AGEING_SECONDS,
                front=False,
                stage=0,
                stage_since=queued_at,
                refused_by=[],
                agent_id=row["agent_id"] if owned else offered.get(row["id"]),
                assigned=owned,
            )
        )
    decisions = sa.table(
        "routing_decisions",
        sa.column("conversation_id", sa.Uuid()),
        sa.column("agent_id", sa.Integer()),
        sa.column("stage", sa.Integer()),
        sa.column("eligible", sa.JSON()),
        sa.column("reason", sa.String()),
        sa.column("decided_at", UTCDateTime()),
    )
    for offer in bind.execute(sa.select(offers)).mappings():
        bind.execute(
            decisions.insert().values(
                conversation_id=offer["conversation_id"],
                agent_id=offer["agent_id"],
                stage=0,
                eligible=[offer["agent_id"]],
                reason=offer["reason"],
                decided_at=offer["created_at"],
            )
        )

    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("priority")
        batch.drop_column("required_skills")
        batch.drop_column("queued_at")
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("reason")
        batch.create_index("ix_offers_status", ["status"])


def downgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        batch.drop_index("ix_offers_status")
        batch.add_column(sa.Column("reason", sa.String(500), nullable=False, server_default=""))
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("required_skills", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("queued_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("agents") as batch:
        batch.add_column(sa.Column("capacity_total", sa.Integer(), nullable=False, server_default="3"))
        batch.drop_column("capacity")
    with op.batch_alter_table("agents") as batch:
        batch.alter_column("capacity_total", new_column_name="capacity", server_default=None)
        batch.alter_column("idle_since", new_column_name="last_assigned_at")
        for column in ("role", "languages", "teams", "last_heartbeat_at", "lost_at", "missed_offers"):
            batch.drop_column(column)
    for table in ("alerts", "routing_decisions", "work_items"):
        op.drop_table(table)
