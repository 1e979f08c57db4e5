"""The offers and routing_decisions tables as the router sees them: offers made, answered and expired,
and every decision with its reason.

New offers and decisions are written in bulk when the routing operation succeeded (`flush`).
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, text
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from app.assignment.models import Offer as OfferRow
from app.assignment.models import OfferStatus, RoutingDecision, WorkItem
from app.assignment.store_agents import AgentRows
from app.assignment.store_work import WorkRows
from app.people.models import Person
from routing import Decision, Offer, Work

READ_AHEAD = "carebridge.routing_read_ahead"
# Offer ids are drawn from PostgreSQL's sequence this many at a time, so a routing pass that makes
# thousands of offers inserts them in a few statements instead of one round trip each.
OFFER_IDS_PER_DRAW = 256
# A decision keeps at most this many of the eligible agents' ids (its reason says how many there were).
ELIGIBLE_KEPT = 100


class OfferRows(WorkRows, AgentRows):
    """Offers and decisions; answering an offer loads its work item and agent with it."""

    _postgres: bool
    _offer_rows: dict[int, OfferRow]
    _offer_ids: list[int]
    _new_offers: list[dict[str, Any]]
    _new_decisions: list[dict[str, Any]]

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
            select(OfferRow, WorkItem, Person)
            .join(Person, col(Person.id) == OfferRow.agent_id)
            .outerjoin(WorkItem, col(WorkItem.conversation_id) == OfferRow.conversation_id)
            .where(col(OfferRow.id).in_(offer_ids))
        ).all()
    # The session only holds rows weakly; keep them for the rest of the transaction.
    session.info.setdefault(READ_AHEAD, []).extend(found)
    return [row for row, _work, _agent in found]


def _offer(row: OfferRow) -> Offer:
    assert row.id is not None
    return Offer(
        offer_id=row.id,
        work_id=str(row.conversation_id),
        agent_id=row.agent_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )
