"""Routing over time in the running service: each change in one transaction, then the news is sent."""

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlmodel import Session

from app.assignment import service as assignment
from app.assignment.service import Outcome
from app.assignment.writer import BatchWriter
from app.conversations import ownership
from app.conversations.wire import message_event
from app.core.db import SessionFactory, run_in_session
from app.core.timestamps import utcnow
from app.people.models import Person
from app.realtime.hub import Hub
from app.realtime.models import Event
from routing import Policy, Presence

log = logging.getLogger(__name__)
T = TypeVar("T")


class AssignmentFlows:
    def __init__(
        self, *, open_session: SessionFactory, hub: Hub, policy: Policy, sla: timedelta, default_language: str = "en"
    ) -> None:
        self._open_session = open_session
        self._hub = hub
        self.policy = policy
        self.sla = sla
        self.default_language = default_language
        self.writer = BatchWriter(open_session)
        # Agents whose consoles sent something since the last tick.
        self._heard: set[int] = set()

    async def submit(self, change: Callable[[Session], T]) -> T:
        """Run a change that involves routing; it commits together with the routing changes queued beside it."""
        return await self.writer.submit(change)

    async def run(self, change: Callable[[Session], Outcome]) -> Outcome:
        """Run one routing change, then tell agents, customers and supervisors."""
        outcome = await self.submit(lambda session: assignment.store_in_feeds(session, change(session)))
        self.publish(outcome)
        return outcome

    def publish(self, outcome: Outcome) -> None:
        """Deliver a committed outcome: what agents and supervisors get was stored by `assignment.store_in_feeds`."""
        self._hub.to_agents(outcome.numbered)
        for message in outcome.to_customers:
            self._hub.to_conversation(message.conversation_id, message_event(message))

    async def tick_forever(self, interval: float = 1.0) -> None:
        """Offers expire, lost agents' grace periods end, waiting work widens: the router's clock."""
        while True:
            await asyncio.sleep(interval)
            heard, self._heard = self._heard, set()
            try:
                await self.run(self._ticking(heard))
            except Exception:
                self._heard |= heard
                log.exception("event=routing_tick_failed")

    async def set_presence(self, agent_id: int, presence: Presence) -> None:
        await self.run(
            lambda s: assignment.set_presence(
                session=s, policy=self.policy, agent_id=agent_id, presence=presence, now=utcnow()
            )
        )
        log.info("event=presence agent=%s presence=%s", agent_id, presence)

    def _ticking(self, heard: set[int]) -> Callable[[Session], Outcome]:
        return lambda session: assignment.tick(session=session, policy=self.policy, now=utcnow(), heard=heard)

    def heard_from(self, agent_id: int) -> None:
        """The agent's console is there; the router hears of it at its next tick (within a second)."""
        self._heard.add(agent_id)

    async def accept(self, agent: Person, offer_id: int) -> dict[str, Any]:
        outcome = await self.run(assignment.Acceptance(self.policy, offer_id, agent, utcnow()))
        log.info("event=offer_accepted offer=%s agent=%s", offer_id, agent.id)
        return outcome.result

    async def decline(self, agent_id: int, offer_id: int) -> None:
        await self.run(
            lambda s: assignment.decline(
                session=s, policy=self.policy, offer_id=offer_id, agent_id=agent_id, now=utcnow()
            )
        )
        log.info("event=offer_declined offer=%s agent=%s", offer_id, agent_id)

    async def transfer(
        self, agent_id: int, conversation_id: uuid.UUID, to_agent: int | None, to_team: str | None, note: str
    ) -> None:
        await self.run(
            lambda s: assignment.transfer(
                session=s,
                policy=self.policy,
                conversation_id=conversation_id,
                agent_id=agent_id,
                now=utcnow(),
                to_agent=to_agent,
                to_team=to_team,
                note=note,
            )
        )
        log.info("event=transferred conversation=%s from_agent=%s", conversation_id, agent_id)

    async def agent_snapshot(self, agent_id: int) -> Event:
        """Everything an agent's console needs on (re)connecting: their conversations and open offers."""

        def describe(session: Session) -> Event:
            owned = [
                assignment.agent_view(session, conversation.id)
                for conversation in ownership.owned_by(session=session, agent_id=agent_id)
            ]
            offers = assignment.open_offers_for(session=session, agent_id=agent_id)
            return {"type": "welcome", "conversations": owned, "offers": offers}

        return await run_in_session(self._open_session, describe)
