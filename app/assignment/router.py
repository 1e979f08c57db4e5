"""What supervisors ask of the router over HTTP: why a conversation went where it went, and alerts."""

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from app.assignment import service as assignment
from app.db import run_in_session
from app.deps import CurrentSupervisor, ServicesDep

router = APIRouter(prefix="/api/routing", tags=["routing"])


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
