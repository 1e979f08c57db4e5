"""What the knowledge managers' console asks of the knowledge base beyond storing articles: each
article as it does with customers, a draft tried on the questions customers asked lately, the
unanswered questions grouped by meaning, and groups of them turned into articles or phrasings.
The routes (app/api/kb.py) call these; searches and groupings run in worker threads."""

from collections.abc import Sequence

import anyio.to_thread
import numpy as np
from sqlmodel import Session

from app.core.db import SessionFactory, run_in_session
from app.kb import articles, clusters, insights
from app.kb.content import Content
from app.kb.live import LiveIndex
from app.kb.models import ArticleStatus, UnansweredQuestion
from app.kb.schemas import ArticleOut, ArticleSummary, ClusterOut, Preview, PreviewMatch, Stats
from app.people.models import Person


def stats_of(session: Session, slugs: list[str]) -> dict[str, Stats]:
    return {slug: Stats(**vars(s)) for slug, s in insights.stats(session=session, slugs=slugs).items()}


def view(session: Session, slug: str) -> ArticleOut:
    """An article's newest version, its status, and how it does with customers."""
    record = articles.head(session=session, slug=slug)
    current = articles.version(session=session, slug=slug, number=record.current_version)
    return ArticleOut.of(record, current, stats_of(session, [slug]).get(slug) or Stats())


def summaries(
    session: Session, search: str | None, status: ArticleStatus | None, tag: str | None, skill: str | None
) -> list[ArticleSummary]:
    """The articles the filters leave, each with its newest version and how it does with customers."""
    rows = articles.listing(session=session, search=search, status=status, tag=tag, skill=skill)
    stats = stats_of(session, [record.slug for record, _ in rows])
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


async def preview(
    knowledge: LiveIndex, open_session: SessionFactory, threshold: float, slug: str, content: Content
) -> Preview:
    """Which recent customer questions the article would get, as written in the editor now."""
    checked = content.checked(slug)
    draft = Content(**{**checked.__dict__, "answer": checked.answer or "-"}).as_article(slug, version=0)

    questions = await run_in_session(open_session, lambda s: insights.recent_questions(session=s))
    with_draft = await knowledge.preview(draft, questions)
    today = await knowledge.search_many(questions, 1)
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


async def embedded(
    knowledge: LiveIndex, open_session: SessionFactory, questions: Sequence[UnansweredQuestion]
) -> np.ndarray:
    """The questions' vectors, all by the model the knowledge base uses now: those kept from another
    model, or none, are embedded (and kept) again."""
    model = knowledge.model
    stale = [q for q in questions if q.embedding is None or q.embedding_model != model]
    while stale:
        model, fresh = await knowledge.embed([q.text for q in stale])
        kept = {q.id: vector.tobytes() for q, vector in zip(stale, fresh, strict=True)}

        def store_vectors(session: Session, kept: dict[int | None, bytes] = kept, model: str = model) -> None:
            insights.store_embeddings(session=session, vectors=kept, model=model)

        await run_in_session(open_session, store_vectors)
        for question in stale:
            question.embedding, question.embedding_model = kept[question.id], model
        # The model may have changed while these were embedded: then the others are stale too.
        stale = [q for q in questions if q.embedding_model != model]
    return np.stack([np.frombuffer(q.embedding or b"", dtype=np.float32) for q in questions])


async def unanswered_groups(knowledge: LiveIndex, open_session: SessionFactory) -> list[ClusterOut]:
    """Questions the bot could not answer, grouped by meaning, the biggest group first."""
    open_questions = await run_in_session(open_session, lambda s: insights.open_unanswered(session=s))
    if not open_questions:
        return []
    vectors = await embedded(knowledge, open_session, open_questions)
    # Up to thousands of questions compared with every group's centre: seconds of CPU, so not on
    # the event loop, which every socket and webhook on this instance waits on.
    groups = await anyio.to_thread.run_sync(clusters.group, open_questions, vectors)
    nearest = await knowledge.search_many([open_questions[g[0]].text for g in groups], 1)
    described = [
        clusters.describe(open_questions, members, (n[0].article.slug, n[0].score) if n else None)
        for members, n in zip(groups, nearest, strict=True)
    ]
    return [
        ClusterOut(**{**vars(c), "count": c.count, "question_ids": list(c.question_ids), "samples": list(c.samples)})
        for c in described
    ]


def draft_from_questions(
    session: Session, question_ids: Sequence[int], slug: str, title: str, author: Person
) -> ArticleOut:
    """A group of unanswered questions turned into a new draft article with them as its phrasings."""
    questions = insights.resolve_unanswered(session=session, question_ids=question_ids, slug=slug)
    content = Content(title=title, questions=tuple(q.text for q in questions), answer="")
    articles.create(session=session, slug=slug, content=content, author=author, note="from unanswered questions")
    return view(session, slug)


def attach_questions(session: Session, question_ids: Sequence[int], slug: str, author: Person) -> ArticleOut:
    """A group of unanswered questions added to an article as phrasings (a new version to publish)."""
    questions = insights.resolve_unanswered(session=session, question_ids=question_ids, slug=slug)
    articles.add_phrasings(
        session=session,
        slug=slug,
        phrasings=[q.text for q in questions],
        author=author,
        note=f"{len(questions)} unanswered questions added as phrasings",
    )
    return view(session, slug)
