"""PostgreSQL ends one of two transactions that wait for each other's locks. The service runs the
loser again, so neither caller sees an error and both changes are kept; any other error is the
caller's at once.

Real deadlocks: two transactions update two rows in opposite orders, each holding its first row
when it asks for the second. PostgreSQL notices after `deadlock_timeout` (1 s by default)."""

import asyncio
import threading
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.assignment.writer import BatchWriter
from app.core.db import SessionFactory, make_engine, run_in_session, session_factory

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE tally (id integer PRIMARY KEY, n integer NOT NULL)"))
        connection.execute(text("INSERT INTO tally VALUES (1, 0), (2, 0)"))
    yield engine
    engine.dispose()


class Crossing:
    """Two units of work that lock rows 1 and 2 in opposite orders, meeting in the middle on their
    first attempt only."""

    def __init__(self) -> None:
        self.attempts = Counter[str]()
        self._both_hold_their_first_row = threading.Barrier(2, timeout=15)

    def work(self, name: str, first: int, second: int) -> Callable[[Session], str]:
        def change(session: Session) -> str:
            self.attempts[name] += 1
            session.execute(text("UPDATE tally SET n = n + 1 WHERE id = :id"), {"id": first})
            if self.attempts[name] == 1:
                self._both_hold_their_first_row.wait()
            session.execute(text("UPDATE tally SET n = n + 1 WHERE id = :id"), {"id": second})
            return name

        return change


def tallies(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return [n for (n,) in connection.execute(text("SELECT n FROM tally ORDER BY id"))]


async def test_two_transactions_that_deadlock_both_commit(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    open_session = session_factory(engine)
    crossing = Crossing()

    done = await asyncio.gather(
        run_in_session(open_session, crossing.work("up", 1, 2)),
        run_in_session(open_session, crossing.work("down", 2, 1)),
    )

    assert list(done) == ["up", "down"]
    assert sorted(crossing.attempts.values()) == [1, 2], "the deadlock's loser ran once more"
    assert tallies(engine) == [2, 2], "each change counted once"
    assert "event=transaction_retried attempt=1 sqlstate=40P01" in caplog.text


async def test_a_routing_change_that_deadlocks_with_a_message_is_run_again(engine: Engine) -> None:
    open_session: SessionFactory = session_factory(engine)
    writer = BatchWriter(open_session)
    writer.start()
    crossing = Crossing()
    try:
        done = await asyncio.gather(
            writer.submit(crossing.work("routing", 1, 2)),
            run_in_session(open_session, crossing.work("message", 2, 1)),
        )
    finally:
        await writer.stop()

    assert list(done) == ["routing", "message"]
    assert sorted(crossing.attempts.values()) == [1, 2]
    assert tallies(engine) == [2, 2]


async def test_other_errors_are_not_retried(engine: Engine) -> None:
    attempts = Counter[str]()

    def duplicate(session: Session) -> None:
        attempts["insert"] += 1
        session.execute(text("INSERT INTO tally VALUES (1, 5)"))

    with pytest.raises(IntegrityError):
        await run_in_session(session_factory(engine), duplicate)

    assert attempts["insert"] == 1
    assert tallies(engine) == [0, 0]
