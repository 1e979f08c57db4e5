"""One customer across channels, for the people helping them: the profile with every identity and
earlier conversation, contact details, and linking two records of the same person."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, StringConstraints
from sqlmodel import Session

from app.api.deps import CurrentAgent, ServicesDep
from app.conversations.models import ConversationPublic, MessagePublic
from app.core.db import run_in_session
from app.customers import service as customers

router = APIRouter(prefix="/api/customers", tags=["customers"])


class IdentityView(BaseModel):
    channel: str
    external_id: str
    created_at: datetime


class Profile(BaseModel):
    id: uuid.UUID
    display_name: str | None
    email: str | None
    email_verified: bool
    phone: str | None
    phone_verified: bool
    identities: list[IdentityView]
    conversations: list[ConversationPublic]
    # Customers linked into this one by this request.
    linked: list[uuid.UUID] = []


class LinkRequest(BaseModel):
    customer_id: uuid.UUID


class ContactRequest(BaseModel):
    email: Annotated[str, StringConstraints(max_length=320)] | None = None
    # Any way of writing it; what is stored is its digits (at most 15, with a +).
    phone: str | None = None
    # The agent checked it (a code sent to it, the customer's account): a verified match links records.
    verified: bool = False


def _profile(session: Session, customer_id: uuid.UUID, linked: list[uuid.UUID] | None = None) -> Profile:
    customer = customers.current(session=session, customer_id=customer_id)
    identities = customers.identities_of(session=session, customer_id=customer.id)
    return Profile(
        id=customer.id,
        display_name=customer.display_name,
        email=customer.email,
        email_verified=customer.email_verified,
        phone=customer.phone,
        phone_verified=customer.phone_verified,
        # A web chat visitor's id is only a random handle, but the channel it names still matters.
        identities=[IdentityView.model_validate(i, from_attributes=True) for i in identities],
        conversations=[
            ConversationPublic.of(c) for c in customers.conversations_of(session=session, customer_id=customer.id)
        ],
        linked=linked or [],
    )


@router.get("/{customer_id}")
async def profile(customer_id: uuid.UUID, services: ServicesDep, _agent: CurrentAgent) -> Profile:
    return await run_in_session(services.open_session, lambda s: _profile(s, customer_id))


@router.get("/{customer_id}/conversations/{conversation_id}/messages")
async def earlier_messages(
    customer_id: uuid.UUID, conversation_id: uuid.UUID, services: ServicesDep, _agent: CurrentAgent
) -> list[MessagePublic]:
    """One of the customer's conversations on any channel, notes included: what was said before."""

    def read(session: Session) -> list[MessagePublic]:
        found = customers.earlier_messages(session=session, customer_id=customer_id, conversation_id=conversation_id)
        return [MessagePublic.of(m) for m in found]

    return await run_in_session(services.open_session, read)


@router.post("/{customer_id}/link")
async def link(customer_id: uuid.UUID, body: LinkRequest, services: ServicesDep, _agent: CurrentAgent) -> Profile:
    """The agent knows two records are the same person: the other's conversations join this one's."""

    def work(session: Session) -> Profile:
        kept = customers.link(session=session, keep_id=customer_id, merge_id=body.customer_id)
        return _profile(session, kept.id, [body.customer_id] if body.customer_id != kept.id else [])

    return await run_in_session(services.open_session, work)


@router.put("/{customer_id}/contact")
async def contact(customer_id: uuid.UUID, body: ContactRequest, services: ServicesDep, _agent: CurrentAgent) -> Profile:
    def work(session: Session) -> Profile:
        kept, linked = customers.set_contact(
            session=session, customer_id=customer_id, email=body.email, phone=body.phone, verified=body.verified
        )
        return _profile(session, kept.id, linked)

    return await run_in_session(services.open_session, work)
