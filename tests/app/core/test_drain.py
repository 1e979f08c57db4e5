"""The drain loop the intake and the sender share: woken or idle it drains again, and a failed round
neither ends it nor goes unlogged."""

import asyncio
import logging

import pytest

from app.core.drain import DrainLoop

log = logging.getLogger(__name__)


class Rounds:
    """A drain that notes when each round started and fails the rounds it is told to (counted from 1)."""

    def __init__(self, failing: frozenset[int] = frozenset()) -> None:
        self.started: list[float] = []
        self._failing = failing
        self._ran = asyncio.Event()

    async def __call__(self) -> None:
        self.started.append(asyncio.get_running_loop().time())
        self._ran.set()
        if len(self.started) in self._failing:
            raise RuntimeError("the database went away")

    async def reach(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.started) < count:
                self._ran.clear()
                await self._ran.wait()


async def test_a_failed_round_is_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    drain = Rounds(failing=frozenset({1}))
    loop = DrainLoop(drain, idle_seconds=0.01, log=log, failed_event="test_drain_failed")
    task = asyncio.create_task(loop.run_forever())
    await drain.reach(3)
    loop.stop()
    await asyncio.wait_for(task, timeout=5)
    assert [r.getMessage() for r in caplog.records if r.name == __name__] == ["event=test_drain_failed"]


async def test_a_wake_up_drains_after_the_settle_time_not_the_idle_time() -> None:
    drain = Rounds()
    loop = DrainLoop(drain, idle_seconds=60, settle_seconds=0.2, log=log, failed_event="test_drain_failed")
    task = asyncio.create_task(loop.run_forever())
    await drain.reach(1)
    woken_at = asyncio.get_running_loop().time()
    loop.wake()
    await drain.reach(2)
    assert drain.started[1] - woken_at >= 0.2
    loop.stop()
    await asyncio.wait_for(task, timeout=5)
    assert len(drain.started) == 2  # a stop wakes the loop to end it, not to drain again
