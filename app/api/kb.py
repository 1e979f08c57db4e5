"""The knowledge managers' API: articles and their versions, previews, unanswered questions."""

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Query
from sqlmodel import Session

from app.api.deps import CurrentKnowledgeManager, ServicesDep
from app.core.db import run_in_session
from app.core.limits import VersionNumber
from app.kb import articles, curation, publishing
from app.kb.models import ArticleStatus
from app.kb.schemas import (
    ArticleCreate,
    ArticleEdit,
    ArticleOut,
    ArticleSummary,
    AttachQuestions,
    ClusterOut,
    DraftFromQuestions,
    Preview,
    RefusedOut,
    Rollback,
    VersionOut,
)
from app.services import Services

router = APIRouter(prefix="/api/kb", tags=["knowledge managers"])
T = TypeVar("T")


async def _change(services: Services, change: Callable[[Session], T]) -> T:
    """Run a change; if it touched what is published, the index catches up before this returns."""
    result = await run_in_session(services.open_session, change)
    await services.kb_index.refresh(services.open_session)
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
    return await run_in_session(services.open_session, lambda s: curation.summaries(s, search, status, tag, skill))


@router.post("/articles", status_code=201)
async def create_article(body: ArticleCreate, services: ServicesDep, author: CurrentKnowledgeManager) -> ArticleOut:
    """A new article, as a draft."""

    def create(session: Session) -> ArticleOut:
        articles.create(session=session, slug=body.slug, content=body.content(), author=author, note=body.note)
        return curation.view(session, body.slug)

    return await run_in_session(services.open_session, create)


@router.get("/articles/{slug}")
async def get_article(slug: str, services: ServicesDep, _: CurrentKnowledgeManager) -> ArticleOut:
    """An article's newest version, its status, and which version customers get."""
    return await run_in_session(services.open_session, lambda s: curation.view(s, slug))


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
        return curation.view(session, slug)

    return await run_in_session(services.open_session, edit)


async def _step(services: Services, slug: str, step: Callable[..., object], live: bool) -> ArticleOut:
    """Move an article along its life; `live` steps change what customers get, so the index follows."""

    def run(session: Session) -> ArticleOut:
        step(session=session, slug=slug)
        return curation.view(session, slug)

    return await (_change(services, run) if live else run_in_session(services.open_session, run))


@router.post("/articles/{slug}/review")
async def submit_for_review(slug: str, services: ServicesDep, _: CurrentKnowledgeManager) -> ArticleOut:
    """Mark the draft as ready for a second pair of eyes."""
    return await _step(services, slug, publishing.submit_for_review, live=False)


@router.post("/articles/{slug}/publish")
async def publish(slug: str, services: ServicesDep, _: CurrentKnowledgeManager) -> ArticleOut:
    """The newest version answers customers, searchable by the time this returns."""
    return await _step(services, slug, publishing.publish, live=True)


@router.post("/articles/{slug}/unpublish")
async def unpublish(slug: str, services: ServicesDep, _: CurrentKnowledgeManager) -> ArticleOut:
    """No version of the article answers customers any more."""
    return await _step(services, slug, publishing.unpublish, live=True)


@router.post("/articles/{slug}/archive")
async def archive(slug: str, services: ServicesDep, _: CurrentKnowledgeManager) -> ArticleOut:
    """Take the article out of use and out of the default list."""
    return await _step(services, slug, publishing.archive, live=True)


@router.post("/articles/{slug}/rollback")
async def rollback(slug: str, body: Rollback, services: ServicesDep, author: CurrentKnowledgeManager) -> ArticleOut:
    """A new version with an earlier one's content; live at once if the article is published."""

    def back(session: Session) -> ArticleOut:
        publishing.rollback(session=session, slug=slug, to_version=body.version, author=author)
        return curation.view(session, slug)

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
    threshold = services.settings.kb_answer_threshold
    return await curation.preview(services.kb_index, services.open_session, threshold, slug, body.content())


@router.get("/refused")
async def refused_articles(services: ServicesDep, _: CurrentKnowledgeManager) -> list[RefusedOut]:
    """Published versions stored as no valid article (an older version of the code, a fix made in
    the database) that the live index leaves out: the bot answers as if they were not published."""
    return [RefusedOut(slug=r.slug, version=r.version, problem=r.problem) for r in services.kb_index.refused]


@router.get("/unanswered")
async def unanswered_groups(services: ServicesDep, _: CurrentKnowledgeManager) -> list[ClusterOut]:
    """Questions the bot could not answer, grouped by meaning, the biggest group first."""
    return await curation.unanswered_groups(services.kb_index, services.open_session)


@router.post("/unanswered/draft", status_code=201)
async def draft_from_questions(
    body: DraftFromQuestions, services: ServicesDep, author: CurrentKnowledgeManager
) -> ArticleOut:
    """Turn a group of unanswered questions into a new draft article with them as its phrasings."""

    def draft(session: Session) -> ArticleOut:
        return curation.draft_from_questions(session, body.question_ids, body.slug, body.title, author)

    return await run_in_session(services.open_session, draft)


@router.post("/unanswered/attach")
async def attach_questions(body: AttachQuestions, services: ServicesDep, author: CurrentKnowledgeManager) -> ArticleOut:
    """Add a group of unanswered questions to an article as phrasings (a new version to publish)."""

    def attach(session: Session) -> ArticleOut:
        return curation.attach_questions(session, body.question_ids, body.slug, author)

    return await run_in_session(services.open_session, attach)
