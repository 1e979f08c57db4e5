"""Every table of the service, imported in one place so migrations see the whole schema."""

from sqlmodel import SQLModel

from app.accounts.models import LoginAttempt, WebSession
from app.assignment.models import Alert, Offer, RoutingDecision, WorkItem
from app.canned.models import CannedResponse
from app.conversations.models import Conversation, Message
from app.customers.models import ChannelIdentity, Customer
from app.kb.models import (
    AnswerRecord,
    ArticleRecord,
    ArticleVersion,
    KnowledgeModel,
    KnowledgeState,
    UnansweredQuestion,
)
from app.outbox.models import OutboxItem
from app.people.models import Person
from app.realtime.models import AgentEvent
from app.social.models import InboxEvent
from app.webchat.models import WebchatRequest

metadata = SQLModel.metadata

__all__ = [
    "AgentEvent",
    "Alert",
    "AnswerRecord",
    "ArticleRecord",
    "ArticleVersion",
    "CannedResponse",
    "ChannelIdentity",
    "Conversation",
    "Customer",
    "InboxEvent",
    "KnowledgeModel",
    "KnowledgeState",
    "LoginAttempt",
    "Message",
    "Offer",
    "OutboxItem",
    "Person",
    "RoutingDecision",
    "UnansweredQuestion",
    "WebSession",
    "WebchatRequest",
    "WorkItem",
    "metadata",
]
