"""Liveness for process supervisors and load balancers."""

from fastapi import APIRouter
from pydantic import BaseModel

from app.deps import ServicesDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    articles_indexed: int


@router.get("/healthz")
def health(services: ServicesDep) -> Health:
    """Answers once start-up finished: the database opened and the knowledge index built."""
    return Health(status="ok", articles_indexed=services.knowledge.size)
