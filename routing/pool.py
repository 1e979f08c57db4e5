"""The agents and their loads, indexed so that one decision is a handful of set intersections.

Indexes: agents with a free slot per channel, speakers per language, members per team, and for every
skill and level the agents at that level or above. A decision intersects the sets its work needs and
takes the best-ranked agent left; the rank (load relative to capacity, then idle time) is kept per
agent and updated when their load changes.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from routing.eligibility import LAST_STAGE, available, skill_requirements
from routing.model import AgentState, Decision, Policy, Work

_NEVER = datetime.min
MAX_LEVEL = 10
SHOWN_IN_REASON = 10
STAGE_NAMES = ("all skills", "required skills", "lowered levels", "fallback team")

Rank = tuple[float, datetime, int]


class AgentPool:
    """Agents by id with their load per channel. Change agents through `update`, loads through
    `reserve` and `release`, so the indexes follow."""

    def __init__(self, agents: Iterable[AgentState], loads: Mapping[int, Mapping[str, int]] | None = None) -> None:
        self._agents: dict[int, AgentState] = {}
        self._load: defaultdict[int, defaultdict[str, int]] = defaultdict(lambda: defaultdict(int))
        self._rank: dict[int, Rank] = {}
        self._free: defaultdict[str, set[int]] = defaultdict(set)
        self._speaks: defaultdict[str, set[int]] = defaultdict(set)
        self._team: defaultdict[str, set[int]] = defaultdict(set)
        # skill -> level -> agents with that skill at this level or above.
        self._at_least: defaultdict[str, list[set[int]]] = defaultdict(lambda: [set() for _ in range(MAX_LEVEL + 1)])
        for agent_id, by_channel in (loads or {}).items():
            self._load[agent_id].update(by_channel)
        for agent in agents:
            self.update(agent)

    def __iter__(self) -> Iterator[AgentState]:
        return iter(self._agents.values())

    def __len__(self) -> int:
        return len(self._agents)

    def get(self, agent_id: int) -> AgentState | None:
        return self._agents.get(agent_id)

    def load(self, agent_id: int, channel: str) -> int:
        return self._load[agent_id][channel]

    def update(self, agent: AgentState) -> None:
        """Add or replace an agent and re-index them."""
        agent_id = agent.agent_id
        previous = self._agents.get(agent_id)
        if previous is not None:
            for language in previous.languages:
                self._speaks[language].discard(agent_id)
            for team in previous.teams:
                self._team[team].discard(agent_id)
            for skill in previous.skills:
                for holders in self._at_least[skill]:
                    holders.discard(agent_id)
        self._agents[agent_id] = agent
        for language in agent.languages:
            self._speaks[language].add(agent_id)
        for team in agent.teams:
            self._team[team].add(agent_id)
        for skill, level in agent.skills.items():
            levels = self._at_least[skill]
            for at in range(1, min(level, MAX_LEVEL) + 1):
                levels[at].add(agent_id)
        self._reindex(agent_id)

    def reserve(self, agent_id: int, channel: str) -> None:
        self._load[agent_id][channel] += 1
        self._reindex(agent_id)

    def release(self, agent_id: int, channel: str) -> None:
        if self._load[agent_id][channel] <= 0:
            raise ValueError(f"agent {agent_id} holds nothing on {channel!r} to release")
        self._load[agent_id][channel] -= 1
        self._reindex(agent_id)

    def _reindex(self, agent_id: int) -> None:
        agent = self._agents.get(agent_id)
        loads = self._load[agent_id]
        channels = set(loads) | (set(agent.capacity) if agent else set())
        for channel in channels:
            if agent is not None and available(agent, channel, loads[channel]):
                self._free[channel].add(agent_id)
            else:
                self._free[channel].discard(agent_id)
        if agent is not None:
            capacity = sum(agent.capacity.values())
            ratio = sum(loads.values()) / capacity if capacity else 1.0
            self._rank[agent_id] = (ratio, (agent.idle_since or _NEVER).replace(tzinfo=None), agent_id)

    def has_free_slots(self) -> bool:
        return any(self._free.values())

    def free_channels(self) -> set[str]:
        return {channel for channel, agents in self._free.items() if agents}

    def eligible_ids(self, work: Work, policy: Policy) -> set[int]:
        """Every agent eligible for the work at its current stage (see `routing.eligibility`)."""
        free = self._free.get(work.channel, set())
        reachable = free & self._speaks.get(work.language, set())
        if work.target_agent is not None:
            return reachable & {work.target_agent}
        if work.team is not None:
            ids = reachable & self._team.get(work.team, set())
        else:
            ids = reachable
            for skill, level in skill_requirements(work, work.stage, policy).items():
                levels = self._at_least.get(skill)
                ids = ids & levels[max(level, 1)] if levels is not None and level <= MAX_LEVEL else set()
        if work.stage >= LAST_STAGE:
            ids = ids | (free & self._team.get(policy.fallback_team, set()))
        return ids

    def candidates(self, work: Work, policy: Policy) -> list[AgentState]:
        return [self._agents[agent_id] for agent_id in sorted(self.eligible_ids(work, policy))]

    def rank(self, agent: AgentState) -> Rank:
        """Least loaded relative to capacity first, then idle longest, then the lower id."""
        return self._rank[agent.agent_id]

    def choose(self, work: Work, policy: Policy) -> Decision:
        eligible = self.eligible_ids(work, policy)
        stage = f"stage {work.stage} ({STAGE_NAMES[min(work.stage, LAST_STAGE)]})"
        if not eligible:
            return Decision(work.work_id, None, work.stage, (), f"{stage}: nobody eligible")
        fresh = eligible - work.refused_by
        # Those who speak the customer's language first (only the fallback team may not, at the
        # last stage), then the others; someone who refused it only when no one else is left.
        speakers = fresh & self._speaks.get(work.language, set())
        chosen_id = min(speakers or fresh or eligible, key=self._rank.__getitem__)
        chosen = self._agents[chosen_id]
        ids = tuple(sorted(eligible))
        shown = ", ".join(str(i) for i in ids[:SHOWN_IN_REASON]) + (", ..." if len(ids) > SHOWN_IN_REASON else "")
        idle = chosen.idle_since.isoformat(timespec="seconds") if chosen.idle_since else "never assigned"
        used = sum(self._load[chosen_id].values())
        reason = (
            f"{stage}: {len(ids)} eligible [{shown}]; chose {chosen.name or chosen_id} "
            f"(load {used}/{sum(chosen.capacity.values())}, idle since {idle}"
            + ("" if fresh else "; everyone eligible had refused it once")
            + ")"
        )
        return Decision(work.work_id, chosen_id, work.stage, ids, reason)
