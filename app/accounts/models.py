"""A signed-in browser, and the sign-in attempts that throttle guessing."""

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from app.core.timestamps import UTCDateTime, utcnow


class WebSession(SQLModel, table=True):
    """One browser's sign-in. The cookie holds a random value; only its SHA-256 is stored, so a copy
    of the database signs nobody in."""

    __tablename__ = "web_sessions"

    id: str = Field(primary_key=True, max_length=64)
    person_id: int = Field(foreign_key="people.id", index=True)
    # Sent back by the page in X-CSRF-Token on every change: another site's form cannot know it.
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class LoginAttempt(SQLModel, table=True):
    """Kept in the database rather than in memory, so every instance counts the same failures."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, index=True)
    ip: str = Field(max_length=64, index=True)
    succeeded: bool
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
