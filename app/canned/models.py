"""A canned response, named by a shortcut agents type after a slash (/refund)."""

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from app.core.timestamps import UTCDateTime, utcnow


class CannedResponse(SQLModel, table=True):
    __tablename__ = "canned_responses"

    id: int | None = Field(default=None, primary_key=True)
    shortcut: str = Field(max_length=40, unique=True)
    title: str = Field(max_length=120)
    text: str = Field(max_length=2000)
    updated_by: int | None = Field(default=None, foreign_key="people.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
