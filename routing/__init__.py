"""Skills-based routing of waiting conversations to human agents.

A library: it imports nothing from `app/` and knows no web framework. State lives behind
`RoutingStore`; `MemoryStore` keeps it in memory, the application keeps it in its database.
"""

from routing.engine import Router, RoutingError
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
from routing.model import AgentState, Decision, Offer, Policy, Presence, Work
from routing.pool import AgentPool
from routing.queue import queue_key, queue_rank, score
from routing.store import MemoryStore, RoutingStore

__all__ = [
    "AgentLost",
    "AgentPool",
    "AgentSetAway",
    "AgentState",
    "Assigned",
    "Decision",
    "Event",
    "MemoryStore",
    "Offer",
    "OfferClosed",
    "OfferMade",
    "Policy",
    "Presence",
    "Requeued",
    "Router",
    "RoutingError",
    "RoutingStore",
    "WaitedTooLong",
    "Widened",
    "Work",
    "queue_key",
    "queue_rank",
    "score",
]
