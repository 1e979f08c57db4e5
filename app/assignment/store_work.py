"""The work_items table as the router sees it: `routing.Work`, each row loaded once per transaction and
written back only where a field changed."""

import uuid
from collections.abc import Iterable

from sqlalchemy import func
from sqlmodel import col, select

from app.assignment.models import WorkItem
from app.assignment.store_rows import StoreRows
from routing import Work, queue_rank


class WorkRows(StoreRows):
    """Work items read into `Work`, added, saved and removed; the queue read in routing order."""

    _works: dict[str, tuple[WorkItem, Work]]

    def _adopt(self, rows: Iterable[WorkItem]) -> list[Work]:
        works = []
        for row in rows:
            key = str(row.conversation_id)
            if key not in self._works:
                self._works[key] = (row, _work(row))
            works.append(self._works[key][1])
        return works

    def work(self, work_id: str) -> Work | None:
        if work_id not in self._works:
            row = self._get(WorkItem, uuid.UUID(work_id))
            if row is None:
                return None
            self._adopt([row])
        return self._works[work_id][1]

    def add_work(self, work: Work) -> None:
        row = WorkItem(
            conversation_id=uuid.UUID(work.work_id),
            channel=work.channel,
            queued_at=work.queued_at,
            queue_rank=queue_rank(work, self._policy),
        )
        self._works[work.work_id] = (row, work)
        self.save_work(work)

    def save_work(self, work: Work) -> None:
        row, _ = self._works[work.work_id]
        values = {
            "channel": work.channel,
            "language": work.language,
            "required": dict(work.required),
            "optional": dict(work.optional),
            "priority": work.priority,
            "queued_at": work.queued_at,
            "queue_rank": queue_rank(work, self._policy),
            "front": work.front,
            "sla_due": work.sla_due,
            "team": work.team,
            "target_agent_id": work.target_agent,
            "stage": work.stage,
            "stage_since": work.stage_since,
            "refused_by": sorted(work.refused_by),
            "agent_id": work.agent_id,
            "assigned": work.assigned,
            "escalated_at": work.escalated_at,
        }
        # Setting an attribute on a SQLModel row is costly; a routing pass saves thousands of rows
        # of which usually one field changed.
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
        self._session.add(row)

    def remove_work(self, work_id: str) -> None:
        entry = self._works.pop(work_id, None)
        row = entry[0] if entry else self._get(WorkItem, uuid.UUID(work_id))
        if row is not None:
            self._session.delete(row)

    def anything_waiting(self) -> bool:
        statement = select(WorkItem.conversation_id).where(col(WorkItem.agent_id).is_(None)).limit(1)
        return self._session.exec(statement).first() is not None

    def waiting(self, channels: set[str]) -> Iterable[Work]:
        if not channels:
            return []
        statement = (
            select(WorkItem)
            .where(col(WorkItem.agent_id).is_(None), col(WorkItem.channel).in_(channels))
            .order_by(
                col(WorkItem.front).desc(),
                col(WorkItem.queue_rank),
                col(WorkItem.queued_at),
                col(WorkItem.conversation_id),
            )
        )
        return self._adopt(self._session.exec(statement))

    def unassigned(self) -> Iterable[Work]:
        statement = select(WorkItem).where(col(WorkItem.assigned).is_(False))
        rows = self._session.exec(statement.order_by(col(WorkItem.queued_at), col(WorkItem.conversation_id)))
        return sorted(self._adopt(rows), key=lambda work: (work.queued_at, work.work_id))

    def held_by(self, agent_id: int) -> list[Work]:
        rows = self._session.exec(select(WorkItem).where(WorkItem.agent_id == agent_id))
        return sorted(self._adopt(rows), key=lambda work: work.work_id)

    def ahead_of(self, work: Work) -> int:
        rank = queue_rank(work, self._policy)
        statement = (
            select(func.count())
            .select_from(WorkItem)
            .where(
                col(WorkItem.agent_id).is_(None),
                (col(WorkItem.front) > work.front)
                | ((col(WorkItem.front) == work.front) & (col(WorkItem.queue_rank) < rank)),
            )
        )
        return self._session.exec(statement).one()


def _work(row: WorkItem) -> Work:
    return Work(
        work_id=str(row.conversation_id),
        channel=row.channel,
        queued_at=row.queued_at,
        language=row.language,
        required=row.required,
        optional=row.optional,
        priority=row.priority,
        sla_due=row.sla_due,
        team=row.team,
        target_agent=row.target_agent_id,
        front=row.front,
        stage=row.stage,
        stage_since=row.stage_since,
        refused_by=frozenset(row.refused_by),
        agent_id=row.agent_id,
        assigned=row.assigned,
        escalated_at=row.escalated_at,
    )
