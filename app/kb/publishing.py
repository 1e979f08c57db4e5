"""What answers customers: review, publish, unpublish, archive and roll back, and the published articles.

Only a published version answers customers, and every change to what is published moves the
knowledge state number on, which tells each service instance to rebuild its index.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.core.errors import Conflict
from app.core.timestamps import utcnow
from app.kb.articles import locked_head, version, write_version
from app.kb.content import Content
from app.kb.models import ArticleRecord, ArticleStatus, ArticleVersion, KnowledgeState
from app.people.models import Person
from knowledge import Article, InvalidArticle


@dataclass(frozen=True)
class Refused:
    """A published version that makes no valid article, and why: left out of what customers get."""

    slug: str
    version: int
    problem: str


@dataclass(frozen=True)
class Published:
    articles: list[Article]
    refused: list[Refused]


def published_articles(*, session: Session) -> Published:
    """What customers can be answered with: the published version of every live article.

    Every way of publishing checks the version, but a row may predate a check or be written by
    hand: such a version is left out and named in `refused`, so one bad row never stops the others
    from answering, nor the service from starting."""
    statement = select(ArticleVersion).join(
        ArticleRecord,
        (col(ArticleRecord.slug) == ArticleVersion.slug)
        & (col(ArticleRecord.published_version) == ArticleVersion.version),
    )
    found: list[Article] = []
    refused: list[Refused] = []
    for stored in session.exec(statement.order_by(col(ArticleVersion.slug))):
        article = stored_article(stored)
        if isinstance(article, Refused):
            refused.append(article)
        else:
            found.append(article)
    return Published(found, refused)


def stored_article(stored: ArticleVersion) -> Article | Refused:
    """A stored version as an article, or why it makes none."""
    try:
        return Content.of(stored).as_article(stored.slug, stored.version)
    except InvalidArticle as exc:
        return Refused(stored.slug, stored.version, f"{exc.field} {exc.problem}")
    except (TypeError, AttributeError) as exc:
        # A column holding the wrong kind of value (a number for a phrasing, null for a list).
        return Refused(stored.slug, stored.version, f"unreadable: {type(exc).__name__}")


def knowledge_version(*, session: Session) -> int:
    state = session.get(KnowledgeState, 1)
    return state.version if state else 0


def _knowledge_changed(session: Session) -> None:
    state = session.exec(
        select(KnowledgeState).where(KnowledgeState.id == 1).with_for_update().execution_options(populate_existing=True)
    ).first()
    if state is None:
        state = KnowledgeState(id=1, version=0)
    state.version += 1
    state.changed_at = utcnow()
    session.add(state)


def submit_for_review(*, session: Session, slug: str) -> ArticleRecord:
    record = locked_head(session, slug)
    if record.status != ArticleStatus.draft:
        raise Conflict(f"article {slug!r} is {record.status}; only a draft goes to review")
    record.status = ArticleStatus.in_review
    record.updated_at = utcnow()
    session.add(record)
    return record


def publish(*, session: Session, slug: str) -> ArticleRecord:
    """The newest version answers customers from now on."""
    record = locked_head(session, slug)
    if record.status == ArticleStatus.published and record.published_version == record.current_version:
        return record
    current = Content.of(version(session=session, slug=slug, number=record.current_version))
    _go_live(session, record, current, record.current_version)
    return record


def _go_live(session: Session, record: ArticleRecord, content: Content, number: int) -> None:
    """Version `number`, holding `content`, answers customers from now on; refused (with nothing
    changed) unless it makes a valid article. Every change that puts a version live comes here."""
    content.publishable(record.slug, number)
    record.published_version = number
    record.status = ArticleStatus.published
    record.updated_at = utcnow()
    session.add(record)
    _knowledge_changed(session)


def unpublish(*, session: Session, slug: str) -> ArticleRecord:
    """No version answers customers any more; the article stays as a draft."""
    record = locked_head(session, slug)
    if record.published_version is None:
        raise Conflict(f"article {slug!r} is not published")
    record.published_version = None
    record.status = ArticleStatus.draft
    record.updated_at = utcnow()
    session.add(record)
    _knowledge_changed(session)
    return record


def archive(*, session: Session, slug: str) -> ArticleRecord:
    record = locked_head(session, slug)
    was_live = record.published_version is not None
    record.published_version = None
    record.status = ArticleStatus.archived
    record.updated_at = utcnow()
    session.add(record)
    if was_live:
        _knowledge_changed(session)
    return record


def rollback(*, session: Session, slug: str, to_version: int, author: Person | None) -> ArticleRecord:
    """A new version with an earlier version's content; if the article is live, it goes live at once.

    Refused, with nothing changed, if the earlier content could not be saved today (over a limit)
    or, for a live article, could not be published (a draft without an answer)."""
    record = locked_head(session, slug)
    earlier = Content.of(version(session=session, slug=slug, number=to_version))
    earlier.checked(slug)
    number = record.current_version + 1
    if record.published_version is not None:
        _go_live(session, record, earlier, number)
    else:
        record.status = ArticleStatus.draft
    record.current_version = number
    record.updated_at = utcnow()
    write_version(session, slug, number, earlier, author, f"rolled back to version {to_version}")
    session.add(record)
    session.flush()
    return record
