"""Where the router keeps its state: the interface, and the in-memory store.

The application implements the same interface on its database (`app/assignment/store.py`), so the
engine runs unchanged in one process's memory (tests, benchmarks) and across processes sharing
PostgreSQL.
"""

import bisect
import itertools
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from routing.model import AgentState, Decision, Offer, Policy, Presence, Work
from routing.queue import QueueKey, queue_key


class RoutingStore(Protocol):
    def agents(self) -> Iterable[AgentState]:
        """Every agent, by id."""
        ...

    def agents_due(self, silent_since: datetime, lost_by: datetime) -> Iterable[AgentState]:
        """The agents time may change, by id: online but not heard from since `silent_since`, or lost
        at or before `lost_by`. The clock ticks every second; with a thousand agents connected, reading
        every one of them each time held the database for tens of milliseconds."""
        ...

    def loads(self) -> Mapping[int, Mapping[str, int]]:
        """Agent -> channel -> conversations offered to or owned by the agent."""
        ...

    def agent(self, agent_id: int) -> AgentState | None: ...

    def save_agent(self, agent: AgentState) -> None: ...

    def work(self, work_id: str) -> Work | None: ...

    def add_work(self, work: Work) -> None: ...

    def save_work(self, work: Work) -> None: ...

    def remove_work(self, work_id: str) -> None: ...

    def waiting(self, channels: set[str]) -> Iterable[Work]:
        """Work with no offer out, on the given channels, in queue order (`routing.queue`)."""
        ...

    def anything_waiting(self) -> bool:
        """Whether any work has no offer out, on any channel."""
        ...

    def unassigned(self) -> Iterable[Work]:
        """Work waiting or offered (what may widen or wait too long), by arrival then id."""
        ...

    def held_by(self, agent_id: int) -> list[Work]:
        """Work offered to or owned by the agent, by id."""
        ...

    def pending_offers(self) -> Iterable[Offer]:
        """Offers not yet answered, oldest first."""
        ...

    def offer(self, offer_id: int) -> Offer | None: ...

    def open_offer(self, work: Work, agent_id: int, now: datetime, expires_at: datetime) -> Offer: ...

    def close_offer(self, offer: Offer, status: str, now: datetime) -> None: ...

    def record(self, decision: Decision, now: datetime) -> None:
        """Keep a routing decision and its reason for the supervisor."""
        ...

    def assignments_since(self, since: datetime) -> int: ...

    def ahead_of(self, work: Work) -> int:
        """How many waiting items the queue serves before this one."""
        ...

    def flush(self) -> None:
        """The operation finished: write whatever the store held back to write in bulk."""
        ...


class MemoryStore:
    """The routing state in dictionaries, with the waiting work kept sorted by queue key."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._agents: dict[int, AgentState] = {}
        self._works: dict[str, Work] = {}
        self._keys: dict[str, QueueKey] = {}
        self._queue: list[QueueKey] = []
        self._offers: dict[int, Offer] = {}
        self._offer_ids = itertools.count(1)
        self.decisions: list[tuple[datetime, Decision]] = []
        self._assigned_at: list[datetime] = []

    def agents(self) -> Iterable[AgentState]:
        return [self._agents[agent_id] for agent_id in sorted(self._agents)]

    def agents_due(self, silent_since: datetime, lost_by: datetime) -> Iterable[AgentState]:
        return [agent for agent in self.agents() if _due(agent, silent_since, lost_by)]

    def loads(self) -> Mapping[int, Mapping[str, int]]:
        counts: Counter[tuple[int, str]] = Counter(
            (work.agent_id, work.channel) for work in self._works.values() if work.agent_id is not None
        )
        loads: dict[int, dict[str, int]] = {}
        for (agent_id, channel), n in counts.items():
            loads.setdefault(agent_id, {})[channel] = n
        return loads

    def agent(self, agent_id: int) -> AgentState | None:
        return self._agents.get(agent_id)

    def save_agent(self, agent: AgentState) -> None:
        self._agents[agent.agent_id] = agent

    def work(self, work_id: str) -> Work | None:
        return self._works.get(work_id)

    def works(self) -> Iterable[Work]:
        return self._works.values()

    def add_work(self, work: Work) -> None:
        if work.work_id in self._works:
            raise ValueError(f"work {work.work_id!r} is already routed")
        self.save_work(work)

    def save_work(self, work: Work) -> None:
        self._unqueue(work.work_id)
        self._works[work.work_id] = work
        if work.waiting:
            key = queue_key(work, self._policy)
            bisect.insort(self._queue, key)
            self._keys[work.work_id] = key

    def remove_work(self, work_id: str) -> None:
        self._unqueue(work_id)
        self._works.pop(work_id, None)

    def _unqueue(self, work_id: str) -> None:
        key = self._keys.pop(work_id, None)
        if key is not None:
            del self._queue[bisect.bisect_left(self._queue, key)]

    def waiting(self, channels: set[str]) -> Iterable[Work]:
        snapshot = [self._works[key[-1]] for key in self._queue]
        return [work for work in snapshot if work.channel in channels]

    def anything_waiting(self) -> bool:
        return bool(self._queue)

    def unassigned(self) -> Iterable[Work]:
        waiting = [work for work in self._works.values() if not work.assigned]
        return sorted(waiting, key=lambda work: (work.queued_at, work.work_id))

    def held_by(self, agent_id: int) -> list[Work]:
        return sorted((work for work in self._works.values() if work.agent_id == agent_id), key=lambda w: w.work_id)

    def pending_offers(self) -> Iterable[Offer]:
        return [self._offers[offer_id] for offer_id in sorted(self._offers)]

    def offer(self, offer_id: int) -> Offer | None:
        return self._offers.get(offer_id)

    def open_offer(self, work: Work, agent_id: int, now: datetime, expires_at: datetime) -> Offer:
        offer = Offer(next(self._offer_ids), work.work_id, agent_id, now, expires_at)
        self._offers[offer.offer_id] = offer
        work.agent_id = agent_id
        self.save_work(work)
        return offer

    def close_offer(self, offer: Offer, status: str, now: datetime) -> None:
        del self._offers[offer.offer_id]
        if status == "accepted":
            self._assigned_at.append(now)

    def record(self, decision: Decision, now: datetime) -> None:
        self.decisions.append((now, decision))

    def assignments_since(self, since: datetime) -> int:
        return len(self._assigned_at) - bisect.bisect_left(self._assigned_at, since)

    def ahead_of(self, work: Work) -> int:
        key = self._keys.get(work.work_id)
        return bisect.bisect_left(self._queue, key) if key is not None else 0

    def flush(self) -> None:
        pass


def _due(agent: AgentState, silent_since: datetime, lost_by: datetime) -> bool:
    silent = agent.last_heartbeat is None or agent.last_heartbeat < silent_since
    return (agent.presence == Presence.online and silent) or (agent.lost_at is not None and agent.lost_at <= lost_by)
