"""Articles and their versions, as knowledge managers list, create, edit and compare them.

Every edit writes a new version and nothing written is ever changed; the version live for customers
stays live until a new one is published (`app.kb.publishing`).
"""

import difflib
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, func, or_, select

from app.core.errors import Conflict, NotFound
from app.core.timestamps import utcnow
from app.kb.content import Content, InvalidArticleInput, summarize
from app.kb.models import ArticleRecord, ArticleStatus, ArticleVersion
from app.people.models import Person
from knowledge import Article, InvalidArticle


class ArticleNotFound(NotFound):
    pass


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


def count(*, session: Session) -> int:
    return session.exec(select(func.count()).select_from(ArticleRecord)).one()


def locked_head(session: Session, slug: str) -> ArticleRecord:
    """The article's record, locked until the transaction ends: changes to one article take turns."""
    record = session.exec(
        select(ArticleRecord)
        .where(ArticleRecord.slug == slug)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if record is None:
        raise ArticleNotFound(f"article {slug!r} does not exist")
    return record


def write_version(
    session: Session, slug: str, number: int, content: Content, author: Person | None, note: str
) -> ArticleVersion:
    """Store version `number` of the article; once written, a version never changes."""
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


def create(*, session: Session, slug: str, content: Content, author: Person | None, note: str = "") -> ArticleRecord:
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
    write_version(session, slug, 1, checked, author, note or "created")
    session.flush()
    return record


def update(
    *, session: Session, slug: str, content: Content, author: Person | None, base_version: int | None, note: str = ""
) -> ArticleRecord:
    """A new version with the edited content; the live version stays live until this one is published.

    `base_version` is the version the editor started from: if someone saved since, the edit is refused
    rather than silently overwriting theirs.
    """
    record = locked_head(session, slug)
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
    write_version(session, slug, record.current_version, checked, author, note or summarize(previous, checked))
    session.add(record)
    session.flush()
    return record


def add_phrasings(
    *, session: Session, slug: str, phrasings: Sequence[str], author: Person | None, note: str
) -> ArticleRecord:
    """A new version with more ways of asking; it answers customers once published."""
    current = Content.of(version(session=session, slug=slug, number=head(session=session, slug=slug).current_version))
    extended = Content(**{**current.__dict__, "questions": (*current.questions, *phrasings)})
    return update(session=session, slug=slug, content=extended, author=author, base_version=None, note=note)


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
