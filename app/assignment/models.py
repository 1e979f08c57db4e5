"""The router's state in the database: work items, offers, routing decisions, supervisor alerts."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, String, text
from sqlmodel import Field, SQLModel

from app.core.timestamps import UTCDateTime, utcnow


class OfferStatus(StrEnum):
    pending = "pending"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"
    withdrawn = "withdrawn"


class WorkItem(SQLModel, table=True):
    """A conversation that needs or has a human: one row per conversation while a person is involved."""

    __tablename__ = "work_items"
    __table_args__ = (Index("ix_work_items_queue", "front", "queue_rank"),)

    conversation_id: uuid.UUID = Field(foreign_key="conversations.id", primary_key=True)
    channel: str = Field(max_length=32)
    language: str = Field(default="en", max_length=16)
    required: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    optional: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    priority: int = 0
    queued_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # `routing.queue.queue_key` without the time: the queue is served in ascending order of it.
    queue_rank: float
    front: bool = False
    sla_due: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    team: str | None = Field(default=None, max_length=64)
    target_agent_id: int | None = Field(default=None, foreign_key="people.id")
    stage: int = 0
    stage_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    refused_by: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The agent an offer is out to, or who owns the conversation once `assigned`.
    agent_id: int | None = Field(default=None, foreign_key="people.id", index=True)
    assigned: bool = False
    escalated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class Offer(SQLModel, table=True):
    __tablename__ = "offers"
    # The database itself refuses a second pending offer for one conversation.
    __table_args__ = (
        Index(
            "uq_offer_pending_per_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: uuid.UUID = Field(foreign_key="conversations.id", index=True)
    agent_id: int = Field(foreign_key="people.id", index=True)
    status: OfferStatus = Field(default=OfferStatus.pending, sa_type=String(16), index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class RoutingDecision(SQLModel, table=True):
    """Every routing choice and widening, with who was eligible and why: "why did this go to Maria?"."""

    __tablename__ = "routing_decisions"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: uuid.UUID = Field(foreign_key="conversations.id", index=True)
    agent_id: int | None = Field(default=None, foreign_key="people.id")
    stage: int
    eligible: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason: str = Field(max_length=1000)
    decided_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AlertKind(StrEnum):
    waited_too_long = "waited_too_long"
    agent_set_away = "agent_set_away"


class Alert(SQLModel, table=True):
    """Something a supervisor must look at."""

    __tablename__ = "alerts"

    id: int | None = Field(default=None, primary_key=True)
    kind: AlertKind = Field(sa_type=String(32))
    conversation_id: uuid.UUID | None = Field(default=None, foreign_key="conversations.id")
    agent_id: int | None = Field(default=None, foreign_key="people.id")
    message: str = Field(max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
