"""What supervisors read about conversations as a whole: how satisfied customers were (served by
app/api/reports.py)."""

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, func, select

from app.conversations.models import Conversation


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
