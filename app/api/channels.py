"""What supervisors see of the social channels: the inbox by status, and replies that could not be
sent (the dead letters), which they can send again once the cause is fixed."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.api.deps import CurrentSupervisor, ServicesDep
from app.core.db import run_in_session
from app.core.errors import NotFound
from app.core.limits import RowId
from app.outbox import sender
from app.outbox.models import OutboxStatus
from app.social import inbox
from app.social.models import InboxStatus

router = APIRouter(prefix="/api/channels", tags=["social channels"])


class InboxEventView(BaseModel):
    id: int
    platform: str
    channel: str
    event_key: str
    status: str
    reason: str | None
    occurred_at: datetime
    received_at: datetime


class OutboxItemView(BaseModel):
    id: int
    platform: str
    kind: str
    conversation_id: Any
    message_id: int | None
    text: str
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime


@router.get("/inbox")
async def inbox_events(
    services: ServicesDep,
    _supervisor: CurrentSupervisor,
    status: Annotated[InboxStatus, Query()] = InboxStatus.unprocessable,
) -> dict[str, Any]:
    def read(session: Any) -> dict[str, Any]:
        events = inbox.listed(session=session, status=status)
        return {
            "counts": inbox.counts(session=session),
            "events": [InboxEventView.model_validate(e, from_attributes=True) for e in events],
        }

    return await run_in_session(services.open_session, read)


@router.get("/outbox")
async def outbox_items(
    services: ServicesDep,
    _supervisor: CurrentSupervisor,
    status: Annotated[OutboxStatus, Query()] = OutboxStatus.dead,
) -> list[OutboxItemView]:
    items = await run_in_session(services.open_session, lambda s: sender.listed(session=s, status=status))
    return [OutboxItemView.model_validate(item, from_attributes=True) for item in items]


@router.post("/outbox/{item_id}/retry")
async def retry_item(item_id: RowId, services: ServicesDep, _supervisor: CurrentSupervisor) -> OutboxItemView:
    item = await run_in_session(services.open_session, lambda s: sender.retry(session=s, item_id=item_id))
    if item is None:
        raise NotFound(f"no dead outbox item {item_id}")
    services.sender.wake()
    return OutboxItemView.model_validate(item, from_attributes=True)
