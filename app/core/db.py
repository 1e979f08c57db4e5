"""The database engine, sessions, and the migrations that shape the schema."""

import logging
import random
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)

T = TypeVar("T")
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"

SessionFactory = Callable[[], Session]


def make_engine(url: str, pool_size: int = 10, urgent: bool = False, checkpoint_apart: bool = False) -> Engine:
    """Create the engine; SQLite gets the settings that make it safe for a threaded server. On SQLite,
    an `urgent` engine's transactions go ahead of the others waiting in this process, and with
    `checkpoint_apart` no commit copies the write-ahead log into the database: `checkpoint` does, on
    a schedule of its own (the service's). No engine puts a statement's parameters (a customer's
    words) into its errors or logs."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(
            url, pool_pre_ping=True, pool_size=pool_size, max_overflow=2 * pool_size, hide_parameters=True
        )
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": LOCK_TIMEOUT_SECONDS, "factory": _TakingTurns},
        hide_parameters=True,
    )
    turns = _WRITE_TURNS.setdefault(str(Path(parsed.database or ":memory:").resolve()), Turns())

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.turns = turns
        dbapi_connection.urgent = urgent
        # Manage transactions ourselves so each one can start with BEGIN IMMEDIATE below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if checkpoint_apart:
            # Else the commit that fills the log past 1,000 pages copies it and syncs the file,
            # holding the write turn meanwhile: a webhook's acknowledgement waited a second for that.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that reads then writes fails with SQLITE_BUSY when another writer got
        # in between; taking the write lock up front makes read-check-write sequences safe.
        connection.connection.driver_connection.begin_immediate()

    return engine


# As long as SQLite's own busy handler waits for another process's transaction.
LOCK_TIMEOUT_SECONDS = 30.0


class Turns:
    """The right to write to one SQLite file, for this process's transactions. Urgent claimants go
    first: a webhook's acknowledgement waits for at most the one transaction in progress, never
    for the queue of background work behind it. Otherwise first come, first served.

    Giving the turn back hands it to the next claimant alone: waking every waiting thread to let
    one of them win had forty threads queue for the GIL after each commit, in a burst."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taken = False
        # One gate per waiting claimant, locked until the turn is handed to them.
        self._waiting: dict[bool, deque[threading.Lock]] = {True: deque(), False: deque()}

    def take(self, urgent: bool, timeout: float) -> bool:
        with self._lock:
            if not self._taken:  # nobody waits either: a waiter exists only while the turn is taken
                self._taken = True
                return True
            gate = threading.Lock()
            gate.acquire()
            self._waiting[urgent].append(gate)
        if gate.acquire(timeout=timeout):
            return True
        with self._lock:
            if gate in self._waiting[urgent]:
                self._waiting[urgent].remove(gate)
                return False
        return True  # handed over just as the wait ended: the turn is ours

    def give_back(self) -> None:
        with self._lock:
            for urgent in (True, False):
                if self._waiting[urgent]:
                    self._waiting[urgent].popleft().release()  # still taken: it changes hands
                    return
            self._taken = False

    def waiting(self) -> int:
        with self._lock:
            return len(self._waiting[True]) + len(self._waiting[False])


# One set of turns per SQLite file, shared by every engine on it in this process.
_WRITE_TURNS: dict[str, Turns] = {}


class _TakingTurns(sqlite3.Connection):
    """A SQLite connection whose transactions queue in this process rather than in SQLite's busy
    handler, which sleeps up to 100 ms between tries: in a burst, a webhook's acknowledgement
    waited up to half a second behind the background's transactions. Other processes still meet
    the busy handler."""

    turns: Turns
    urgent = False
    holding = False

    def begin_immediate(self) -> None:
        if not self.turns.take(self.urgent, LOCK_TIMEOUT_SECONDS):
            raise sqlite3.OperationalError(f"database is locked: no turn within {LOCK_TIMEOUT_SECONDS:g} s")
        self.holding = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._release()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._release()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._release()

    def _release(self) -> None:
        if self.holding:
            self.holding = False
            self.turns.give_back()


def checkpoint(engine: Engine) -> tuple[int, int]:
    """Copy what the write-ahead log holds into the database file, as far as readers allow, without
    taking the write lock (SQLite's PASSIVE mode): writers go on meanwhile. Returns the frames in the
    log and how many of them are in the database file now."""
    raw = engine.raw_connection()
    try:
        _busy, frames, copied = raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()  # type: ignore[union-attr]
    finally:
        raw.close()
    return int(frames), int(copied)


def session_factory(engine: Engine) -> SessionFactory:
    def open_session() -> Session:
        return Session(engine, expire_on_commit=False)

    return open_session


@contextmanager
def unit_of_work(open_session: SessionFactory) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back when it raises."""
    with open_session() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# PostgreSQL ends one of two transactions that wait for each other's locks (40P01, deadlock) and,
# under serializable isolation, one of two that conflict (40001). Its manual's remedy is to run the
# loser again; the winner has gone on by then. SQLite takes its write lock up front and never does this.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 4


def retryable(error: BaseException) -> bool:
    """Whether the database gave up on the transaction only because of another one, so that the
    same work, run again, may well succeed."""
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def retrying(attempt: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """Call `attempt`, which runs a whole transaction, again after a short random pause while the
    database aborts it as a deadlock's loser. So an attempt must be safe to make twice: it changes
    only the database, and returns what to do once it committed."""
    tried = 1
    while True:
        try:
            return attempt()
        except DBAPIError as error:
            if tried >= attempts or not retryable(error):
                raise
            log.warning("event=transaction_retried attempt=%s sqlstate=%s", tried, error.orig.sqlstate)  # type: ignore[union-attr]
            # Apart in time, the two transactions that met usually do not meet again.
            time.sleep(random.uniform(0.005, 0.05) * tried)
            tried += 1


def in_transaction(open_session: SessionFactory, work: Callable[[Session], T]) -> T:
    """`work` in one unit of work, run again if the database aborted it as a deadlock's loser."""

    def attempt() -> T:
        with unit_of_work(open_session) as session:
            return work(session)

    return retrying(attempt)


async def run_in_session(
    open_session: SessionFactory, work: Callable[[Session], T], limiter: anyio.CapacityLimiter | None = None
) -> T:
    """Run blocking database work off the event loop, in one unit of work (`in_transaction`);
    `limiter` is the pool of threads it may use (anyio's shared one by default)."""
    return await anyio.to_thread.run_sync(in_transaction, open_session, work, limiter=limiter)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the schema to the newest migration."""
    command.upgrade(alembic_config(url), "head")
