"""The knowledge managers' API: articles and their versions, previews, unanswered questions."""

from collections.abc import Callable
from typing import Annotated, TypeVar

import anyio.to_thread
import numpy as np
from fastapi import APIRouter, Query
from sqlmodel import Session

from app.api.deps import CurrentKnowledgeManager, ServicesDep
from app.db import run_in_session
from app.kb import clusters, insights
from app.kb import service as articles
from app.kb.models import ArticleStatus, UnansweredQuestion
from app.kb.schemas import (
    ArticleCreate,
    ArticleEdit,
    ArticleOut,
    ArticleSummary,
    AttachQuestions,
    ClusterOut,
    DraftFromQuestions,
    Preview,
    PreviewMatch,
    RefusedOut,
    Rollback,
    Stats,
    VersionOut,
)
from app.limits import VersionNumber
from app.services import Services

router = APIRouter(prefix="/api/kb", tags=["knowledge managers"])
T = TypeVar("T")


def _stats(session: Session, slug: str) -> Stats:
    found = articles_stats(session, [slug]).get(slug)
    return found or Stats()


def articles_stats(session: Session, slugs: list[str]) -> dict[str, Stats]:
    return {slug: Stats(**vars(s)) for slug, s in insights.stats(session=session, slugs=slugs).items()}


def _view(session: Session, slug: str) -> ArticleOut:
    record = articles.head(session=session, slug=slug)
    current = articles.version(session=session, slug=slug, number=record.current_version)
    return ArticleOut.of(record, current, _stats(session, slug))


async def _change(services: Services, change: Callable[[Session], T]) -> T:
    """Run a change; if it touched what is published, the index catches up before this returns."""
    result = await run_in_session(services.open_session, change)
    await services.knowledge.refresh(services.open_session)
    return result


@router.get("/articles")
async def list_articles(
    services: ServicesDep,
    _: CurrentKnowledgeManager,
    search: Annotated[str | None, Query(max_length=200)] = None,
    status: ArticleStatus | None = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    skill: Annotated[str | None, Query(max_length=64)] = None,
) -> list[ArticleSummary]:
    """Articles with their newest version and how they do with customers; archived ones on request."""

    def read(session: Session) -> list[ArticleSummary]:
        rows = articles.listing(session=session, search=search, status=status, tag=tag, skill=skill)
        stats = articles_stats(session, [record.slug for record, _ in rows])
        return [
            ArticleSummary(
                slug=record.slug,
                title=current.title,
                status=record.status,
                current_version=record.current_version,
                published_version=record.published_version,
                tags=current.tags,
                skill=current.skill,
                updated_at=record.updated_at,
                stats=stats.get(record.slug, Stats()),
            )
            for record, current in rows
        ]

    return await run_in_session(services.open_session, read)


@router.post("/articles", status_code=201)
async def create_article(body: ArticleCreate, services: ServicesDep, author: CurrentKnowledgeManager) -> ArticleOut:
    """A new article, as a draft."""

    def create(session: Session) -> ArticleOut:
        articles.create(session=session, slug=body.slug, content=body.content(), author=author, note=body.note)
        return _view(session, body.slug)

    return await run_in_session(services.open_session, create)


@router.get("/articles/{slug}")
async def get_article(slug: str, services: ServicesDep, _: CurrentKnowledgeManager) -> ArticleOut:
    """An article's newest version, its status, and which version customers get."""
    return await run_in_session(services.open_session, lambda s: _view(s, slug))


@router.put("/articles/{slug}")
async def edit_article(
    slug: str, body: ArticleEdit, services: ServicesDep, author: CurrentKnowledgeManager
) -> ArticleOut:
    """Save a new version; customers keep getting the published one until this one is published."""

    def edit(session: Session) -> ArticleOut:
        articles.update(
            session=session,
            slug=slug,
            content=body.content(),
            author=author,
            base_version=body.base_version,
            note=body.note,
        )
        return _view(session, slug)

    return await run_in_session(services.open_session, edit)


async def _step(services: Services, slug: str, step: Callable[..., object], live: bool) -> ArticleOut:
    """Move an article along its life; `live` steps change what customers get, so the index follows."""

    def run(session: Session) -> ArticleOut:
        step(session=session, slug=slug)
        return _view(session, slug)

    return await (_change(services, run) if live else run_in_session(services.open_session, run))


@router.post("/articles/{slug}/review")
async def submit_for_review(slug: str, services: ServicesDep, _: CurrentKnowledgeManager) -> ArticleOut:
    """Mark the draft as ready for a second pair of eyes."""
    return await _step(services, slug, articles.submit_for_review, live=False)


@router.post("/articles/{slug}/publish")
async def publish(slug: str, services: ServicesDep, _: CurrentKnowledgeManager) -> ArticleOut:
    """The newest version answers customers, searchable by the time this returns."""
    return await _step(services, slug, articles.publish, live=True)


@router.post("/articles/{slug}/unpublish")
async def unpublish(slug: str, services: ServicesDep, _: CurrentKnowledgeManager) -> ArticleOut:
    """No version of the article answers customers any more."""
    return await _step(services, slug, articles.unpublish, live=True)


@router.post("/articles/{slug}/archive")
async def archive(slug: str, services: ServicesDep, _: CurrentKnowledgeManager) -> ArticleOut:
    """Take the article out of use and out of the default list."""
    return await _step(services, slug, articles.archive, live=True)


@router.post("/articles/{slug}/rollback")
async def rollback(slug: str, body: Rollback, services: ServicesDep, author: CurrentKnowledgeManager) -> ArticleOut:
    """A new version with an earlier one's content; live at once if the article is published."""

    def back(session: Session) -> ArticleOut:
        articles.rollback(session=session, slug=slug, to_version=body.version, author=author)
        return _view(session, slug)

    return await _change(services, back)


@router.get("/articles/{slug}/versions")
async def versions(slug: str, services: ServicesDep, _: CurrentKnowledgeManager) -> list[VersionOut]:
    """Every version, newest first: who, when, what changed."""
    found = await run_in_session(services.open_session, lambda s: articles.history(session=s, slug=slug))
    return [VersionOut.of(v) for v in found]


@router.get("/articles/{slug}/versions/{number}")
async def one_version(
    slug: str, number: VersionNumber, services: ServicesDep, _: CurrentKnowledgeManager
) -> VersionOut:
    """One version as it was saved."""
    found = await run_in_session(services.open_session, lambda s: articles.version(session=s, slug=slug, number=number))
    return VersionOut.of(found)


@router.get("/articles/{slug}/diff")
async def diff(
    slug: str,
    services: ServicesDep,
    _: CurrentKnowledgeManager,
    old: Annotated[VersionNumber, Query(alias="from")],
    new: Annotated[VersionNumber, Query(alias="to")],
) -> dict[str, object]:
    """What changed between two versions, field by field."""
    return await run_in_session(services.open_session, lambda s: articles.diff(session=s, slug=slug, old=old, new=new))


@router.post("/articles/{slug}/preview")
async def preview(slug: str, body: ArticleEdit, services: ServicesDep, _: CurrentKnowledgeManager) -> Preview:
    """Which recent customer questions this article would get, as written in the editor now."""
    content = body.content().checked(slug)
    draft = articles.Content(**{**content.__dict__, "answer": content.answer or "-"}).as_article(slug, version=0)

    questions = await run_in_session(services.open_session, lambda s: insights.recent_questions(session=s))
    threshold = services.settings.kb_answer_threshold
    with_draft = await services.knowledge.preview(draft, questions)
    today = await services.knowledge.search_many(questions, 1)
    matches = [
        PreviewMatch(
            question=question,
            score=round(found[0].confidence, 4),
            answered=found[0].confidence >= threshold,
            now_answered_by=(
                now[0].article.slug if now and now[0].confidence >= threshold and now[0].article.slug != slug else None
            ),
        )
        for question, found, now in zip(questions, with_draft, today, strict=True)
        if found and found[0].article.slug == slug
    ]
    return Preview(slug=slug, threshold=threshold, matches=sorted(matches, key=lambda m: -m.score))


async def embedded(services: Services, questions: list[UnansweredQuestion]) -> np.ndarray:
    """The questions' vectors, all by the model the knowledge base uses now: those kept from another
    model, or none, are embedded (and kept) again."""
    model = services.knowledge.model
    stale = [q for q in questions if q.embedding is None or q.embedding_model != model]
    while stale:
        model, fresh = await services.knowledge.embed([q.text for q in stale])
        kept = {q.id: vector.tobytes() for q, vector in zip(stale, fresh, strict=True)}

        def keep(session: Session, kept: dict[int | None, bytes] = kept, model: str = model) -> None:
            insights.keep_embeddings(session=session, vectors=kept, model=model)

        await run_in_session(services.open_session, keep)
        for question in stale:
            question.embedding, question.embedding_model = kept[question.id], model
        # The model may have changed while these were embedded: then the others are stale too.
        stale = [q for q in questions if q.embedding_model != model]
    return np.stack([np.frombuffer(q.embedding or b"", dtype=np.float32) for q in questions])


@router.get("/refused")
async def refused_articles(services: ServicesDep, _: CurrentKnowledgeManager) -> list[RefusedOut]:
    """Published versions stored as no valid article (an older version of the code, a fix made in
    the database) that the live index leaves out: the bot answers as if they were not published."""
    return [RefusedOut(slug=r.slug, version=r.version, problem=r.problem) for r in services.knowledge.refused]


@router.get("/unanswered")
async def unanswered_groups(services: ServicesDep, _: CurrentKnowledgeManager) -> list[ClusterOut]:
    """Questions the bot could not answer, grouped by meaning, the biggest group first."""
    open_questions = await run_in_session(services.open_session, lambda s: insights.open_unanswered(session=s))
    if not open_questions:
        return []
    vectors = await embedded(services, open_questions)
    # Up to thousands of questions compared with every group's centre: seconds of CPU, so not on
    # the event loop, which every socket and webhook on this instance waits on.
    groups = await anyio.to_thread.run_sync(clusters.group, open_questions, vectors)
    nearest = await services.knowledge.search_many([open_questions[g[0]].text for g in groups], 1)
    described = [
        clusters.describe(open_questions, members, (n[0].article.slug, n[0].score) if n else None)
        for members, n in zip(groups, nearest, strict=True)
    ]
    return [
        ClusterOut(**{**vars(c), "count": c.count, "question_ids": list(c.question_ids), "samples": list(c.samples)})
        for c in described
    ]


@router.post("/unanswered/draft", status_code=201)
async def draft_from_questions(
    body: DraftFromQuestions, services: ServicesDep, author: CurrentKnowledgeManager
) -> ArticleOut:
    """Turn a group of unanswered questions into a new draft article with them as its phrasings."""

    def draft(session: Session) -> ArticleOut:
        questions = insights.resolve_unanswered(session=session, question_ids=body.question_ids, slug=body.slug)
        content = articles.Content(title=body.title, questions=tuple(q.text for q in questions), answer="")
        articles.create(
            session=session, slug=body.slug, content=content, author=author, note="from unanswered questions"
        )
        return _view(session, body.slug)

    return await run_in_session(services.open_session, draft)


@router.post("/unanswered/attach")
async def attach_questions(body: AttachQuestions, services: ServicesDep, author: CurrentKnowledgeManager) -> ArticleOut:
    """Add a group of unanswered questions to an article as phrasings (a new version to publish)."""

    def attach(session: Session) -> ArticleOut:
        questions = insights.resolve_unanswered(session=session, question_ids=body.question_ids, slug=body.slug)
        articles.add_phrasings(
            session=session,
            slug=body.slug,
            phrasings=[q.text for q in questions],
            author=author,
            note=f"{len(questions)} unanswered questions added as phrasings",
        )
        return _view(session, body.slug)

    return await run_in_session(services.open_session, attach)
