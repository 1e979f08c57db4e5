"""How often one address may start web chats, and one visitor or address send messages.

Every message costs a bot turn (a call to Rasa), so these limits are what keeps a script from
flooding it. Requests are counted in the database, as sign-in attempts are (app/accounts/), so every
instance counts the same ones; checking a key and recording the request against it are one step
under a lock per key, so concurrent requests queue there and each sees the ones before it.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import delete, func, text
from sqlmodel import Session, col, select

from app.core.errors import TooManyRequests
from app.core.settings import Settings
from app.webchat.models import WebchatRequest

# The first key of the web chat limits' PostgreSQL advisory locks: apart from the sign-in limits'.
_LOCKS = 0x3EB1
# The longest address kept; the key column holds 200 characters.
MAX_ADDRESS_CHARS = 64


@dataclass(frozen=True)
class Limits:
    """The limits in force (from the settings): requests allowed in any `window`."""

    window: timedelta
    sessions_per_address: int
    messages_per_visitor: int
    messages_per_address: int

    @classmethod
    def of(cls, settings: Settings) -> "Limits":
        return cls(
            window=timedelta(seconds=settings.webchat_limit_seconds),
            sessions_per_address=settings.webchat_sessions_per_address,
            messages_per_visitor=settings.webchat_messages_per_visitor,
            messages_per_address=settings.webchat_messages_per_address,
        )


@dataclass(frozen=True)
class _Limit:
    """At most `allowed` requests under `key` in any window; `name` is what a 429 says was limited."""

    name: str
    key: str
    allowed: int


def admit_session(*, session: Session, limits: Limits, address: str, now: datetime) -> None:
    """Count a session started from `address`, or raise TooManyRequests (sessions_per_address)."""
    address = address[:MAX_ADDRESS_CHARS]
    _admit(
        session,
        [_Limit("sessions_per_address", f"session:address:{address}", limits.sessions_per_address)],
        limits.window,
        now,
    )


def admit_message(*, session: Session, limits: Limits, customer_id: uuid.UUID, address: str, now: datetime) -> None:
    """Count a message from this visitor and address, or raise TooManyRequests naming the limit
    reached (messages_per_visitor, messages_per_address)."""
    address = address[:MAX_ADDRESS_CHARS]
    counted = [
        _Limit("messages_per_visitor", f"message:visitor:{customer_id}", limits.messages_per_visitor),
        _Limit("messages_per_address", f"message:address:{address}", limits.messages_per_address),
    ]
    _admit(session, counted, limits.window, now)


def _admit(session: Session, counted: Sequence[_Limit], window: timedelta, now: datetime) -> None:
    """Record one request against every limit, or raise TooManyRequests naming the first one it
    would exceed and when to try again; a refused request is recorded nowhere, so it costs nothing."""
    _lock(session, sorted(limit.key for limit in counted))
    since = now - window
    for limit in counted:
        count = session.exec(
            select(func.count()).where(col(WebchatRequest.key) == limit.key, col(WebchatRequest.at) >= since)
        ).one()
        if count >= limit.allowed:
            retry_after = _retry_after(session, limit, count, since, window, now)
            raise TooManyRequests(
                f"too many {limit.name.replace('_', ' ')}: {limit.allowed} in "
                f"{int(window.total_seconds())} s; try again in {retry_after} s",
                retry_after,
                limit=limit.name,
            )
    session.add_all(WebchatRequest(key=limit.key, at=now) for limit in counted)


def _retry_after(session: Session, limit: _Limit, count: int, since: datetime, window: timedelta, now: datetime) -> int:
    """Seconds until enough requests have left the window for one more (one, unless the limit was
    lowered meanwhile)."""
    leaving = session.exec(
        select(WebchatRequest.at)
        .where(col(WebchatRequest.key) == limit.key, col(WebchatRequest.at) >= since)
        .order_by(col(WebchatRequest.at))
        .offset(count - limit.allowed)
        .limit(1)
    ).one()
    return max(1, ceil((leaving + window - now).total_seconds()))


def forget_old(*, session: Session, window: timedelta, now: datetime) -> int:
    """Delete the requests that no longer count against anything; how many there were."""
    result = session.execute(delete(WebchatRequest).where(col(WebchatRequest.at) < now - window))
    return int(getattr(result, "rowcount", 0) or 0)


def _lock(session: Session, keys: Sequence[str]) -> None:
    """Hold a PostgreSQL advisory lock per key until the transaction ends, taken in sorted order so
    two requests never wait for each other in a circle. On SQLite, BEGIN IMMEDIATE, which the first
    statement starts, already lets one transaction in at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in keys:
        session.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"), {"space": _LOCKS, "key": key})
