"""What the router reasons about: agents, work waiting for one, offers, and the routing policy."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class Presence(StrEnum):
    online = "online"
    away = "away"
    offline = "offline"


@dataclass
class AgentState:
    """One agent as the router sees them. Mutable: the engine updates it and the store saves it."""

    agent_id: int
    name: str = ""
    # Skill name -> level, 1 to 10.
    skills: Mapping[str, int] = field(default_factory=dict)
    languages: frozenset[str] = frozenset({"en"})
    # Channel -> how many conversations of that channel the agent takes at once.
    capacity: Mapping[str, int] = field(default_factory=dict)
    teams: frozenset[str] = frozenset()
    presence: Presence = Presence.offline
    last_heartbeat: datetime | None = None
    # Set when the agent's heartbeat stopped or they went offline while owning conversations; the
    # conversations wait for them until the grace period ends.
    lost_at: datetime | None = None
    # When the agent last received a conversation, or came online: the longest idle goes first.
    idle_since: datetime | None = None
    # Offers in a row the agent let run out; two make them away.
    missed_offers: int = 0

    def handles(self, channel: str) -> bool:
        return self.capacity.get(channel, 0) > 0


@dataclass
class Work:
    """A conversation waiting for a human, or owned by one (then `agent_id` says who)."""

    work_id: str
    channel: str
    queued_at: datetime
    language: str = "en"
    # Skill name -> minimum level.
    required: Mapping[str, int] = field(default_factory=dict)
    optional: Mapping[str, int] = field(default_factory=dict)
    priority: int = 0
    sla_due: datetime | None = None
    # A transfer names a team or one agent; the offer flow is the same.
    team: str | None = None
    target_agent: int | None = None
    # Work given back by a lost agent goes ahead of everything else of its priority.
    front: bool = False
    # Widening stage (see `routing.eligibility`) and when the work entered it.
    stage: int = 0
    stage_since: datetime | None = None
    # Agents who declined or let an offer lapse: passed over while anyone else is eligible.
    refused_by: frozenset[int] = frozenset()
    # Set while an offer is out or once assigned.
    agent_id: int | None = None
    assigned: bool = False
    # When the supervisor was told this work waits too long (once per wait).
    escalated_at: datetime | None = None

    @property
    def waiting(self) -> bool:
        return self.agent_id is None

    @property
    def offered(self) -> bool:
        return self.agent_id is not None and not self.assigned


@dataclass
class Offer:
    offer_id: int
    work_id: str
    agent_id: int
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Policy:
    """The knobs of routing, documented in docs/routing.md."""

    offer_timeout: timedelta = timedelta(seconds=30)
    # How long work stays at one widening stage before the router widens the search.
    ring_timeout: timedelta = timedelta(seconds=60)
    # Waiting this long counts as one priority level, so low-priority work is never starved.
    ageing: timedelta = timedelta(seconds=120)
    # Widening stage 2 lowers every minimum skill level by this much (never below 1).
    level_drop: int = 2
    fallback_team: str = "overflow"
    # After this long waiting, the supervisor is alerted and the customer told the expected wait.
    max_wait: timedelta = timedelta(minutes=10)
    heartbeat_timeout: timedelta = timedelta(seconds=45)
    # A lost agent keeps their conversations this long, to survive a reconnect.
    grace: timedelta = timedelta(seconds=60)
    missed_offers_before_away: int = 2


@dataclass(frozen=True)
class Decision:
    """One routing choice and the reason a supervisor can read later ("why did this go to Maria?")."""

    work_id: str
    agent_id: int | None
    stage: int
    eligible: tuple[int, ...]
    reason: str
