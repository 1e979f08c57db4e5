"""The router's state in the database: `routing.RoutingStore` over the work_items, offers and agents tables.

One store lives for one transaction. On PostgreSQL it first takes a transaction-level advisory
lock, so routing operations from any number of processes run one after another and two routers
can never hand out the same slot or the same conversation; SQLite's BEGIN IMMEDIATE does the same.
Rows are loaded once per transaction and written back when the engine saves them.
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import and_, func, insert, or_, text
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, SQLModel, col, select

from app.agents.models import Agent
from app.assignment.models import Offer as OfferRow
from app.assignment.models import OfferStatus, RoutingDecision, WorkItem
from routing import AgentState, Decision, Offer, Policy, Presence, Work, queue_rank

RowT = TypeVar("RowT", bound=SQLModel)

# Any constant works; it only has to be the same in every process of one deployment.
ROUTING_LOCK = 0x0CA3EB21
LOCKED = "carebridge.routing_locked"
READ_AHEAD = "carebridge.routing_read_ahead"
# Offer ids are drawn from PostgreSQL's sequence this many at a time, so a routing pass that makes
# thousands of offers inserts them in a few statements instead of one round trip each.
OFFER_IDS_PER_DRAW = 256
# A decision keeps at most this many of the eligible agents' ids (its reason says how many there were).
ELIGIBLE_KEPT = 100


def lock_routing(session: Session) -> None:
    """Wait for, then hold until the transaction ends, the right to change routing state.

    Taken inside a savepoint, PostgreSQL releases it again if the savepoint rolls back, so that case
    asks again each time; `BatchWriter` takes it once, outside its savepoints.
    """
    if session.get_bind().dialect.name != "postgresql" or session.info.get(LOCKED):
        return
    with session.no_autoflush:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROUTING_LOCK})
    if not session.in_nested_transaction():
        # Held by the whole transaction now: later stores in it need not ask again.
        session.info[LOCKED] = True


class SqlRoutingStore:
    def __init__(self, session: Session, policy: Policy) -> None:
        self._session = session
        self._policy = policy
        self._agents: dict[int, tuple[Agent, AgentState]] = {}
        self._all_agents_loaded = False
        self._works: dict[str, tuple[WorkItem, Work]] = {}
        self._offer_ids: list[int] = []
        self._new_offers: list[dict[str, Any]] = []
        self._new_decisions: list[dict[str, Any]] = []
        self._postgres = session.get_bind().dialect.name == "postgresql"
        self._offer_rows: dict[int, OfferRow] = {}
        lock_routing(session)

    # Agents

    def agents(self) -> Iterable[AgentState]:
        if not self._all_agents_loaded:
            for row in self._session.exec(select(Agent).order_by(col(Agent.id))):
                if row.id is not None and row.id not in self._agents:
                    self._agents[row.id] = (row, _agent_state(row))
            self._all_agents_loaded = True
        return [self._agents[agent_id][1] for agent_id in sorted(self._agents)]

    def agents_due(self, silent_since: datetime, lost_by: datetime) -> Iterable[AgentState]:
        silent = or_(col(Agent.last_heartbeat_at).is_(None), col(Agent.last_heartbeat_at) < silent_since)
        statement = select(Agent).where(
            or_(and_(col(Agent.presence) == Presence.online, silent), col(Agent.lost_at) <= lost_by)
        )
        due = []
        for row in self._session.exec(statement.order_by(col(Agent.id))):
            assert row.id is not None
            if row.id not in self._agents:
                self._agents[row.id] = (row, _agent_state(row))
            due.append(self._agents[row.id][1])
        return due

    def _get(self, model: type[RowT], key: object) -> RowT | None:
        # A lookup by primary key finds the row in the session if it changed there, so it needs no
        # flush first; not flushing lets a batch of changes write their rows in bulk at the end.
        with self._session.no_autoflush:
            return self._session.get(model, key)

    def agent(self, agent_id: int) -> AgentState | None:
        if agent_id not in self._agents:
            row = self._get(Agent, agent_id)
            if row is None:
                return None
            self._agents[agent_id] = (row, _agent_state(row))
        return self._agents[agent_id][1]

    def save_agent(self, agent: AgentState) -> None:
        row, _ = self._agents[agent.agent_id]
        row.presence = agent.presence
        row.last_heartbeat_at = agent.last_heartbeat
        row.lost_at = agent.lost_at
        row.idle_since = agent.idle_since
        row.missed_offers = agent.missed_offers
        self._session.add(row)

    def loads(self) -> Mapping[int, Mapping[str, int]]:
        statement = (
            select(WorkItem.agent_id, WorkItem.channel, func.count())
            .where(col(WorkItem.agent_id).is_not(None))
            .group_by(col(WorkItem.agent_id), col(WorkItem.channel))
        )
        loads: dict[int, dict[str, int]] = {}
        for agent_id, channel, held in self._session.exec(statement):
            assert agent_id is not None
            loads.setdefault(agent_id, {})[channel] = held
        return loads

    # Work

    def _adopt(self, rows: Iterable[WorkItem]) -> list[Work]:
        works = []
        for row in rows:
            key = str(row.conversation_id)
            if key not in self._works:
                self._works[key] = (row, _work(row))
            works.append(self._works[key][1])
        return works

    def work(self, work_id: str) -> Work | None:
        if work_id not in self._works:
            row = self._get(WorkItem, uuid.UUID(work_id))
            if row is None:
                return None
            self._adopt([row])
        return self._works[work_id][1]

    def add_work(self, work: Work) -> None:
        row = WorkItem(
            conversation_id=uuid.UUID(work.work_id),
            channel=work.channel,
            queued_at=work.queued_at,
            queue_rank=queue_rank(work, self._policy),
        )
        self._works[work.work_id] = (row, work)
        self.save_work(work)

    def save_work(self, work: Work) -> None:
        row, _ = self._works[work.work_id]
        values = {
            "channel": work.channel,
            "language": work.language,
            "required": dict(work.required),
            "optional": dict(work.optional),
            "priority": work.priority,
            "queued_at": work.queued_at,
            "queue_rank": queue_rank(work, self._policy),
            "front": work.front,
            "sla_due": work.sla_due,
            "team": work.team,
            "target_agent_id": work.target_agent,
            "stage": work.stage,
            "stage_since": work.stage_since,
            "refused_by": sorted(work.refused_by),
            "agent_id": work.agent_id,
            "assigned": work.assigned,
            "escalated_at": work.escalated_at,
        }
        # Setting an attribute on a SQLModel row is costly; a routing pass saves thousands of rows
        # of which usually one field changed.
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
        self._session.add(row)

    def remove_work(self, work_id: str) -> None:
        entry = self._works.pop(work_id, None)
        row = entry[0] if entry else self._get(WorkItem, uuid.UUID(work_id))
        if row is not None:
            self._session.delete(row)

    def anything_waiting(self) -> bool:
        statement = select(WorkItem.conversation_id).where(col(WorkItem.agent_id).is_(None)).limit(1)
        return self._session.exec(statement).first() is not None

    def waiting(self, channels: set[str]) -> Iterable[Work]:
        if not channels:
            return []
        statement = (
            select(WorkItem)
            .where(col(WorkItem.agent_id).is_(None), col(WorkItem.channel).in_(channels))
            .order_by(
                col(WorkItem.front).desc(),
                col(WorkItem.queue_rank),
                col(WorkItem.queued_at),
                col(WorkItem.conversation_id),
            )
        )
        return self._adopt(self._session.exec(statement))

    def unassigned(self) -> Iterable[Work]:
        statement = select(WorkItem).where(col(WorkItem.assigned).is_(False))
        rows = self._session.exec(statement.order_by(col(WorkItem.queued_at), col(WorkItem.conversation_id)))
        return sorted(self._adopt(rows), key=lambda work: (work.queued_at, work.work_id))

    def held_by(self, agent_id: int) -> list[Work]:
        rows = self._session.exec(select(WorkItem).where(WorkItem.agent_id == agent_id))
        return sorted(self._adopt(rows), key=lambda work: work.work_id)

    def ahead_of(self, work: Work) -> int:
        rank = queue_rank(work, self._policy)
        statement = (
            select(func.count())
            .select_from(WorkItem)
            .where(
                col(WorkItem.agent_id).is_(None),
                (col(WorkItem.front) > work.front)
                | ((col(WorkItem.front) == work.front) & (col(WorkItem.queue_rank) < rank)),
            )
        )
        return self._session.exec(statement).one()

    # Offers

    def pending_offers(self) -> Iterable[Offer]:
        statement = select(OfferRow).where(OfferRow.status == OfferStatus.pending).order_by(col(OfferRow.id))
        rows = list(self._session.exec(statement))
        self._offer_rows.update((row.id, row) for row in rows if row.id is not None)
        return [_offer(row) for row in rows]

    def _offer_row(self, offer_id: int) -> OfferRow | None:
        """The offer, its work item and its agent: answering an offer needs all three."""
        if offer_id not in self._offer_rows:
            key = identity_key(OfferRow, offer_id)
            if key in self._session.identity_map:  # read ahead by `read_offers`
                row: OfferRow | None = self._session.identity_map[key]
            else:
                row = next(iter(_read_offers(self._session, [offer_id])), None)
            if row is None:
                return None
            self._offer_rows[offer_id] = row
            self.work(str(row.conversation_id))
            self.agent(row.agent_id)
        return self._offer_rows[offer_id]

    def offer(self, offer_id: int) -> Offer | None:
        row = self._offer_row(offer_id)
        return _offer(row) if row is not None and row.status == OfferStatus.pending else None

    def _next_offer_id(self) -> int:
        if not self._offer_ids:
            if self._postgres:
                draw = text("SELECT nextval(pg_get_serial_sequence('offers', 'id')) FROM generate_series(1, :n)")
                self._offer_ids = list(self._session.execute(draw, {"n": OFFER_IDS_PER_DRAW}).scalars())
            else:
                # SQLite: this transaction holds the write lock (BEGIN IMMEDIATE), so nobody else inserts.
                self._session.flush()
                highest = self._session.exec(select(func.max(OfferRow.id))).one() or 0
                self._offer_ids = list(range(highest + 1, highest + 1 + OFFER_IDS_PER_DRAW))
            self._offer_ids.reverse()
        return self._offer_ids.pop()

    def open_offer(self, work: Work, agent_id: int, now: datetime, expires_at: datetime) -> Offer:
        offer = Offer(self._next_offer_id(), work.work_id, agent_id, now, expires_at)
        self._new_offers.append(
            {
                "id": offer.offer_id,
                "conversation_id": uuid.UUID(work.work_id),
                "agent_id": agent_id,
                "status": OfferStatus.pending,
                "created_at": now,
                "expires_at": expires_at,
            }
        )
        work.agent_id = agent_id
        self.save_work(work)
        return offer

    def flush(self) -> None:
        """New offers and decisions go in as plain multi-row inserts once the operation succeeded:
        building ORM rows for thousands of them costs more than the database does. An operation that
        fails writes none of them."""
        connection = self._session.connection()
        if self._new_offers:
            rows, self._new_offers = self._new_offers, []
            connection.execute(insert(OfferRow), rows)
        if self._new_decisions:
            rows, self._new_decisions = self._new_decisions, []
            connection.execute(insert(RoutingDecision), rows)

    def close_offer(self, offer: Offer, status: str, now: datetime) -> None:
        row = self._offer_row(offer.offer_id)
        assert row is not None, f"offer {offer.offer_id} vanished within its transaction"
        row.status = OfferStatus(status)
        row.decided_at = now
        self._session.add(row)

    def record(self, decision: Decision, now: datetime) -> None:
        self._new_decisions.append(
            {
                "conversation_id": uuid.UUID(decision.work_id),
                "agent_id": decision.agent_id,
                "stage": decision.stage,
                "eligible": list(decision.eligible[:ELIGIBLE_KEPT]),
                "reason": decision.reason[:1000],
                "decided_at": now,
            }
        )

    def assignments_since(self, since: datetime) -> int:
        statement = (
            select(func.count())
            .select_from(OfferRow)
            .where(OfferRow.status == OfferStatus.accepted, col(OfferRow.decided_at) >= since)
        )
        return self._session.exec(statement).one()


def read_offers(session: Session, offer_ids: list[int]) -> None:
    """Read offers with their work items and agents in one query, ahead of answering them: the
    routing writer does this for a batch of accepts, which then need no query of their own."""
    _read_offers(session, offer_ids)


def _read_offers(session: Session, offer_ids: list[int]) -> list[OfferRow]:
    # No flush needed: the join is on columns an offer never changes, and rows this session
    # changed come back as the session's own objects.
    with session.no_autoflush:
        found = session.exec(
            select(OfferRow, WorkItem, Agent)
            .join(Agent, col(Agent.id) == OfferRow.agent_id)
            .outerjoin(WorkItem, col(WorkItem.conversation_id) == OfferRow.conversation_id)
            .where(col(OfferRow.id).in_(offer_ids))
        ).all()
    # The session only holds rows weakly; keep them for the rest of the transaction.
    session.info.setdefault(READ_AHEAD, []).extend(found)
    return [row for row, _work, _agent in found]


def _agent_state(row: Agent) -> AgentState:
    assert row.id is not None
    return AgentState(
        agent_id=row.id,
        name=row.name,
        skills=row.skills,
        languages=frozenset(row.languages),
        capacity=row.capacity,
        teams=frozenset(row.teams),
        presence=row.presence,
        last_heartbeat=row.last_heartbeat_at,
        lost_at=row.lost_at,
        idle_since=row.idle_since,
        missed_offers=row.missed_offers,
    )


def _work(row: WorkItem) -> Work:
    return Work(
        work_id=str(row.conversation_id),
        channel=row.channel,
        queued_at=row.queued_at,
        language=row.language,
        required=row.required,
        optional=row.optional,
        priority=row.priority,
        sla_due=row.sla_due,
        team=row.team,
        target_agent=row.target_agent_id,
        front=row.front,
        stage=row.stage,
        stage_since=row.stage_since,
        refused_by=frozenset(row.refused_by),
        agent_id=row.agent_id,
        assigned=row.assigned,
        escalated_at=row.escalated_at,
    )


def _offer(row: OfferRow) -> Offer:
    assert row.id is not None
    return Offer(
        offer_id=row.id,
        work_id=str(row.conversation_id),
        agent_id=row.agent_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )
