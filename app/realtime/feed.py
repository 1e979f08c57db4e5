"""Agents' feeds: every event an agent's console is sent is numbered and kept first, so a console that
reconnects, to this instance or another, after a network drop or a restart, asks for what came after
the last number it saw and gets exactly that: in order, with no duplicate and no gap.

Events are stored in the transaction of the change they tell of (`number_and_store`): the change and
its events commit together or not at all, and delivery costs no transaction of its own."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, insert, update
from sqlmodel import Session, col, select

from app.core.timestamps import utcnow
from app.people.models import Person, Role
from app.realtime.models import Addressed, AgentEvent, Event, Numbered

# A console further behind than this starts again from a fresh snapshot rather than a replay.
REPLAY_LIMIT = 5_000


# Built once: they run for every event. The insert goes to the table itself: the ORM's bulk path
# cost as much again.
_INSERT = insert(AgentEvent.__table__)  # type: ignore[attr-defined]
_BUMP = (
    update(Person)
    .where(col(Person.id) == bindparam("agent_id"))
    .values(last_event_seq=Person.last_event_seq + bindparam("count"))
    .returning(col(Person.last_event_seq))
)


def append(session: Session, agent_id: int, events: Sequence[Event]) -> list[Event]:
    """Number and keep events for one agent; returns them with their `seq`. Bumping the agent's
    counter locks the agent's row until commit, so concurrent writers never share or skip a number."""
    if not events:
        return []
    bumped = session.execute(
        _BUMP, {"agent_id": agent_id, "count": len(events)}, execution_options={"synchronize_session": False}
    ).scalar_one_or_none()
    if bumped is None:
        return []
    first = bumped - len(events) + 1
    numbered = [{**event, "seq": first + n} for n, event in enumerate(events)]
    now = utcnow()
    rows = [{"agent_id": agent_id, "seq": e["seq"], "event": e, "created_at": now} for e in numbered]
    session.execute(_INSERT, rows)
    return numbered


def number_and_store(session: Session, addressed: Addressed) -> Numbered:
    """Number and store events, each agent's in the order given; the caller delivers them after commit."""
    by_agent: dict[int, list[Event]] = defaultdict(list)
    everyone: list[int] | None = None
    for agent_id, event in addressed:
        if agent_id is None:
            everyone = supervisors(session) if everyone is None else everyone
            for supervisor in everyone:
                by_agent[supervisor].append(event)
        else:
            by_agent[agent_id].append(event)
    # Agents in id order: two instances writing to the same agents lock their rows in the same order.
    numbered: Numbered = []
    for agent_id in sorted(by_agent):
        numbered += [(agent_id, event) for event in append(session, agent_id, by_agent[agent_id])]
    return numbered


def supervisors(session: Session) -> list[int]:
    ids = session.exec(select(Person.id).where(Person.role == Role.supervisor)).all()
    return [agent_id for agent_id in ids if agent_id is not None]


def last_seq(session: Session, agent_id: int) -> int:
    agent = session.get(Person, agent_id)
    return agent.last_event_seq if agent is not None else 0


def after(session: Session, agent_id: int, after_seq: int, before_seq: int | None = None) -> list[Event] | None:
    """The agent's events numbered after `after_seq` (and before `before_seq`), oldest first; None when
    the feed cannot replay them all: pruned, too many, or a number this feed never gave out."""
    newest = last_seq(session, agent_id)
    upto = newest if before_seq is None else min(newest, before_seq - 1)
    if after_seq > newest:
        return None
    if upto <= after_seq:
        return []
    if upto - after_seq > REPLAY_LIMIT:
        return None
    rows = session.exec(
        select(AgentEvent.event)
        .where(AgentEvent.agent_id == agent_id, AgentEvent.seq > after_seq, AgentEvent.seq <= upto)
        .order_by(col(AgentEvent.seq))
    ).all()
    if len(rows) != upto - after_seq:
        return None
    return [dict(event) for event in rows]


def prune(session: Session, older_than: datetime) -> int:
    """Forget events older than the retention period; a console away that long starts afresh."""
    result = session.execute(delete(AgentEvent).where(col(AgentEvent.created_at) < older_than))
    return int(getattr(result, "rowcount", 0) or 0)
