"""The web chat requests counted against its limits."""

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from app.core.timestamps import UTCDateTime


class WebchatRequest(SQLModel, table=True):
    """One session started or message sent, under each key it counts against (the address, the
    visitor). Kept in the database rather than in memory, so every instance counts the same ones."""

    __tablename__ = "webchat_requests"
    __table_args__ = (
        Index("ix_webchat_requests_key_at", "key", "at"),
        Index("ix_webchat_requests_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
