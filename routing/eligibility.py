"""Who may take a piece of work, at each widening stage.

Stage 0 asks for the required and the optional skills; stage 1 drops the optional ones; stage 2
lowers every minimum level by `Policy.level_drop`; stage 3 also lets the fallback team take it,
whatever their skills (bullseye routing: each ring reaches further out). Until stage 3 only agents
who speak the customer's language may take the work; at stage 3 a fallback agent who does not may
too, since an answer in another language beats none, though `AgentPool.choose` offers it to
one who speaks it first.
"""

from collections.abc import Mapping

from routing.model import AgentState, Policy, Presence, Work

LAST_STAGE = 3


def skill_requirements(work: Work, stage: int, policy: Policy) -> Mapping[str, int]:
    if stage == 0:
        merged = dict(work.optional)
        for skill, level in work.required.items():
            merged[skill] = max(level, merged.get(skill, 0))
        return merged
    if stage == 1:
        return work.required
    return {skill: max(1, level - policy.level_drop) for skill, level in work.required.items()}


def has_skills(agent: AgentState, requirements: Mapping[str, int]) -> bool:
    return all(agent.skills.get(skill, 0) >= level for skill, level in requirements.items())


def available(agent: AgentState, channel: str, load: int) -> bool:
    """Online, not lost, takes this channel, and has a free slot on it."""
    return agent.presence == Presence.online and agent.lost_at is None and load < agent.capacity.get(channel, 0)


def is_eligible(agent: AgentState, work: Work, load: int, policy: Policy) -> bool:
    """Whether the agent may be offered this work now, at the work's current stage."""
    if not available(agent, work.channel, load):
        return False
    if work.target_agent is not None:
        return agent.agent_id == work.target_agent and work.language in agent.languages
    if work.stage >= LAST_STAGE and policy.fallback_team in agent.teams:
        return True
    if work.language not in agent.languages:
        return False
    if work.team is not None:
        return work.team in agent.teams
    return has_skills(agent, skill_requirements(work, work.stage, policy))
