"""Knowledge-base search over HTTP: what the bot's actions and the agent console ask."""

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints

from app.api.deps import ServicesDep
from knowledge import Match, top_answer

router = APIRouter(prefix="/api/kb", tags=["knowledge base search"])


class SearchHit(BaseModel):
    slug: str
    version: int
    title: str
    answer: str
    short_answer: str
    skill: str | None
    tags: list[str]
    # The article's score for the question, and how sure an answer with it would be.
    score: float
    confidence: float
    matched_question: str

    @classmethod
    def of(cls, match: Match) -> "SearchHit":
        article = match.article
        return cls(
            slug=article.slug,
            version=article.version,
            title=article.title,
            answer=article.answer,
            short_answer=article.short_answer,
            skill=article.skill,
            tags=list(article.tags),
            score=round(match.score, 4),
            confidence=round(match.confidence, 4),
            matched_question=match.question,
        )


class SearchQuery(BaseModel):
    # A POST body, not a query string: customers' words must not end up in access logs.
    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    limit: Annotated[int, Field(ge=1, le=10)] = 3


class SearchResult(BaseModel):
    query: str
    threshold: float
    # The knowledge state the index was built from: which published versions answered.
    knowledge_version: int
    # The hit good enough to answer a customer with, or null: then the bot should hand off.
    answer: SearchHit | None
    results: list[SearchHit]


@router.post("/search")
async def search(services: ServicesDep, body: SearchQuery) -> SearchResult:
    """Find the articles closest in meaning to a question, and say whether the best one answers it."""
    threshold = services.settings.kb_answer_threshold
    matches = await services.kb_index.search(body.query, body.limit)
    best = top_answer(matches, threshold)
    return SearchResult(
        query=body.query,
        threshold=threshold,
        knowledge_version=services.kb_index.version,
        answer=SearchHit.of(best) if best else None,
        results=[SearchHit.of(m) for m in matches],
    )
