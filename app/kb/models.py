"""The knowledge base as the service stores it: articles with every version, which version is live,
which answers the bot gave from them, and the questions it could not answer."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, ForeignKeyConstraint, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from app.core.timestamps import UTCDateTime, utcnow
from knowledge import LIMITS


class ArticleStatus(StrEnum):
    draft = "draft"
    in_review = "in_review"
    published = "published"
    archived = "archived"


class ArticleRecord(SQLModel, table=True):
    """An article's head: its status, its newest version, and the version customers get (if any)."""

    __tablename__ = "articles"

    slug: str = Field(primary_key=True, max_length=LIMITS.slug)
    status: ArticleStatus = Field(default=ArticleStatus.draft, sa_type=String(16), index=True)
    current_version: int = 1
    # May be older than current_version: an edit of a live article waits for its own publish.
    published_version: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class ArticleVersion(SQLModel, table=True):
    """One saved state of an article, never changed once written."""

    __tablename__ = "article_versions"

    slug: str = Field(foreign_key="articles.slug", primary_key=True, max_length=LIMITS.slug)
    version: int = Field(primary_key=True)
    title: str = Field(max_length=LIMITS.title)
    questions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    answer: str = Field(sa_type=Text)
    short_answer: str = Field(default="", max_length=LIMITS.short_answer)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    skill: str | None = Field(default=None, max_length=LIMITS.skill)
    locale: str = Field(default="en", max_length=LIMITS.locale)
    author_id: int | None = Field(default=None, foreign_key="people.id")
    # Kept as written: the history still names who changed what after an account is gone.
    author_name: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class KnowledgeState(SQLModel, table=True):
    """One row: a number that grows whenever what customers can be answered with changes. Every
    service instance compares it with the index it searches, and rebuilds when it is behind."""

    __tablename__ = "knowledge_state"

    id: int = Field(default=1, primary_key=True)
    version: int = 0
    changed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class KnowledgeModel(SQLModel, table=True):
    """One choice of the model the knowledge base embeds with; the newest row is in force. Tuned
    graphs are kept whole here, so every instance sharing the database answers with the same one,
    whichever machine `carebridge kb tune` ran on."""

    __tablename__ = "knowledge_models"

    id: int | None = Field(default=None, primary_key=True)
    # The tuned graph's fingerprint (knowledge.onnx.fingerprint); None for the stock model, whose
    # graph each instance exports itself and may differ by a byte from another's.
    fingerprint: str | None = Field(default=None, max_length=80)
    graph: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AnswerRecord(SQLModel, table=True):
    """An answer the bot gave from an article: which one, which version, how sure, and whether it helped."""

    __tablename__ = "answers"
    __table_args__ = (ForeignKeyConstraint(["slug", "version"], ["article_versions.slug", "article_versions.version"]),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: uuid.UUID = Field(foreign_key="conversations.id", index=True)
    message_id: int = Field(foreign_key="messages.id", unique=True)
    slug: str = Field(max_length=120, index=True)
    version: int
    score: float
    # Set when a person took over later in the conversation: the answer did not settle it.
    handed_off: bool = False
    helpful: bool | None = None
    feedback_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class UnansweredQuestion(SQLModel, table=True):
    """A customer question the bot could not answer, with personal data masked."""

    __tablename__ = "unanswered_questions"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: uuid.UUID | None = Field(default=None, foreign_key="conversations.id")
    text: str = Field(max_length=2000)
    masked: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason: str = Field(max_length=32)
    best_slug: str | None = Field(default=None, max_length=120)
    best_score: float | None = None
    # The question's embedding (float32), so grouping by meaning does not encode it again, and the
    # model that made it: after a change of model it is embedded again.
    embedding: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    embedding_model: str | None = Field(default=None, max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # Set once a knowledge manager turned it into an article or added it to one.
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    resolved_slug: str | None = Field(default=None, max_length=120)
