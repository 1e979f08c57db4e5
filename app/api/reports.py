"""What supervisors read about conversations as a whole, over HTTP: how satisfied customers were."""

from datetime import timedelta

from fastapi import APIRouter, Query

from app.api.deps import CurrentSupervisor, ServicesDep
from app.conversations.reports import Satisfaction, satisfaction
from app.core.db import run_in_session
from app.core.timestamps import utcnow

router = APIRouter(prefix="/api/reports", tags=["reports"])


@router.get("/satisfaction")
async def satisfaction_report(
    services: ServicesDep, _: CurrentSupervisor, days: int = Query(default=7, ge=1, le=366)
) -> Satisfaction:
    """Ratings customers gave after a person resolved their conversation, over the last `days` days."""
    since = utcnow() - timedelta(days=days)
    return await run_in_session(services.open_session, lambda s: satisfaction(session=s, since=since))
