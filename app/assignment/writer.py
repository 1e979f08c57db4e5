"""Routing changes, one after another, many to a transaction.

Every routing change takes the routing lock (see `app/assignment/store.py`), so they run one at a
time anyway; what limits how many run per second is the commit each one pays. The writer runs them
in a single task and puts the changes that queued up meanwhile into one transaction, so a burst of
accepts costs one commit; a refused change is undone alone, the others still commit.
"""

import asyncio
import contextlib
import functools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar, runtime_checkable

import anyio.to_thread
from sqlmodel import Session

from app.assignment.store import lock_routing
from app.assignment.store_offers import read_offers
from app.core.db import SessionFactory, retryable, retrying, unit_of_work

T = TypeVar("T")
MAX_BATCH = 256

Change = Callable[[Session], Any]


@runtime_checkable
class AnswersOffer(Protocol):
    """A change that answers an offer; the writer reads the offers of a batch in one query first."""

    offer_id: int

    def __call__(self, session: Session) -> Any: ...


class BatchWriter:
    def __init__(self, open_session: SessionFactory, max_batch: int = MAX_BATCH) -> None:
        self._open_session = open_session
        self._max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Change, asyncio.Future[Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def submit(self, change: Callable[[Session], T]) -> T:
        """Run `change` in a transaction with others; returns its result once committed, or raises."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        await self._queue.put((change, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                changes = [change for change, _ in batch]
                outcomes = await anyio.to_thread.run_sync(retrying, functools.partial(self._commit, changes))
            except Exception as exc:  # the commit itself failed: nothing in the batch happened
                outcomes = [_Failed(exc)] * len(batch)
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.cancelled():
                    continue
                if isinstance(outcome, _Failed):
                    future.set_exception(outcome.error)
                else:
                    future.set_result(outcome)

    def _commit(self, changes: list[Change]) -> list[Any]:
        """All changes in one transaction. Most succeed, so they first run without savepoints; if one
        fails, the whole transaction is rolled back and run again with a savepoint around each. A
        deadlock is no change's fault: it ends the transaction, for `retrying` to run it all again."""
        if len(changes) > 1:
            try:
                with unit_of_work(self._open_session) as session:
                    self._prepare(session, changes)
                    return [change(session) for change in changes]
            except Exception:
                pass
        outcomes: list[Any] = []
        with unit_of_work(self._open_session) as session:
            self._prepare(session, changes)
            for change in changes:
                try:
                    with session.begin_nested():
                        outcomes.append(change(session))
                except Exception as exc:  # rolled back to the savepoint: only this change is undone
                    if retryable(exc):
                        raise
                    outcomes.append(_Failed(exc))
        return outcomes

    @staticmethod
    def _prepare(session: Session, changes: list[Change]) -> None:
        lock_routing(session)
        answered = [change.offer_id for change in changes if isinstance(change, AnswersOffer)]
        if len(answered) > 1:
            read_offers(session, answered)


class _Failed:
    """A change that raised; kept apart from results that happen to be exceptions."""

    def __init__(self, error: Exception) -> None:
        self.error = error
