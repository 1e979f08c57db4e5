"""One customer across channels: linked by an agent, or by a verified email or phone they share."""

import uuid

import httpx
import pytest
from sqlmodel import Session

from app.cli.background import LiveServer
from app.core.db import make_engine, session_factory, unit_of_work
from app.core.errors import InvalidInput
from app.core.settings import DEMO_AGENT_TOKEN
from app.customers import service as customers
from app.social.intake import accept
from app.social.platform_events import Inbound


def writes(session: Session, channel: str, sender: str, text: str = "hello") -> tuple[uuid.UUID, uuid.UUID]:
    """A customer writes on a platform; returns (customer id, conversation id)."""
    identity = "x" if channel.startswith("x_") else channel
    inbound = Inbound(
        "x" if identity == "x" else "meta", channel, identity, sender, None, text, {"recipient_id": sender}
    )
    ((conversation, _),) = accept(session=session, inbound=inbound, event_key=f"{channel}:{sender}:{text}")
    session.commit()
    return conversation.customer_id, conversation.id


def test_linking_moves_identities_and_conversations_to_the_kept_customer(session: Session) -> None:
    on_x, x_conversation = writes(session, "x_dm", "42")
    on_messenger, messenger_conversation = writes(session, "messenger", "psid-1")

    kept = customers.link(session=session, keep_id=on_x, merge_id=on_messenger)
    session.commit()

    assert kept.id == on_x
    assert {i.channel for i in customers.identities_of(session=session, customer_id=kept.id)} == {"x", "messenger"}
    conversations = {c.id for c in customers.conversations_of(session=session, customer_id=kept.id)}
    assert conversations == {x_conversation, messenger_conversation}
    assert customers.current(session=session, customer_id=on_messenger).id == kept.id
    # The next Messenger message continues the same conversation, now under the kept customer.
    again, conversation = writes(session, "messenger", "psid-1", "me again")
    assert (again, conversation) == (on_x, messenger_conversation)


def test_a_verified_email_both_share_links_them_and_an_unverified_one_does_not(session: Session) -> None:
    first, _ = writes(session, "x_dm", "43")
    second, _ = writes(session, "instagram", "igsid-9")
    customers.set_contact(session=session, customer_id=first, email="Ada@Example.com", phone=None, verified=True)

    _, unverified = customers.set_contact(
        session=session, customer_id=second, email="ada@example.com", phone=None, verified=False
    )
    assert unverified == []
    kept, linked = customers.set_contact(
        session=session, customer_id=second, email="ada@example.com ", phone=None, verified=True
    )

    assert kept.id == first and linked == [second]
    assert kept.email == "ada@example.com" and kept.email_verified


def test_phone_numbers_match_whatever_their_spelling(session: Session) -> None:
    first, _ = writes(session, "messenger", "psid-2")
    second, _ = writes(session, "x_dm", "44")
    customers.set_contact(session=session, customer_id=first, email=None, phone="+44 7700 900123", verified=True)

    kept, linked = customers.set_contact(
        session=session, customer_id=second, email=None, phone="0044-7700-900-123", verified=True
    )

    assert kept.id == first and kept.phone == "+447700900123" and len(linked) == 1


@pytest.mark.parametrize(("email", "phone", "field"), [("not-an-email", None, "email"), (None, "call me", "phone")])
def test_contact_details_that_are_not_are_refused_naming_the_field(
    session: Session, email: str | None, phone: str | None, field: str
) -> None:
    customer, _ = writes(session, "x_dm", "45")

    with pytest.raises(InvalidInput) as refused:
        customers.set_contact(session=session, customer_id=customer, email=email, phone=phone, verified=True)

    assert refused.value.field == field


async def test_an_agent_sees_every_channel_of_a_linked_customer(live: LiveServer, http: httpx.AsyncClient) -> None:
    web = (await http.post("/api/chat/sessions")).json()["customer_id"]
    engine = make_engine(live.app.state.settings.database_url)
    with unit_of_work(session_factory(engine)) as session:
        on_x, _ = writes(session, "x_dm", "46")
    engine.dispose()
    headers = {"Authorization": f"Bearer {DEMO_AGENT_TOKEN}"}

    linked = await http.post(f"/api/customers/{web}/link", json={"customer_id": str(on_x)}, headers=headers)
    profile = await http.get(f"/api/customers/{on_x}", headers=headers)
    anonymous = await http.get(f"/api/customers/{on_x}")
    missing = await http.get("/api/customers/00000000-0000-0000-0000-000000000000", headers=headers)
    bad = await http.put(f"/api/customers/{on_x}/contact", json={"email": "nope", "verified": True}, headers=headers)

    assert linked.status_code == 200 and linked.json()["linked"] == [str(on_x)]
    assert profile.json()["id"] == web
    assert {i["channel"] for i in profile.json()["identities"]} == {"webchat", "x"}
    assert {c["channel"] for c in profile.json()["conversations"]} == {"webchat", "x_dm"}
    assert anonymous.status_code == 401 and missing.status_code == 404
    assert bad.status_code == 422 and bad.json()["field"] == "email"


async def test_an_agent_reads_what_a_linked_customer_said_on_another_channel(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    web = (await http.post("/api/chat/sessions")).json()["customer_id"]
    engine = make_engine(live.app.state.settings.database_url)
    with unit_of_work(session_factory(engine)) as session:
        on_x, x_conversation = writes(session, "x_dm", "47", "my tent pole snapped on day one")
        _, stranger_conversation = writes(session, "x_dm", "48", "someone else entirely")
    engine.dispose()
    headers = {"Authorization": f"Bearer {DEMO_AGENT_TOKEN}"}
    await http.post(f"/api/customers/{web}/link", json={"customer_id": str(on_x)}, headers=headers)

    earlier = await http.get(f"/api/customers/{web}/conversations/{x_conversation}/messages", headers=headers)
    not_theirs = await http.get(f"/api/customers/{web}/conversations/{stranger_conversation}/messages", headers=headers)

    assert earlier.status_code == 200
    assert earlier.json()[0]["text"] == "my tent pole snapped on day one"
    assert not_theirs.status_code == 404
