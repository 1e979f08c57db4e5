"""Liveness for process supervisors and load balancers, and the assistant's state for supervisors."""

from fastapi import APIRouter
from pydantic import BaseModel

from app.api.deps import ServicesDep

router = APIRouter(tags=["health"])


class AssistantHealth(BaseModel):
    # "open" while Rasa is down: customers get answers from the knowledge base or a person meanwhile.
    circuit: str
    failures_in_a_row: int
    times_opened: int
    open_seconds: float | None


class Health(BaseModel):
    status: str
    articles_indexed: int
    # Published articles whose stored version makes no valid article: customers are answered
    # without them until a knowledge manager publishes a good version (the log names the problem).
    articles_refused: list[str]
    # A hash of the embedding model's graph: differs from the stock one's after `carebridge kb tune`.
    embedding_model: str
    assistant: AssistantHealth


@router.get("/healthz")
def health(services: ServicesDep) -> Health:
    """Answers once start-up finished (the database opened, the knowledge index built), whether or
    not Rasa is up: the service keeps customers answered without it."""
    breaker = services.conversation_flows.bot.breaker
    open_for = breaker.open_for()
    return Health(
        status="ok",
        articles_indexed=services.kb_index.size,
        articles_refused=[refused.slug for refused in services.kb_index.refused],
        embedding_model=services.kb_index.model,
        assistant=AssistantHealth(
            circuit=breaker.state,
            failures_in_a_row=breaker.failures,
            times_opened=breaker.times_opened,
            open_seconds=None if open_for is None else round(open_for, 1),
        ),
    )
