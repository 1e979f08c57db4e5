"""The flows behind the intake, stood in for: what a customer said is stored in one transaction, as
`ConversationFlows.customer_message` stores it, and each message it added is handed to the test
after the commit, where the flows would hand it on to the bot."""

from collections.abc import Callable
from typing import TypeVar

from anyio import CapacityLimiter
from sqlmodel import Session

from app.conversations.models import Message
from app.core.db import SessionFactory, run_in_session
from app.social.intake import CustomerMessage, Stored

T = TypeVar("T")


def customer_message_to(open_session: SessionFactory, hand_on: Callable[[Message], None]) -> CustomerMessage:
    async def customer_message(
        store: Callable[[Session], tuple[T, Stored]], limiter: CapacityLimiter | None = None
    ) -> tuple[T, bool]:
        answer, added = await run_in_session(open_session, store, limiter)
        for _, message in added:
            hand_on(message)
        return answer, bool(added)

    return customer_message
