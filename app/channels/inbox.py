"""The inbox: every platform event stored once, before the webhook is acknowledged, then processed
in the platform's time order by whichever instance claims it first."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from app.channels.events import RawEvent
from app.channels.models import InboxEvent, InboxStatus
from app.timestamps import utcnow


def store(*, session: Session, events: Sequence[RawEvent]) -> int:
    """Insert the events not stored before (by platform id); returns how many were new."""
    if not events:
        return 0
    now = utcnow()
    rows = [
        {
            "platform": event.platform,
            "event_key": event.key[:200],
            "channel": event.channel,
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
    statement = insert(InboxEvent).values(rows).on_conflict_do_nothing(index_elements=["platform", "event_key"])
    result = session.execute(statement)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def due(*, session: Session, settled_before: datetime, limit: int) -> list[int]:
    """Pending events in the platform's time order, up to the latest one that has waited long enough
    for anything delivered out of order around it to arrive; an earlier event that arrived later
    still goes first."""
    ready = (
        select(InboxEvent.occurred_at)
        .where(InboxEvent.status == InboxStatus.pending, col(InboxEvent.received_at) <= settled_before)
        .order_by(col(InboxEvent.occurred_at))
        .limit(limit)
    )
    horizon = max(session.exec(ready), default=None)
    if horizon is None:
        return []
    statement = (
        select(InboxEvent.id)
        .where(InboxEvent.status == InboxStatus.pending, col(InboxEvent.occurred_at) <= horizon)
        .order_by(col(InboxEvent.occurred_at), col(InboxEvent.id))
    )
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
