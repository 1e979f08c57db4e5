"""Everyone who signs in to the consoles (agents, supervisors, knowledge managers, admins): who they
are, their role, what they can handle as agents, and whether they are there."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import JSON, Column, String
from sqlmodel import Field, SQLModel

from app.core.timestamps import UTCDateTime, utcnow
from routing import Presence


class Role(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    knowledge_manager = "knowledge_manager"
    # Manages people: creates accounts, sets skills, languages, channels and capacities.
    admin = "admin"


class Person(SQLModel, table=True):
    __tablename__ = "people"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320, unique=True)
    # SHA-256 of the agent's API and websocket token; the token itself is never stored.
    token_hash: str = Field(max_length=64, unique=True)
    # Argon2id, for signing in to the web consoles (app/accounts); None: API token only.
    password_hash: str | None = Field(default=None, max_length=255)
    role: Role = Field(default=Role.agent, sa_type=String(32))
    # Skill name -> level 1 to 10.
    skills: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    languages: list[str] = Field(default_factory=lambda: ["en"], sa_column=Column(JSON, nullable=False))
    # Channel -> conversations of that channel the agent takes at once; a channel not listed is not theirs.
    capacity: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    teams: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    presence: Presence = Field(default=Presence.offline, sa_type=String(16))
    last_heartbeat_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Set while the agent is gone but their conversations wait out the grace period for them.
    lost_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # Since when the agent has had nothing new: the router prefers whoever has been idle longest.
    idle_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    missed_offers: int = 0
    # The newest `seq` in the agent's feed (app/realtime/feed.py); bumping it row-locks the agent, so
    # instances writing to one agent's feed at once still number its events without gaps.
    last_event_seq: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class PersonPublic(BaseModel):
    id: int
    name: str
    role: Role
    skills: dict[str, int]
    languages: list[str]
    capacity: dict[str, int]
    teams: list[str]
    presence: Presence

    @classmethod
    def of(cls, agent: Person) -> "PersonPublic":
        return cls.model_validate(agent, from_attributes=True)
