"""The API starts and answers whatever state the knowledge base's tables are in: every state its
operations can reach, and rows an older version of the code (or a hand-made fix) could have left."""

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, col, select

from app.core.db import make_engine, session_factory, unit_of_work
from app.core.errors import DomainError
from app.kb import articles, publishing
from app.kb.content import Content
from app.kb.models import ArticleRecord, ArticleVersion
from knowledge import LIMITS, OnnxEmbedder
from tests.support.accounts import signed_in
from tests.support.instances import instance, seed

BROKEN = "refund-time"


def stored_as(**fields: object) -> Callable[[Session], None]:
    """The published version of BROKEN rewritten in the table, past every check."""

    def write(session: Session) -> None:
        record = articles.head(session=session, slug=BROKEN)
        written = articles.version(session=session, slug=BROKEN, number=record.published_version or 0)
        for name, value in fields.items():
            setattr(written, name, value)
        session.add(written)

    return write


def nothing_published(session: Session) -> None:
    for record in session.exec(select(ArticleRecord)):
        publishing.archive(session=session, slug=record.slug)


def refused_rollback(session: Session) -> None:
    """Finding 1's sequence: a live article rolled back to its first version, which had no answer."""
    draft = Content(title="Do you fit bikes?", questions=("bike fit appointment",), answer="")
    articles.create(session=session, slug="bike-fitting", content=draft, author=None)
    answered = Content(title="Do you fit bikes?", questions=("bike fit appointment",), answer="Yes, 35 EUR.")
    articles.update(session=session, slug="bike-fitting", content=answered, author=None, base_version=1)
    publishing.publish(session=session, slug="bike-fitting")
    with pytest.raises(DomainError), session.begin_nested():
        publishing.rollback(session=session, slug="bike-fitting", to_version=1, author=None)


def published_version_missing(session: Session) -> None:
    record = articles.head(session=session, slug=BROKEN)
    record.published_version = 99
    session.add(record)


STATES: dict[str, tuple[Callable[[Session], None], list[str]]] = {
    "as seeded": (lambda session: None, []),
    "nothing published": (nothing_published, []),
    "after a refused rollback": (refused_rollback, []),
    "published version missing": (published_version_missing, []),
    "empty answer": (stored_as(answer=""), [BROKEN]),
    "no phrasings": (stored_as(questions=[]), [BROKEN]),
    "answer over the limit": (stored_as(answer="x" * (LIMITS.answer + 1)), [BROKEN]),
    "phrasings not text": (stored_as(questions=[1, None]), [BROKEN]),
}


@pytest.mark.parametrize("state", list(STATES))
async def test_the_api_starts_and_answers(
    database_url: str, tmp_path: Path, embedder: OnnxEmbedder, state: str
) -> None:
    change, refused = STATES[state]
    seed(database_url)
    engine = make_engine(database_url)
    with unit_of_work(session_factory(engine)) as session:
        change(session)
        live = session.exec(
            select(ArticleVersion.slug).join(
                ArticleRecord,
                (col(ArticleRecord.slug) == ArticleVersion.slug)
                & (col(ArticleRecord.published_version) == ArticleVersion.version),
            )
        ).all()
    engine.dispose()

    with instance(database_url, tmp_path, embedder) as server:
        async with httpx.AsyncClient(base_url=server.http_url, timeout=10) as http:
            health = await http.get("/healthz")
            found = await http.post("/api/kb/search", json={"query": "Can I buy a gift card?"})
        manager, _ = await signed_in(server, "kim@kestrel.example")
        told = (await manager.get("/api/kb/refused")).json()
        await manager.aclose()

    assert health.status_code == 200
    assert health.json()["articles_refused"] == refused
    assert [r["slug"] for r in told] == refused and all(r["problem"] and r["version"] >= 1 for r in told)
    assert health.json()["articles_indexed"] == len(live) - len(refused)
    assert found.status_code == 200
    best = found.json()["answer"]
    assert (best["slug"] if best else None) == ("gift-cards" if "gift-cards" in live else None)
