"""Customers and their channel identities."""

import re
import uuid

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.conversations import service as conversations
from app.conversations.models import Conversation, Message
from app.core.channel_names import WEBCHAT
from app.core.errors import ConversationNotFound, InvalidInput, NotFound, Unauthorized
from app.core.security import hash_token, new_token
from app.customers.models import ChannelIdentity, Customer
from app.privacy.masking import EMAIL


def create_webchat_visitor(*, session: Session, display_name: str | None) -> tuple[ChannelIdentity, str]:
    """A new web chat visitor and the bearer token that proves it is them; the token is shown once."""
    customer = Customer(display_name=display_name)
    session.add(customer)
    session.flush()
    token = new_token()
    identity = ChannelIdentity(
        customer_id=customer.id,
        channel=WEBCHAT,
        external_id=uuid.uuid4().hex,
        secret_hash=hash_token(token),
    )
    session.add(identity)
    session.flush()
    return identity, token


def authenticate_webchat(*, session: Session, token: str) -> ChannelIdentity:
    statement = select(ChannelIdentity).where(
        ChannelIdentity.channel == WEBCHAT, ChannelIdentity.secret_hash == hash_token(token)
    )
    identity = session.exec(statement).first()
    if identity is None:
        raise Unauthorized("unknown or expired web chat token")
    return identity


def get(*, session: Session, customer_id: uuid.UUID) -> Customer | None:
    return session.get(Customer, customer_id)


def find_identity(*, session: Session, channel: str, external_id: str) -> ChannelIdentity | None:
    statement = select(ChannelIdentity).where(
        ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
    )
    return session.exec(statement).first()


def identify(*, session: Session, channel: str, external_id: str, display_name: str | None) -> ChannelIdentity:
    """The identity a platform gives a customer, creating the customer the first time they write."""
    identity = find_identity(session=session, channel=channel, external_id=external_id)
    if identity is not None:
        return identity
    customer = Customer(display_name=display_name)
    session.add(customer)
    session.flush()
    identity = ChannelIdentity(customer_id=customer.id, channel=channel, external_id=external_id)
    session.add(identity)
    session.flush()
    return identity


def add_identity(*, session: Session, customer_id: uuid.UUID, channel: str, external_id: str) -> bool:
    """Give the customer one more platform identity; False if that identity is someone's already."""
    if find_identity(session=session, channel=channel, external_id=external_id) is not None:
        return False
    try:
        # In a savepoint: the same identity made meanwhile by a message from it must not undo the
        # caller's work (the outbox recording a reply as sent).
        with session.begin_nested():
            session.add(ChannelIdentity(customer_id=customer_id, channel=channel, external_id=external_id))
    except IntegrityError:
        return False
    return True


def current(*, session: Session, customer_id: uuid.UUID) -> Customer:
    """The customer, following links: someone linked into another is that other customer now."""
    customer = session.get(Customer, customer_id)
    seen = set()
    while customer is not None and customer.merged_into is not None and customer.id not in seen:
        seen.add(customer.id)
        customer = session.get(Customer, customer.merged_into)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    return customer


def link(*, session: Session, keep_id: uuid.UUID, merge_id: uuid.UUID) -> Customer:
    """The same person known twice: `merge_id`'s identities and conversations move to `keep_id`."""
    keep = current(session=session, customer_id=keep_id)
    merge = current(session=session, customer_id=merge_id)
    if keep.id == merge.id:
        return keep
    for identity in session.exec(select(ChannelIdentity).where(ChannelIdentity.customer_id == merge.id)):
        identity.customer_id = keep.id
        session.add(identity)
    for conversation in session.exec(select(Conversation).where(Conversation.customer_id == merge.id)):
        conversation.customer_id = keep.id
        session.add(conversation)
    for field in ("display_name", "email", "phone"):
        if getattr(keep, field) is None and getattr(merge, field) is not None:
            setattr(keep, field, getattr(merge, field))
    keep.email_verified = keep.email_verified or (merge.email_verified and keep.email == merge.email)
    keep.phone_verified = keep.phone_verified or (merge.phone_verified and keep.phone == merge.phone)
    merge.merged_into = keep.id
    session.add_all([keep, merge])
    session.flush()
    return keep


def normalized_email(value: str) -> str:
    email = value.strip().lower()
    if not EMAIL.fullmatch(email):
        raise InvalidInput(f"{value!r} is not an email address", field="email")
    return email


def normalized_phone(value: str) -> str:
    digits = re.sub(r"[^\d+]", "", value.strip())
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not re.fullmatch(r"\+?\d{7,15}", digits):
        raise InvalidInput(f"{value!r} is not a phone number", field="phone")
    return digits


def set_contact(
    *, session: Session, customer_id: uuid.UUID, email: str | None, phone: str | None, verified: bool
) -> tuple[Customer, list[uuid.UUID]]:
    """Record contact details; a verified one that another customer has verified links the two (the
    older customer is kept). Returns the customer and the ids linked into it."""
    customer = current(session=session, customer_id=customer_id)
    if email is not None:
        customer.email, customer.email_verified = normalized_email(email), verified
    if phone is not None:
        customer.phone, customer.phone_verified = normalized_phone(phone), verified
    session.add(customer)
    session.flush()
    matches: list[Customer] = []
    if customer.email and customer.email_verified:
        matches += session.exec(select(Customer).where(Customer.email == customer.email, col(Customer.email_verified)))
    if customer.phone and customer.phone_verified:
        matches += session.exec(select(Customer).where(Customer.phone == customer.phone, col(Customer.phone_verified)))
    linked = []
    for other in sorted({m.id: m for m in matches}.values(), key=lambda c: c.created_at):
        if other.merged_into is None and other.id != customer.id:
            older, newer = (other, customer) if other.created_at <= customer.created_at else (customer, other)
            customer = link(session=session, keep_id=older.id, merge_id=newer.id)
            linked.append(newer.id)
    return customer, linked


def identities_of(*, session: Session, customer_id: uuid.UUID) -> list[ChannelIdentity]:
    statement = select(ChannelIdentity).where(ChannelIdentity.customer_id == customer_id)
    return list(session.exec(statement.order_by(col(ChannelIdentity.created_at))))


def conversations_of(*, session: Session, customer_id: uuid.UUID) -> list[Conversation]:
    statement = select(Conversation).where(Conversation.customer_id == customer_id)
    return list(session.exec(statement.order_by(col(Conversation.created_at).desc())))


def earlier_messages(*, session: Session, customer_id: uuid.UUID, conversation_id: uuid.UUID) -> list[Message]:
    """One of the customer's conversations on any channel, notes included: what was said before.
    Refused as not found when the conversation is not theirs."""
    customer = current(session=session, customer_id=customer_id)
    if conversation_id not in {c.id for c in conversations_of(session=session, customer_id=customer.id)}:
        raise ConversationNotFound(f"customer {customer_id} has no conversation {conversation_id}")
    return conversations.history(session=session, conversation_id=conversation_id, include_internal=True)
