"""SQLite writes: an acknowledgement's transaction goes ahead of background work waiting, and no
commit pays for copying the write-ahead log into the database file."""

import threading
import time
from pathlib import Path

from sqlmodel import select

from app.core.db import Turns, checkpoint, make_engine, migrate, session_factory, unit_of_work
from app.people.models import Person
from tests.support import factories


def claimants(turns: Turns, claims: list[tuple[str, bool]]) -> list[str]:
    """Start the claims one after another while the turn is taken, then give it back: the order
    in which they got it."""
    order: list[str] = []
    assert turns.take(urgent=False, timeout=1)

    def claim(name: str, urgent: bool) -> None:
        assert turns.take(urgent=urgent, timeout=10)
        order.append(name)
        turns.give_back()

    threads = []
    for n, (name, urgent) in enumerate(claims, start=1):
        threads.append(threading.Thread(target=claim, args=(name, urgent)))
        threads[-1].start()
        deadline = time.monotonic() + 10
        while turns.waiting() < n and time.monotonic() < deadline:
            time.sleep(0.001)
    turns.give_back()
    for thread in threads:
        thread.join(10)
    return order


def test_an_urgent_claimant_goes_before_one_that_waited_longer() -> None:
    order = claimants(Turns(), [("background", False), ("acknowledgement", True)])

    assert order == ["acknowledgement", "background"]


def test_claimants_of_one_kind_go_in_the_order_they_came() -> None:
    claims = [("b1", False), ("a1", True), ("b2", False), ("a2", True), ("b3", False)]

    order = claimants(Turns(), claims)

    assert order == ["a1", "a2", "b1", "b2", "b3"]


def test_a_claim_gives_up_when_the_turn_is_not_given_back_in_time() -> None:
    turns = Turns()
    assert turns.take(urgent=False, timeout=1)
    assert not turns.take(urgent=True, timeout=0.05)
    assert not turns.take(urgent=False, timeout=0.05)
    turns.give_back()
    assert turns.take(urgent=False, timeout=0.05)


def test_commits_leave_the_log_to_the_checkpoint(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'writes.db'}"
    migrate(url)
    engine = make_engine(url, checkpoint_apart=True)
    for _ in range(600):
        with unit_of_work(session_factory(engine)) as session:
            factories.agent(session, capacity={})
    page_size = 4096
    frames_in_file = ((tmp_path / "writes.db-wal").stat().st_size - 32) // (24 + page_size)

    frames, copied = checkpoint(engine)

    # SQLite's own checkpoint would have reset the log at 1,000 frames, in the middle of some commit.
    assert frames_in_file > 1_000 and frames == frames_in_file
    assert copied == frames
    with session_factory(engine)() as session:
        assert len(session.exec(select(Person)).all()) == 600
    engine.dispose()
