"""What the knowledge managers' API accepts and returns."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.core.limits import RowId, VersionNumber
from app.kb.content import Content
from app.kb.models import ArticleRecord, ArticleStatus, ArticleVersion
from knowledge import LIMITS

Slug = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=LIMITS.slug)]
Line = Annotated[str, StringConstraints(max_length=LIMITS.question)]


class ContentIn(BaseModel):
    # The article's limits (knowledge.LIMITS): here so that OpenAPI shows them and a request over
    # them is refused before it is read further; the service holds every other way in to the same.
    title: Annotated[str, StringConstraints(max_length=LIMITS.title)]
    questions: list[Line] = Field(max_length=LIMITS.questions)
    answer: Annotated[str, StringConstraints(max_length=LIMITS.answer)]
    short_answer: Annotated[str, StringConstraints(max_length=LIMITS.short_answer)] = ""
    tags: list[Annotated[str, StringConstraints(max_length=LIMITS.tag)]] = Field(default=[], max_length=LIMITS.tags)
    skill: Annotated[str, StringConstraints(max_length=LIMITS.skill)] | None = None
    locale: Annotated[str, StringConstraints(max_length=LIMITS.locale)] = "en"

    def content(self) -> Content:
        return Content(
            title=self.title,
            questions=tuple(self.questions),
            answer=self.answer,
            short_answer=self.short_answer,
            tags=tuple(self.tags),
            skill=self.skill,
            locale=self.locale,
        )


class ArticleCreate(ContentIn):
    slug: Slug
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class ArticleEdit(ContentIn):
    # The version the editor started from; a save by someone else since then is not overwritten.
    base_version: VersionNumber | None = None
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class VersionOut(BaseModel):
    version: int
    title: str
    questions: list[str]
    answer: str
    short_answer: str
    tags: list[str]
    skill: str | None
    locale: str
    author_name: str
    note: str
    created_at: datetime

    @classmethod
    def of(cls, version: ArticleVersion) -> "VersionOut":
        return cls.model_validate(version, from_attributes=True)


class Stats(BaseModel):
    answered: int = 0
    resolved_by_bot: int = 0
    helpful: int = 0
    not_helpful: int = 0


class ArticleSummary(BaseModel):
    slug: str
    title: str
    status: ArticleStatus
    current_version: int
    published_version: int | None
    tags: list[str]
    skill: str | None
    updated_at: datetime
    stats: Stats


class ArticleOut(BaseModel):
    slug: str
    status: ArticleStatus
    current_version: int
    published_version: int | None
    current: VersionOut
    stats: Stats

    @classmethod
    def of(cls, record: ArticleRecord, current: ArticleVersion, stats: Stats) -> "ArticleOut":
        return cls(
            slug=record.slug,
            status=record.status,
            current_version=record.current_version,
            published_version=record.published_version,
            current=VersionOut.of(current),
            stats=stats,
        )


class Rollback(BaseModel):
    version: VersionNumber


class PreviewMatch(BaseModel):
    question: str
    score: float
    answered: bool
    # The article that answers this question today, if another one.
    now_answered_by: str | None


class Preview(BaseModel):
    slug: str
    threshold: float
    matches: list[PreviewMatch]


class RefusedOut(BaseModel):
    """A published version the bot leaves out of its answers, and why; a fixed version puts it back."""

    slug: str
    version: int
    problem: str


class ClusterOut(BaseModel):
    key: int
    count: int
    question_ids: list[int]
    samples: list[str]
    first_seen: datetime
    last_seen: datetime
    nearest_slug: str | None
    nearest_score: float | None


class DraftFromQuestions(BaseModel):
    question_ids: list[RowId] = Field(min_length=1, max_length=LIMITS.questions)
    slug: Slug
    title: Annotated[str, StringConstraints(min_length=1, max_length=LIMITS.title)]


class AttachQuestions(BaseModel):
    question_ids: list[RowId] = Field(min_length=1, max_length=LIMITS.questions)
    slug: Slug
