"""The long-lived objects of one service process, created once at start-up and shared by requests."""

from dataclasses import dataclass

import httpx
from anyio import CapacityLimiter
from sqlalchemy import Engine

from app.core.db import SessionFactory
from app.core.settings import Settings
from app.flows.assignment import AssignmentFlows
from app.flows.conversations import ConversationFlows
from app.kb.live import LiveIndex
from app.outbox.sender import Sender
from app.realtime.hub import Hub
from app.social.intake import Intake


@dataclass(frozen=True)
class Lane:
    """Database sessions and threads of their own, so work in one lane never waits for another's:
    webhook acknowledgements stay quick while the background works through a burst."""

    engine: Engine
    open_session: SessionFactory
    limiter: CapacityLimiter


@dataclass
class Services:
    settings: Settings
    engine: Engine
    open_session: SessionFactory
    http: httpx.AsyncClient
    hub: Hub
    kb_index: LiveIndex
    assignment_flows: AssignmentFlows
    conversation_flows: ConversationFlows
    intake: Intake
    sender: Sender
    # Storing what platforms deliver, before the 200 they wait for.
    ingest: Lane
