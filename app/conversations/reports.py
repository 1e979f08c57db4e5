"""What supervisors read about conversations as a whole: how satisfied customers were."""

from datetime import datetime, timedelta

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from app.conversations.models import Conversation
from app.db import run_in_session
from app.deps import CurrentSupervisor, ServicesDep
from app.timestamps import utcnow

router = APIRouter(prefix="/api/reports", tags=["reports"])


class Satisfaction(BaseModel):
    since: datetime
    rated: int
    # Mean rating, 1 to 5; null when nobody rated in the period.
    average: float | None
    # How many gave each rating, "1" to "5".
    distribution: dict[str, int]


def satisfaction(*, session: Session, since: datetime) -> Satisfaction:
    rows = session.exec(
        select(Conversation.csat_score, func.count())
        .where(col(Conversation.csat_score).is_not(None), col(Conversation.csat_at) >= since)
        .group_by(col(Conversation.csat_score))
    ).all()
    distribution = {str(score): 0 for score in range(1, 6)}
    for score, count in rows:
        distribution[str(score)] = int(count)
    rated = sum(distribution.values())
    total = sum(int(score) * count for score, count in distribution.items())
    return Satisfaction(
        since=since, rated=rated, average=round(total / rated, 2) if rated else None, distribution=distribution
    )


@router.get("/satisfaction")
async def satisfaction_report(
    services: ServicesDep, _: CurrentSupervisor, days: int = Query(default=7, ge=1, le=366)
) -> Satisfaction:
    """Ratings customers gave after a person resolved their conversation, over the last `days` days."""
    since = utcnow() - timedelta(days=days)
    return await run_in_session(services.open_session, lambda s: satisfaction(session=s, since=since))
