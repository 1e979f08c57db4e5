"""Customers and their channel identities."""

import uuid

from sqlmodel import Session, select

from app.customers.models import ChannelIdentity, Customer
from app.errors import Unauthorized
from app.security import hash_token, new_token

WEBCHAT = "webchat"


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


def identify(*, session: Session, channel: str, external_id: str, display_name: str | None) -> ChannelIdentity:
    """The identity a platform gives a customer, creating the customer the first time they write."""
    statement = select(ChannelIdentity).where(
        ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
    )
    identity = session.exec(statement).first()
    if identity is not None:
        return identity
    customer = Customer(display_name=display_name)
    session.add(customer)
    session.flush()
    identity = ChannelIdentity(customer_id=customer.id, channel=channel, external_id=external_id)
    session.add(identity)
    session.flush()
    return identity
