"""The router: every change to agents and work goes through here, and ends with new offers.

Each operation reads and writes through a `RoutingStore`, takes the time as an argument (the engine
has no clock of its own), and returns the events the caller must act on: offers to send, offers
withdrawn, supervisors to alert, customers to tell. Every operation finishes with `dispatch`, so
whenever an eligible agent has a free slot and work is waiting, an offer is out.
"""

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ParamSpec

from routing.eligibility import LAST_STAGE
from routing.events import (
    AgentLost,
    AgentSetAway,
    Assigned,
    Event,
    OfferClosed,
    OfferMade,
    Requeued,
    WaitedTooLong,
    Widened,
)
from routing.model import AgentState, Offer, Policy, Presence, Work
from routing.pool import AgentPool
from routing.store import RoutingStore

P = ParamSpec("P")

# The window over which the assignment rate behind an expected wait is measured.
RATE_WINDOW = timedelta(minutes=15)


class RoutingError(Exception):
    """A request the router refuses; the message names the offer, work or agent."""


def operation(method: Callable[P, list[Event]]) -> Callable[P, list[Event]]:
    """A public operation: when it succeeds, the store writes what it held back."""

    @functools.wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> list[Event]:
        happened = method(*args, **kwargs)
        router = args[0]
        assert isinstance(router, Router)
        router.store.flush()
        return happened

    return run


class Router:
    def __init__(self, store: RoutingStore, policy: Policy) -> None:
        self.store = store
        self.policy = policy

    # Agents

    @operation
    def set_presence(self, agent_id: int, presence: Presence, now: datetime) -> list[Event]:
        """Online makes an agent eligible; away keeps their conversations; offline starts the grace period."""
        agent = self._agent(agent_id)
        events: list[Event] = []
        agent.presence = presence
        if presence == Presence.online:
            agent.lost_at = None
            agent.last_heartbeat = now
            agent.missed_offers = 0
            agent.idle_since = agent.idle_since or now
        else:
            events += self._withdraw_offers(agent, now)
            if presence == Presence.offline:
                events += self._lose(agent, now)
        self.store.save_agent(agent)
        return events + self.dispatch(now)

    @operation
    def heartbeat(self, agent_id: int, now: datetime) -> list[Event]:
        agent = self._agent(agent_id)
        agent.last_heartbeat = now
        self.store.save_agent(agent)
        return []

    # Offers

    @operation
    def accept(self, offer_id: int, agent_id: int, now: datetime) -> list[Event]:
        offer = self._pending(offer_id, agent_id, now)
        work = self._work(offer.work_id)
        work.assigned = True
        self.store.save_work(work)
        self.store.close_offer(offer, "accepted", now)
        agent = self._agent(agent_id)
        agent.missed_offers = 0
        agent.idle_since = now
        self.store.save_agent(agent)
        return [Assigned(work.work_id, agent_id)]

    @operation
    def decline(self, offer_id: int, agent_id: int, now: datetime) -> list[Event]:
        offer = self._pending(offer_id, agent_id, now)
        agent = self._agent(agent_id)
        agent.missed_offers = 0
        self.store.save_agent(agent)
        return [self._close(offer, "declined", now, refused=True), *self.dispatch(now)]

    # Work

    @operation
    def arrive(self, work: Work, now: datetime) -> list[Event]:
        """A conversation needs a human."""
        work.stage_since = work.stage_since or now
        self.store.add_work(work)
        return self.dispatch(now)

    @operation
    def release(self, work_id: str, now: datetime) -> list[Event]:
        """The conversation no longer needs routing (resolved, handed back): its slot is free."""
        work = self._work(work_id)
        events: list[Event] = []
        if work.offered:
            events += [self._close(offer, "withdrawn", now) for offer in self._offers_for(work)]
        self.store.remove_work(work_id)
        return events + self.dispatch(now)

    @operation
    def transfer(
        self, work_id: str, now: datetime, *, team: str | None = None, agent_id: int | None = None
    ) -> list[Event]:
        """Give owned work to a team or one agent, through the same offer flow."""
        if (team is None) == (agent_id is None):
            raise RoutingError(f"transfer of {work_id!r} needs a team or an agent, not {team=} {agent_id=}")
        work = self._work(work_id)
        if not work.assigned or work.agent_id is None:
            raise RoutingError(f"work {work_id!r} is not owned by an agent, so it cannot be transferred")
        if agent_id is not None:
            self._agent(agent_id)
        work.refused_by = frozenset({work.agent_id})
        work.agent_id, work.assigned = None, False
        work.team, work.target_agent = team, agent_id
        work.stage, work.stage_since, work.escalated_at = 0, now, None
        self.store.save_work(work)
        return self.dispatch(now)

    # Time

    @operation
    def tick(self, now: datetime) -> list[Event]:
        """Everything that happens because time passed: expiries, lost agents, widening, long waits."""
        events: list[Event] = []
        for offer in list(self.store.pending_offers()):
            # An earlier expiry in this loop may have set the agent away and withdrawn this one.
            if offer.expires_at <= now and self.store.offer(offer.offer_id) is not None:
                events += self._expire(offer, now)
        for agent in list(self.store.agents_due(now - self.policy.heartbeat_timeout, now - self.policy.grace)):
            events += self._check_agent(agent, now)
        for work in self.store.unassigned():
            events += self._age(work, now)
        return events + self.dispatch(now)

    @operation
    def dispatch(self, now: datetime) -> list[Event]:
        """Offer waiting work, in queue order, to the best eligible agent with a free slot."""
        if not self.store.anything_waiting():
            # The usual case when an agent connects or frees a slot: no need to weigh every agent.
            return []
        pool = AgentPool(self.store.agents(), self.store.loads())
        free = pool.free_channels()
        events: list[Event] = []
        for work in self.store.waiting(free):
            if work.channel not in free:
                continue
            decision = pool.choose(work, self.policy)
            if decision.agent_id is None:
                continue
            offer = self.store.open_offer(work, decision.agent_id, now, now + self.policy.offer_timeout)
            pool.reserve(decision.agent_id, work.channel)
            self.store.record(decision, now)
            events.append(OfferMade(offer, decision))
            free = pool.free_channels()
            if not free:
                break
        return events

    def expected_wait(self, work: Work, now: datetime) -> timedelta | None:
        """Items ahead divided by the recent assignment rate; None when nothing was assigned lately."""
        assigned = self.store.assignments_since(now - RATE_WINDOW)
        if assigned == 0:
            return None
        return RATE_WINDOW * (self.store.ahead_of(work) + 1) / assigned

    # Internals

    def _agent(self, agent_id: int) -> AgentState:
        agent = self.store.agent(agent_id)
        if agent is None:
            raise RoutingError(f"agent {agent_id} is unknown to the router")
        return agent

    def _work(self, work_id: str) -> Work:
        work = self.store.work(work_id)
        if work is None:
            raise RoutingError(f"work {work_id!r} is not being routed")
        return work

    def _pending(self, offer_id: int, agent_id: int, now: datetime) -> Offer:
        offer = self.store.offer(offer_id)
        if offer is None or offer.agent_id != agent_id:
            raise RoutingError(f"offer {offer_id} is not open for agent {agent_id}")
        if offer.expires_at <= now:
            raise RoutingError(f"offer {offer_id} expired at {offer.expires_at.isoformat()}")
        return offer

    def _offers_for(self, work: Work) -> list[Offer]:
        return [offer for offer in self.store.pending_offers() if offer.work_id == work.work_id]

    def _close(self, offer: Offer, status: str, now: datetime, refused: bool = False) -> OfferClosed:
        """End an offer unaccepted; the work waits again, and a refusal is remembered."""
        self.store.close_offer(offer, status, now)
        work = self._work(offer.work_id)
        work.agent_id = None
        if refused:
            work.refused_by = work.refused_by | {offer.agent_id}
            if work.target_agent == offer.agent_id:
                work.target_agent = None
        self.store.save_work(work)
        return OfferClosed(offer, status)

    def _expire(self, offer: Offer, now: datetime) -> list[Event]:
        events: list[Event] = [self._close(offer, "expired", now, refused=True)]
        agent = self._agent(offer.agent_id)
        agent.missed_offers += 1
        if agent.missed_offers >= self.policy.missed_offers_before_away and agent.presence == Presence.online:
            agent.presence = Presence.away
            events += self._withdraw_offers(agent, now)
            events.append(AgentSetAway(agent.agent_id, agent.missed_offers))
        self.store.save_agent(agent)
        return events

    def _withdraw_offers(self, agent: AgentState, now: datetime) -> list[Event]:
        return [
            self._close(offer, "withdrawn", now)
            for offer in self.store.pending_offers()
            if offer.agent_id == agent.agent_id
        ]

    def _lose(self, agent: AgentState, now: datetime) -> list[Event]:
        """Start the grace period for an agent who holds conversations and went away unannounced."""
        held = [work.work_id for work in self.store.held_by(agent.agent_id) if work.assigned]
        if not held or agent.lost_at is not None:
            return []
        agent.lost_at = now
        return [AgentLost(agent.agent_id, tuple(held))]

    def _check_agent(self, agent: AgentState, now: datetime) -> list[Event]:
        events: list[Event] = []
        silent = agent.last_heartbeat is None or now - agent.last_heartbeat > self.policy.heartbeat_timeout
        if agent.presence == Presence.online and silent:
            agent.presence = Presence.offline
            events += self._withdraw_offers(agent, now)
            events += self._lose(agent, now)
            self.store.save_agent(agent)
        if agent.lost_at is not None and now - agent.lost_at >= self.policy.grace:
            for work in self.store.held_by(agent.agent_id):
                work.agent_id, work.assigned, work.front = None, False, True
                work.stage, work.stage_since = 0, now
                self.store.save_work(work)
                events.append(Requeued(work.work_id, agent.agent_id))
            agent.lost_at = None
            self.store.save_agent(agent)
        return events

    def _age(self, work: Work, now: datetime) -> list[Event]:
        events: list[Event] = []
        since = work.stage_since or work.queued_at
        if now - since >= self.policy.ring_timeout:
            if work.target_agent is not None:
                reason = f"agent {work.target_agent} did not take the transfer within the ring timeout"
                work.target_agent, work.stage_since = None, now
                events.append(Widened(work.work_id, work.stage, reason))
            elif work.stage < LAST_STAGE:
                work.stage, work.stage_since = work.stage + 1, now
                events.append(Widened(work.work_id, work.stage, "nobody eligible accepted within the ring timeout"))
        waited = now - work.queued_at
        if work.escalated_at is None and waited >= self.policy.max_wait:
            work.escalated_at = now
            events.append(WaitedTooLong(work.work_id, waited, self.expected_wait(work, now)))
        if events:
            self.store.save_work(work)
        return events
