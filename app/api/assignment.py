"""What supervisors ask of the router over HTTP: the queues and people now, why a conversation went
where it went, alerts, and moving a conversation to someone else."""

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import Session

from app.api.agent_commands import TransferTarget
from app.api.deps import CurrentSupervisor, ServicesDep
from app.assignment import service as assignment
from app.assignment.overview import Overview, overview
from app.core.db import run_in_session
from app.core.timestamps import utcnow

router = APIRouter(prefix="/api/assignment", tags=["assignment"])


class DecisionPublic(BaseModel):
    agent_id: int | None
    stage: int
    eligible: list[int]
    reason: str
    decided_at: datetime


class AlertPublic(BaseModel):
    id: int
    kind: str
    conversation_id: uuid.UUID | None
    agent_id: int | None
    message: str
    created_at: datetime


@router.get("/conversations/{conversation_id}/decisions")
async def decisions(conversation_id: uuid.UUID, services: ServicesDep, _: CurrentSupervisor) -> list[DecisionPublic]:
    """Every routing decision about a conversation, oldest first, each with who was eligible and why."""
    found = await run_in_session(
        services.open_session, lambda s: assignment.decisions_for(session=s, conversation_id=conversation_id)
    )
    return [DecisionPublic.model_validate(d, from_attributes=True) for d in found]


@router.get("/alerts")
async def alerts(services: ServicesDep, _: CurrentSupervisor) -> list[AlertPublic]:
    """Alerts no supervisor has acknowledged yet: work waiting too long, agents who stopped answering."""
    found = await run_in_session(services.open_session, lambda s: assignment.open_alerts(session=s))
    return [AlertPublic.model_validate(a, from_attributes=True) for a in found]


@router.get("/overview")
async def queues_and_people(services: ServicesDep, _: CurrentSupervisor) -> Overview:
    """Live queues by channel and skill (waiting, oldest wait, SLA at risk or breached) and each
    person's status, load against capacity, open offers and conversations."""
    sla = services.assignment_flows.sla
    return await run_in_session(services.open_session, lambda s: overview(session=s, now=utcnow(), sla=sla))


@router.post("/conversations/{conversation_id}/reassign")
async def reassign(
    conversation_id: uuid.UUID, body: TransferTarget, services: ServicesDep, supervisor: CurrentSupervisor
) -> dict[str, str]:
    """Move a conversation from the agent who has it to another agent or a team, as a transfer the
    owner made (the receiver gets an offer with the note); for chats stuck with someone who left."""
    policy = services.assignment_flows.policy

    def move(session: Session) -> assignment.Outcome:
        return assignment.reassign(
            session=session,
            policy=policy,
            conversation_id=conversation_id,
            by=supervisor.name,
            now=utcnow(),
            to_agent=body.to_agent_id,
            to_team=body.to_team,
            note=body.note,
        )

    await services.assignment_flows.run(move)
    return {"conversation_id": str(conversation_id)}
