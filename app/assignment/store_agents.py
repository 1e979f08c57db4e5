"""The people table as the router sees it (its agents): `routing.AgentState`, each row loaded once per transaction."""

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import and_, func, or_
from sqlmodel import col, select

from app.assignment.models import WorkItem
from app.assignment.store_rows import StoreRows
from app.people.models import Person
from routing import AgentState, Presence


class AgentRows(StoreRows):
    """Agents read into `AgentState`, their presence written back."""

    _agents: dict[int, tuple[Person, AgentState]]
    _all_agents_loaded: bool

    def agents(self) -> Iterable[AgentState]:
        if not self._all_agents_loaded:
            for row in self._session.exec(select(Person).order_by(col(Person.id))):
                if row.id is not None and row.id not in self._agents:
                    self._agents[row.id] = (row, _agent_state(row))
            self._all_agents_loaded = True
        return [self._agents[agent_id][1] for agent_id in sorted(self._agents)]

    def agents_due(self, silent_since: datetime, lost_by: datetime) -> Iterable[AgentState]:
        silent = or_(col(Person.last_heartbeat_at).is_(None), col(Person.last_heartbeat_at) < silent_since)
        statement = select(Person).where(
            or_(and_(col(Person.presence) == Presence.online, silent), col(Person.lost_at) <= lost_by)
        )
        due = []
        for row in self._session.exec(statement.order_by(col(Person.id))):
            assert row.id is not None
            if row.id not in self._agents:
                self._agents[row.id] = (row, _agent_state(row))
            due.append(self._agents[row.id][1])
        return due

    def agent(self, agent_id: int) -> AgentState | None:
        if agent_id not in self._agents:
            row = self._get(Person, agent_id)
            if row is None:
                return None
            self._agents[agent_id] = (row, _agent_state(row))
        return self._agents[agent_id][1]

    def save_agent(self, agent: AgentState) -> None:
        row, _ = self._agents[agent.agent_id]
        row.presence = agent.presence
        row.last_heartbeat_at = agent.last_heartbeat
        row.lost_at = agent.lost_at
        row.idle_since = agent.idle_since
        row.missed_offers = agent.missed_offers
        self._session.add(row)

    def loads(self) -> Mapping[int, Mapping[str, int]]:
        statement = (
            select(WorkItem.agent_id, WorkItem.channel, func.count())
            .where(col(WorkItem.agent_id).is_not(None))
            .group_by(col(WorkItem.agent_id), col(WorkItem.channel))
        )
        loads: dict[int, dict[str, int]] = {}
        for agent_id, channel, held in self._session.exec(statement):
            assert agent_id is not None
            loads.setdefault(agent_id, {})[channel] = held
        return loads


def _agent_state(row: Person) -> AgentState:
    assert row.id is not None
    return AgentState(
        agent_id=row.id,
        name=row.name,
        skills=row.skills,
        languages=frozenset(row.languages),
        capacity=row.capacity,
        teams=frozenset(row.teams),
        presence=row.presence,
        last_heartbeat=row.last_heartbeat_at,
        lost_at=row.lost_at,
        idle_since=row.idle_since,
        missed_offers=row.missed_offers,
    )
