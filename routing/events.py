"""What the router tells the application after each operation: offers to send, people to alert."""

from dataclasses import dataclass
from datetime import timedelta

from routing.model import Decision, Offer


@dataclass(frozen=True)
class OfferMade:
    offer: Offer
    decision: Decision


@dataclass(frozen=True)
class OfferClosed:
    """An offer ended without an accept: declined, expired, or withdrawn (the agent left)."""

    offer: Offer
    status: str


@dataclass(frozen=True)
class Assigned:
    work_id: str
    agent_id: int


@dataclass(frozen=True)
class Widened:
    work_id: str
    stage: int
    reason: str


@dataclass(frozen=True)
class AgentSetAway:
    """The agent let offers run out in a row; the supervisor is told."""

    agent_id: int
    missed_offers: int


@dataclass(frozen=True)
class AgentLost:
    """Heartbeat stopped or the agent went offline; their conversations wait for the grace period."""

    agent_id: int
    holding: tuple[str, ...]


@dataclass(frozen=True)
class Requeued:
    """The grace period ended: the conversation is back at the front of the queue."""

    work_id: str
    agent_id: int


@dataclass(frozen=True)
class WaitedTooLong:
    """Work reached the maximum wait: alert the supervisor, tell the customer the expected wait."""

    work_id: str
    waited: timedelta
    expected_wait: timedelta | None


Event = OfferMade | OfferClosed | Assigned | Widened | AgentSetAway | AgentLost | Requeued | WaitedTooLong
