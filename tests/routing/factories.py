"""Agents and work for routing tests, with everything not under test set to something harmless."""

import itertools
from datetime import UTC, datetime

from routing import AgentState, Presence, Work

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)


def agent(agent_id: int, **fields: object) -> AgentState:
    defaults: dict[str, object] = {
        "name": f"agent-{agent_id}",
        "presence": Presence.online,
        "capacity": {"webchat": 3},
        "last_heartbeat": T0,
    }
    return AgentState(agent_id=agent_id, **{**defaults, **fields})  # type: ignore[arg-type]


def work(**fields: object) -> Work:
    defaults: dict[str, object] = {"work_id": f"w{next(_ids)}", "channel": "webchat", "queued_at": T0}
    return Work(**{**defaults, **fields})  # type: ignore[arg-type]
