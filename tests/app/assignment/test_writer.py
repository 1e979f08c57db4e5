"""Routing changes share transactions, yet each one succeeds or fails on its own."""

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from app.assignment.writer import BatchWriter
from app.core.db import make_engine, session_factory
from app.customers.models import Customer


@pytest.fixture
async def writer_and_commits(database_url: str) -> AsyncIterator[tuple[BatchWriter, list[int], Session]]:
    engine = make_engine(database_url)
    commits: list[int] = []
    event.listen(engine, "commit", lambda _connection: commits.append(1))
    writer = BatchWriter(session_factory(engine))
    writer.start()
    with session_factory(engine)() as reader:
        yield writer, commits, reader
    await writer.stop()
    engine.dispose()


def add_customer(name: str) -> Callable[[Session], str]:
    def change(session: Session) -> str:
        session.add(Customer(display_name=name))
        session.flush()
        return name

    return change


def refuse(session: Session) -> str:
    session.add(Customer(display_name="never stored"))
    session.flush()
    raise ValueError("refused on purpose")


async def test_changes_queued_together_commit_together_and_a_failure_undoes_only_itself(
    writer_and_commits: tuple[BatchWriter, list[int], Session],
) -> None:
    writer, commits, reader = writer_and_commits
    changes = [add_customer(f"c{n}") for n in range(40)]
    changes.insert(20, refuse)

    results = await asyncio.gather(*(writer.submit(c) for c in changes), return_exceptions=True)

    failures = [r for r in results if isinstance(r, Exception)]
    assert [f.args for f in failures] == [("refused on purpose",)]
    assert [r for r in results if not isinstance(r, Exception)] == [f"c{n}" for n in range(40)]
    stored = sorted(c.display_name or "" for c in reader.exec(select(Customer)))
    assert stored == sorted(f"c{n}" for n in range(40))
    assert len(commits) < len(changes) / 4, f"{len(commits)} commits for {len(changes)} changes"
