"""What the social platforms sent us, durably: the inbox.

An inbox row is written and committed before the webhook is acknowledged, one per platform event,
unique by the platform's own id: a redelivery or a replay days later finds the row and stores nothing.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.core.timestamps import UTCDateTime, utcnow


class InboxStatus(StrEnum):
    pending = "pending"
    processed = "processed"
    # Recorded and deliberately not answered: echoes of our own messages, reads, deliveries.
    ignored = "ignored"
    # Could not be understood; kept with the reason so nothing disappears silently.
    unprocessable = "unprocessable"


class InboxEvent(SQLModel, table=True):
    __tablename__ = "inbox_events"
    __table_args__ = (
        UniqueConstraint("platform", "event_key", name="uq_inbox_event"),
        # The intake's question: has this sender a pending event, as early or earlier, still settling?
        Index("ix_inbox_events_sender", "status", "sender_key", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    # The platform's id for the event (message mid, comment id, tweet id, DM event id).
    event_key: str = Field(max_length=200)
    channel: str = Field(max_length=32)
    # Who sent it (`messenger:<psid>`, `x:<user id>`); each sender's events are taken in order.
    sender_key: str | None = Field(default=None, max_length=200)
    status: InboxStatus = Field(default=InboxStatus.pending, sa_type=String(16), index=True)
    reason: str | None = Field(default=None, max_length=500)
    # When the platform says it happened; conversations follow this order, not the arrival order.
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    received_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    processed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # The event exactly as the platform sent it, with the envelope fields it needs (page, brand user).
    raw: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
