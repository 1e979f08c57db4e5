"""Importing articles read from files: the good rows go in, each bad one is reported with its place.

Articles are written in batches of one transaction, each article in its own savepoint: an article
that fails leaves nothing behind, and the others in its batch still go in.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.core.db import SessionFactory, unit_of_work
from app.core.errors import DomainError
from app.kb import articles, publishing
from app.kb.content import Content
from app.kb.models import ArticleRecord, ArticleStatus
from app.people.models import Person
from knowledge.formats import Row

BATCH = 200


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    published: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged


def import_rows(
    open_session: SessionFactory,
    rows: Iterable[Row],
    *,
    publish: bool,
    author: Person | None,
    progress: Callable[[int], None] = lambda done: None,
) -> ImportReport:
    """Create or update every good row; publish those marked published (or all, with `publish`)."""
    report = ImportReport()
    first_seen: dict[str, str] = {}
    batch: list[Row] = []
    done = 0
    for row in rows:
        if row.article is None:
            report.problems.append((row.where, row.error or "unreadable"))
        elif row.article.slug in first_seen:
            report.problems.append(
                (row.where, f"slug {row.article.slug!r} appears again (first at {first_seen[row.article.slug]})")
            )
        else:
            first_seen[row.article.slug] = row.where
            batch.append(row)
        if len(batch) >= BATCH:
            done += _write_batch(open_session, batch, publish, author, report)
            batch = []
            progress(done)
    if batch:
        done += _write_batch(open_session, batch, publish, author, report)
        progress(done)
    return report


def _write_batch(
    open_session: SessionFactory, batch: list[Row], publish: bool, author: Person | None, report: ImportReport
) -> int:
    with unit_of_work(open_session) as session:
        for row in batch:
            try:
                with session.begin_nested():
                    kind, went_live = _write(session, row, publish, author)
            except DomainError as exc:
                report.problems.append((row.where, exc.detail))
            except DBAPIError as exc:
                report.problems.append((row.where, f"the database refused it: {str(exc.orig).splitlines()[0]}"))
            else:
                # Counted only once the article's savepoint held.
                setattr(report, kind, getattr(report, kind) + 1)
                report.published += went_live
    return len(batch)


def _write(session: Session, row: Row, publish: bool, author: Person | None) -> tuple[str, bool]:
    """Write one article; returns whether it was created, updated or unchanged, and whether it went live."""
    article = row.article
    assert article is not None
    content = Content.of_article(article)
    existing = session.get(ArticleRecord, article.slug)
    if existing is None:
        articles.create(session=session, slug=article.slug, content=content, author=author, note="imported")
        kind = "created"
    else:
        before = existing.current_version
        articles.update(
            session=session, slug=article.slug, content=content, author=author, base_version=None, note="imported"
        )
        kind = "unchanged" if existing.current_version == before else "updated"
    target_status = ArticleStatus.published if publish else ArticleStatus(row.status or ArticleStatus.draft)
    went_live = False
    if target_status == ArticleStatus.published:
        live_before = articles.head(session=session, slug=article.slug).published_version
        went_live = publishing.publish(session=session, slug=article.slug).published_version != live_before
    elif target_status == ArticleStatus.archived:
        publishing.archive(session=session, slug=article.slug)
    elif (
        target_status == ArticleStatus.in_review
        and articles.head(session=session, slug=article.slug).status == ArticleStatus.draft
    ):
        publishing.submit_for_review(session=session, slug=article.slug)
    return kind, went_live
