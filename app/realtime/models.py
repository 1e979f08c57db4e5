"""What an agent's console was sent, kept so a client that reconnects gets exactly what it missed."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.timestamps import UTCDateTime, utcnow

# What travels over a websocket: a JSON object with a "type".
Event = dict[str, Any]
# Events addressed to agents' feeds, before numbering: None stands for every supervisor.
Addressed = list[tuple[int | None, Event]]
# Events numbered and stored in agents' feeds, in the transaction that caused them: to deliver once it commits.
Numbered = list[tuple[int, Event]]


class AgentEvent(SQLModel, table=True):
    """One event in one agent's feed; `seq` counts up from 1 per agent, with no gaps."""

    __tablename__ = "agent_events"
    __table_args__ = (
        UniqueConstraint("agent_id", "seq", name="uq_agent_events_agent_seq"),
        Index("ix_agent_events_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="people.id")
    seq: int
    event: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
