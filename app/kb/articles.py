"""Articles and their life: create, edit, review, publish, unpublish, archive, roll back, compare.

Every edit writes a new version; nothing written is ever changed. Only a published version answers
customers, and every change to what is published moves the knowledge state number on, which tells
each service instance to rebuild its index.
"""

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, func, or_, select

from app.agents.models import Agent
from app.errors import Conflict, InvalidInput, NotFound
from app.kb.models import ArticleRecord, ArticleStatus, ArticleVersion, KnowledgeState
from app.timestamps import utcnow
from knowledge import Article, InvalidArticle

CONTENT_FIELDS = ("title", "questions", "answer", "short_answer", "tags", "skill", "locale")


class ArticleNotFound(NotFound):
    pass


class InvalidArticleInput(InvalidInput):
    """An article the knowledge base refuses, naming the field."""

    def __init__(self, error: InvalidArticle) -> None:
        super().__init__(str(error), field=error.field)


@dataclass(frozen=True)
class Content:
    """What a knowledge manager writes; everything an article version holds but its bookkeeping."""

    title: str
    questions: tuple[str, ...]
    answer: str
    short_answer: str = ""
    tags: tuple[str, ...] = ()
    skill: str | None = None
    locale: str = "en"

    def checked(self, slug: str) -> "Content":
        """The content tidied (blank phrasings dropped, duplicates once), or InvalidArticleInput.

        Held to every rule of an article (knowledge.Article: the limits included) but one: a draft
        may have no answer yet (one made from unanswered questions starts that way); `publishable`
        refuses it until it has one.
        """
        questions = tuple(dict.fromkeys(q.strip() for q in self.questions if q.strip()))
        tidy = Content(
            title=self.title.strip(),
            questions=questions,
            answer=self.answer.strip(),
            short_answer=self.short_answer.strip(),
            tags=tuple(dict.fromkeys(t.strip() for t in self.tags if t.strip())),
            skill=(self.skill or "").strip() or None,
            locale=self.locale.strip() or "en",
        )
        Content(**{**tidy.__dict__, "answer": tidy.answer or "-"}).publishable(slug, version=1)
        return tidy

    def publishable(self, slug: str, version: int) -> Article:
        """The article customers would get, or InvalidArticleInput: the one check that every way
        of putting a version live (publish, rollback, import) passes through."""
        try:
            return self.as_article(slug, version)
        except InvalidArticle as exc:
            raise InvalidArticleInput(exc) from exc

    def as_article(self, slug: str, version: int) -> Article:
        return Article(
            slug=slug,
            title=self.title,
            questions=self.questions,
            answer=self.answer,
            tags=self.tags,
            skill=self.skill,
            short_answer=self.short_answer,
            locale=self.locale,
            version=version,
        )

    @classmethod
    def of_article(cls, article: Article) -> "Content":
        return cls(
            title=article.title,
            questions=article.questions,
            answer=article.answer,
            short_answer=article.short_answer,
            tags=article.tags,
            skill=article.skill,
            locale=article.locale,
        )

    @classmethod
    def of(cls, version: ArticleVersion) -> "Content":
        return cls(
            title=version.title,
            questions=tuple(version.questions),
            answer=version.answer,
            short_answer=version.short_answer,
            tags=tuple(version.tags),
            skill=version.skill,
            locale=version.locale,
        )


# Reading


def head(*, session: Session, slug: str) -> ArticleRecord:
    record = session.get(ArticleRecord, slug)
    if record is None:
        raise ArticleNotFound(f"article {slug!r} does not exist")
    return record


def version(*, session: Session, slug: str, number: int) -> ArticleVersion:
    found = session.get(ArticleVersion, (slug, number))
    if found is None:
        head(session=session, slug=slug)
        raise ArticleNotFound(f"article {slug!r} has no version {number}")
    return found


def history(*, session: Session, slug: str) -> list[ArticleVersion]:
    head(session=session, slug=slug)
    statement = select(ArticleVersion).where(ArticleVersion.slug == slug).order_by(col(ArticleVersion.version).desc())
    return list(session.exec(statement))


def listing(
    *,
    session: Session,
    search: str | None = None,
    status: ArticleStatus | None = None,
    tag: str | None = None,
    skill: str | None = None,
) -> list[tuple[ArticleRecord, ArticleVersion]]:
    """Articles with their newest version, filtered; archived ones only when asked for by status."""
    statement = select(ArticleRecord, ArticleVersion).join(
        ArticleVersion,
        (col(ArticleVersion.slug) == ArticleRecord.slug)
        & (col(ArticleVersion.version) == ArticleRecord.current_version),
    )
    if status is not None:
        statement = statement.where(ArticleRecord.status == status)
    else:
        statement = statement.where(ArticleRecord.status != ArticleStatus.archived)
    if skill:
        statement = statement.where(ArticleVersion.skill == skill)
    if search:
        pattern = f"%{search.lower()}%"
        statement = statement.where(
            or_(
                func.lower(ArticleVersion.title).like(pattern),
                func.lower(col(ArticleRecord.slug)).like(pattern),
                func.lower(ArticleVersion.answer).like(pattern),
            )
        )
    rows = list(session.exec(statement.order_by(col(ArticleRecord.slug))))
    if tag:
        rows = [(record, current) for record, current in rows if tag in current.tags]
    return rows


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


def count(*, session: Session) -> int:
    return session.exec(select(func.count()).select_from(ArticleRecord)).one()


# Changing


def _write_version(
    session: Session, slug: str, number: int, content: Content, author: Agent | None, note: str
) -> ArticleVersion:
    written = ArticleVersion(
        slug=slug,
        version=number,
        title=content.title,
        questions=list(content.questions),
        answer=content.answer,
        short_answer=content.short_answer,
        tags=list(content.tags),
        skill=content.skill,
        locale=content.locale,
        author_id=author.id if author else None,
        author_name=author.name if author else "",
        note=note[:500],
    )
    session.add(written)
    return written


def _knowledge_changed(session: Session) -> None:
    state = session.exec(
        select(KnowledgeState).where(KnowledgeState.id == 1).with_for_update().execution_options(populate_existing=True)
    ).first()
    if state is None:
        state = KnowledgeState(id=1, version=0)
    state.version += 1
    state.changed_at = utcnow()
    session.add(state)


def _locked_head(session: Session, slug: str) -> ArticleRecord:
    record = session.exec(
        select(ArticleRecord)
        .where(ArticleRecord.slug == slug)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if record is None:
        raise ArticleNotFound(f"article {slug!r} does not exist")
    return record


def create(*, session: Session, slug: str, content: Content, author: Agent | None, note: str = "") -> ArticleRecord:
    """A new article as a draft, version 1."""
    try:
        Article(slug=slug, title="t", questions=("q",), answer="a")
    except InvalidArticle as exc:
        raise InvalidArticleInput(exc) from exc
    if session.get(ArticleRecord, slug) is not None:
        raise Conflict(f"article {slug!r} exists already")
    checked = content.checked(slug)
    record = ArticleRecord(slug=slug, status=ArticleStatus.draft, current_version=1)
    session.add(record)
    session.flush()
    _write_version(session, slug, 1, checked, author, note or "created")
    session.flush()
    return record


def update(
    *, session: Session, slug: str, content: Content, author: Agent | None, base_version: int | None, note: str = ""
) -> ArticleRecord:
    """A new version with the edited content; the live version stays live until this one is published.

    `base_version` is the version the editor started from: if someone saved since, the edit is refused
    rather than silently overwriting theirs.
    """
    record = _locked_head(session, slug)
    if base_version is not None and base_version != record.current_version:
        raise Conflict(
            f"article {slug!r} was saved as version {record.current_version} since you opened version {base_version}"
        )
    checked = content.checked(slug)
    previous = Content.of(version(session=session, slug=slug, number=record.current_version))
    if checked == previous:
        return record
    record.current_version += 1
    if record.status in (ArticleStatus.published, ArticleStatus.archived):
        record.status = ArticleStatus.draft
    record.updated_at = utcnow()
    _write_version(session, slug, record.current_version, checked, author, note or summarize(previous, checked))
    session.add(record)
    session.flush()
    return record


def submit_for_review(*, session: Session, slug: str) -> ArticleRecord:
    record = _locked_head(session, slug)
    if record.status != ArticleStatus.draft:
        raise Conflict(f"article {slug!r} is {record.status}; only a draft goes to review")
    record.status = ArticleStatus.in_review
    record.updated_at = utcnow()
    session.add(record)
    return record


def publish(*, session: Session, slug: str) -> ArticleRecord:
    """The newest version answers customers from now on."""
    record = _locked_head(session, slug)
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
    record = _locked_head(session, slug)
    if record.published_version is None:
        raise Conflict(f"article {slug!r} is not published")
    record.published_version = None
    record.status = ArticleStatus.draft
    record.updated_at = utcnow()
    session.add(record)
    _knowledge_changed(session)
    return record


def archive(*, session: Session, slug: str) -> ArticleRecord:
    record = _locked_head(session, slug)
    was_live = record.published_version is not None
    record.published_version = None
    record.status = ArticleStatus.archived
    record.updated_at = utcnow()
    session.add(record)
    if was_live:
        _knowledge_changed(session)
    return record


def rollback(*, session: Session, slug: str, to_version: int, author: Agent | None) -> ArticleRecord:
    """A new version with an earlier version's content; if the article is live, it goes live at once.

    Refused, with nothing changed, if the earlier content could not be saved today (over a limit)
    or, for a live article, could not be published (a draft without an answer)."""
    record = _locked_head(session, slug)
    earlier = Content.of(version(session=session, slug=slug, number=to_version))
    earlier.checked(slug)
    number = record.current_version + 1
    if record.published_version is not None:
        _go_live(session, record, earlier, number)
    else:
        record.status = ArticleStatus.draft
    record.current_version = number
    record.updated_at = utcnow()
    _write_version(session, slug, number, earlier, author, f"rolled back to version {to_version}")
    session.add(record)
    session.flush()
    return record


# Comparing


def summarize(before: Content, after: Content) -> str:
    """A one-line note of what changed, for the history."""
    parts = []
    added = [q for q in after.questions if q not in before.questions]
    removed = [q for q in before.questions if q not in after.questions]
    if added:
        parts.append(f"{len(added)} phrasing{'s' if len(added) > 1 else ''} added")
    if removed:
        parts.append(f"{len(removed)} phrasing{'s' if len(removed) > 1 else ''} removed")
    for name in ("title", "answer", "short_answer", "tags", "skill", "locale"):
        if getattr(before, name) != getattr(after, name):
            parts.append(f"{name.replace('_', ' ')} changed")
    return "; ".join(parts) or "no change"


def diff(*, session: Session, slug: str, old: int, new: int) -> dict[str, Any]:
    """Field by field: phrasings added and removed, the answers as a line diff, other fields before and after."""
    before = Content.of(version(session=session, slug=slug, number=old))
    after = Content.of(version(session=session, slug=slug, number=new))
    changes: dict[str, Any] = {}
    added = [q for q in after.questions if q not in before.questions]
    removed = [q for q in before.questions if q not in after.questions]
    if added or removed:
        changes["questions"] = {"added": added, "removed": removed}
    for name in ("answer", "short_answer"):
        if getattr(before, name) != getattr(after, name):
            changes[name] = list(
                difflib.unified_diff(
                    getattr(before, name).splitlines(),
                    getattr(after, name).splitlines(),
                    f"version {old}",
                    f"version {new}",
                    lineterm="",
                )
            )
    for name in ("title", "tags", "skill", "locale"):
        if getattr(before, name) != getattr(after, name):
            changes[name] = {"before": getattr(before, name), "after": getattr(after, name)}
    return {"slug": slug, "from": old, "to": new, "changes": changes}


def add_phrasings(
    *, session: Session, slug: str, phrasings: Sequence[str], author: Agent | None, note: str
) -> ArticleRecord:
    """A new version with more ways of asking; it answers customers once published."""
    current = Content.of(version(session=session, slug=slug, number=head(session=session, slug=slug).current_version))
    extended = Content(**{**current.__dict__, "questions": (*current.questions, *phrasings)})
    return update(session=session, slug=slug, content=extended, author=author, base_version=None, note=note)
