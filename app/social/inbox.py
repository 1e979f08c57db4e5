"""The inbox: every platform event stored once, before the webhook is acknowledged, then processed
in the platform's time order by whichever instance claims it first."""

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, exists, func, select

from app.core.timestamps import utcnow
from app.social import payloads
from app.social.models import InboxEvent, InboxStatus
from app.social.platform_events import RawEvent


def store(*, session: Session, events: Sequence[RawEvent], received_at: datetime | None = None) -> int:
    """Insert the events not stored before (by platform id), each made storable by every database,
    as received now (or at `received_at`); returns how many were new."""
    if not events:
        return 0
    now = received_at or utcnow()
    events = [payloads.storable(event) for event in events]
    rows = [
        {
            "platform": event.platform,
            "event_key": event.key[:200],
            "channel": event.channel,
            "sender_key": event.sender[:200] if event.sender else None,
            "status": event.status.value,
            "reason": event.reason[:500] if event.reason else None,
            "occurred_at": event.occurred_at,
            "received_at": now,
            "processed_at": None if event.status == InboxStatus.pending else now,
            "raw": event.raw,
        }
        for event in events
    ]
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgres_insert
    statement = (
        insert(InboxEvent)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["platform", "event_key"])
        .returning(col(InboxEvent.id))
    )
    # The ids of the rows inserted, not the rowcount: on PostgreSQL (psycopg) that is -1 here.
    return len(session.execute(statement).all())


def due(*, session: Session, settled_before: datetime, limit: int, skip: Collection[int] = ()) -> list[int]:
    """Pending events that have waited long enough (received by `settled_before`) for anything
    delivered out of order around them to arrive, in the platform's time order. An event waits
    while its sender has one as early or earlier still settling: that one goes first, once it
    has waited too. Other senders' events, settled or not, never hold an event back or let one
    go early. `skip`: events the caller tried and left pending, so that the ones behind them come."""
    earlier = aliased(InboxEvent)
    settling = select(col(earlier.id)).where(
        col(earlier.status) == InboxStatus.pending,
        col(earlier.sender_key) == col(InboxEvent.sender_key),
        col(earlier.occurred_at) <= col(InboxEvent.occurred_at),
        col(earlier.received_at) > settled_before,
    )
    statement = (
        select(InboxEvent.id)
        .where(
            InboxEvent.status == InboxStatus.pending,
            col(InboxEvent.received_at) <= settled_before,
            ~exists(settling),
        )
        .order_by(col(InboxEvent.occurred_at), col(InboxEvent.id))
        .limit(limit)
    )
    if skip:
        statement = statement.where(col(InboxEvent.id).notin_(skip))
    return [event_id for event_id in session.exec(statement) if event_id is not None]


def claim(*, session: Session, event_id: int) -> InboxEvent | None:
    """Lock a pending event for this transaction; None if another worker got to it first."""
    statement = (
        select(InboxEvent).where(InboxEvent.id == event_id).with_for_update().execution_options(populate_existing=True)
    )
    event = session.exec(statement).first()
    return event if event is not None and event.status == InboxStatus.pending else None


def finish(*, session: Session, event: InboxEvent, status: InboxStatus, reason: str | None = None) -> None:
    event.status = status
    event.reason = reason[:500] if reason else None
    event.processed_at = utcnow()
    session.add(event)


def counts(*, session: Session) -> dict[str, int]:
    """Events by status, for health and supervisors."""
    statement = select(InboxEvent.status, func.count()).group_by(InboxEvent.status)
    return {str(status): int(count) for status, count in session.exec(statement)}


def listed(*, session: Session, status: InboxStatus, limit: int = 100) -> list[InboxEvent]:
    statement = select(InboxEvent).where(InboxEvent.status == status).order_by(col(InboxEvent.id).desc())
    return list(session.exec(statement.limit(limit)))
