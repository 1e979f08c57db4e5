"""Meta and X webhooks in their documented formats, through the inbox and the bot to the outbox, with
the platforms stood in for by a local fake that records every call."""

import asyncio
import hashlib
import hmac
import time
from base64 import b64encode
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import Session, col, select

from app.cli.background import LiveServer
from app.conversations import messages
from app.conversations.models import Author, Conversation, Message
from app.core.db import make_engine, session_factory, unit_of_work
from app.customers import service as customers
from app.outbox.models import OutboxItem, OutboxStatus
from app.people.models import Role
from app.social.models import InboxEvent, InboxStatus
from app.social.signatures import meta_signature
from bench import platform_payloads as p
from bench.platform_standin import X_PREFIX, FakePlatforms, Planned
from tests.support import factories
from tests.support.waits import until_quiet

NOW_MS = int(time.time() * 1000)


def database(live: LiveServer) -> Session:
    engine = make_engine(live.app.state.settings.database_url)
    return session_factory(engine)()


def messages_of(live: LiveServer, channel: str) -> list[Message]:
    with database(live) as session:
        statement = (
            select(Message)
            .join(Conversation, col(Conversation.id) == col(Message.conversation_id))
            .where(Conversation.channel == channel)
            .order_by(col(Message.conversation_id), col(Message.seq))
        )
        return list(session.exec(statement))


def inbox_events(live: LiveServer) -> list[InboxEvent]:
    with database(live) as session:
        return list(session.exec(select(InboxEvent).order_by(col(InboxEvent.id))))


def outbox_items(live: LiveServer) -> list[OutboxItem]:
    with database(live) as session:
        return list(session.exec(select(OutboxItem).order_by(col(OutboxItem.id))))


async def eventually(check: Callable[[], bool | Awaitable[bool]], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds:.0f} s")
        await asyncio.sleep(0.1)


async def post_meta(http: httpx.AsyncClient, delivery: dict[str, Any], secret: str = p.META_SECRET) -> httpx.Response:
    body, headers = p.signed_meta(delivery, secret)
    return await http.post("/webhooks/meta", content=body, headers=headers)


async def post_x(http: httpx.AsyncClient, delivery: dict[str, Any], secret: str = p.X_SECRET) -> httpx.Response:
    body, headers = p.signed_x(delivery, secret)
    return await http.post("/webhooks/x", content=body, headers=headers)


# Handshakes


async def test_meta_verification_echoes_the_challenge_for_the_right_token(http: httpx.AsyncClient) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    right = await http.get("/webhooks/meta", params=query)
    wrong = await http.get("/webhooks/meta", params={**query, "hub.verify_token": "guess"})
    no_mode = await http.get("/webhooks/meta", params={"hub.challenge": "1"})

    assert (right.status_code, right.text) == (200, "1158201444")
    assert wrong.status_code == 403 and "verify_token" in wrong.json()["detail"]
    assert no_mode.status_code == 422


async def test_x_crc_answers_with_the_hmac_of_the_token(http: httpx.AsyncClient) -> None:
    response = await http.get("/webhooks/x", params={"crc_token": "challenge-abc"})
    missing = await http.get("/webhooks/x")

    expected = b64encode(hmac.new(p.X_SECRET.encode(), b"challenge-abc", hashlib.sha256).digest()).decode()
    assert response.json() == {"response_token": f"sha256={expected}"}
    assert missing.status_code == 422


# Signatures


async def test_unsigned_or_wrongly_signed_deliveries_get_401_and_store_nothing(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    delivery = p.page(p.dm("m_sig", "psid-1", "hello", NOW_MS))
    body, headers = p.signed_meta(delivery)
    other_body, _ = p.signed_meta(p.page(p.dm("m_other", "psid-1", "other", NOW_MS)))

    missing = await http.post("/webhooks/meta", content=body, headers={"Content-Type": "application/json"})
    wrong_secret = await post_meta(http, delivery, secret="not-the-secret")
    other = await http.post("/webhooks/meta", content=other_body, headers=headers)
    x_wrong = await post_x(http, p.x_dm("1", "42", "hi", NOW_MS), secret="nope")

    assert [r.status_code for r in (missing, wrong_secret, other, x_wrong)] == [401, 401, 401, 401]
    assert inbox_events(live) == []


async def test_malformed_json_and_foreign_envelopes_get_4xx(live: LiveServer, http: httpx.AsyncClient) -> None:
    body = b'{"object": "page", "entry": ['
    headers = {"X-Hub-Signature-256": meta_signature(p.META_SECRET, body)}
    malformed = await http.post("/webhooks/meta", content=body, headers=headers)
    foreign = await post_meta(http, {"object": "whatsapp_business_account", "entry": []})
    x_foreign = await post_x(http, {"hello": "world"})

    assert malformed.status_code == 400 and "not JSON" in malformed.json()["detail"]
    assert foreign.status_code == 422 and foreign.json()["field"] == "object"
    assert x_foreign.status_code == 422
    assert inbox_events(live) == []


# Messenger and Instagram DMs


async def test_a_messenger_dm_is_answered_once_even_when_delivered_twice(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    delivery = p.page(p.dm("m_first", "psid-7", "How long does shipping take?", NOW_MS))

    first = await post_meta(http, delivery)
    again = await post_meta(http, delivery)
    await eventually(lambda: len(fake.posts("/me/messages")) >= 1, "the bot's reply to reach Messenger")
    await until_quiet(live.app.state.settings.database_url)

    assert first.json() == {"received": 1, "new": 1} and again.json() == {"received": 1, "new": 0}
    (sent,) = fake.posts("/me/messages")
    assert sent.body["recipient"] == {"id": "psid-7"} and sent.body["messaging_type"] == "RESPONSE"
    assert sent.headers["authorization"] == "Bearer page-token"
    stored = messages_of(live, "messenger")
    assert [m.author for m in stored if not m.internal][:2] == [Author.customer, Author.bot]
    assert sum(m.author == Author.customer for m in stored) == 1
    assert sent.text == next(m.text for m in stored if m.author == Author.bot)


async def test_echoes_reads_and_deliveries_are_recorded_never_answered(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    delivery = p.page(
        p.dm("m_echo", "psid-8", "Our own reply", NOW_MS, echo=True),
        p.read("psid-8", NOW_MS),
        p.delivery("psid-8", NOW_MS),
    )

    response = await post_meta(http, delivery)
    await until_quiet(live.app.state.settings.database_url)

    assert response.json() == {"received": 3, "new": 3}
    assert {e.status for e in inbox_events(live)} == {InboxStatus.ignored}
    assert messages_of(live, "messenger") == [] and fake.calls == []


async def test_quick_replies_postbacks_and_instagram_dms_become_messages(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    await post_meta(http, p.page(p.quick_reply("m_q", "psid-9", "Yes", "AFFIRM", NOW_MS)))
    await post_meta(http, p.page(p.postback("m_pb", "psid-9", "Talk to a person", "HANDOFF", NOW_MS + 1)))
    await post_meta(http, p.page(p.dm("m_ig", "igsid-1", "Do you ship abroad?", NOW_MS), obj="instagram"))

    await eventually(lambda: len(messages_of(live, "instagram")) >= 2, "the Instagram DM to be answered")
    await eventually(
        lambda: sum(m.author == Author.customer for m in messages_of(live, "messenger")) == 2, "both Messenger events"
    )
    texts = [m.text for m in messages_of(live, "messenger") if m.author == Author.customer]
    assert texts == ["Yes", "Talk to a person"]


async def test_an_unknown_event_is_kept_as_unprocessable_and_does_not_block_the_others(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    strange = {"sender": {"id": "psid-10"}, "recipient": {"id": p.PAGE_ID}, "timestamp": NOW_MS, "optin": {}}
    delivery = p.page(strange, p.dm("m_after", "psid-10", "Where is my parcel?", NOW_MS + 5))

    response = await post_meta(http, delivery)
    await eventually(lambda: len(messages_of(live, "messenger")) >= 2, "the good event to be answered")

    assert response.status_code == 200
    unprocessable = [e for e in inbox_events(live) if e.status == InboxStatus.unprocessable]
    assert len(unprocessable) == 1 and "no message, postback" in (unprocessable[0].reason or "")


async def test_messages_follow_the_platforms_time_order_not_the_arrival_order(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    later = p.page(p.dm("m_2", "psid-11", "second", NOW_MS + 2_000))
    earlier = p.page(p.dm("m_1", "psid-11", "first", NOW_MS + 1_000))

    await post_meta(http, later)
    await post_meta(http, earlier)
    await eventually(
        lambda: sum(m.author == Author.customer for m in messages_of(live, "messenger")) == 2, "both messages"
    )

    texts = [m.text for m in messages_of(live, "messenger") if m.author == Author.customer]
    assert texts == ["first", "second"]


# X


async def test_an_x_dm_is_answered_by_dm_and_the_brands_own_dm_is_not(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    own = p.x_dm("900", p.BRAND_X_ID, "We replied", NOW_MS)
    await post_x(http, own)
    await post_x(http, p.x_dm("901", "42", "What are your opening hours?", NOW_MS + 1))

    await eventually(lambda: len(fake.posts("/dm_conversations/")) >= 1, "the DM reply")

    (sent,) = fake.posts("/dm_conversations/")
    assert sent.path == f"{X_PREFIX}/2/dm_conversations/with/42/messages"
    assert sent.headers["authorization"] == "Bearer x-token" and sent.body["text"]
    assert [e.status for e in inbox_events(live)] == [InboxStatus.ignored, InboxStatus.processed]


async def test_a_public_mention_is_answered_in_public_under_the_tweet(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    mention = p.tweet("1700000000000000001", "77", "@kestrel do you ship to Canada?", NOW_MS)
    await post_x(http, p.x_tweets(mention, p.tweet("1700000000000000002", p.BRAND_X_ID, "Our news", NOW_MS)))

    await eventually(lambda: len(fake.posts("/2/tweets")) >= 1, "the public reply")

    (reply,) = fake.posts("/2/tweets")
    assert reply.body["reply"] == {"in_reply_to_tweet_id": "1700000000000000001"}
    assert len(reply.body["text"]) <= 280
    (customer,) = [m for m in messages_of(live, "x_mention") if m.author == Author.customer]
    assert customer.text == "do you ship to Canada?"


# Public to private


async def test_a_public_mention_with_a_card_number_moves_to_a_dm_and_is_masked(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    text = "@kestrel I was charged twice on card 4111 1111 1111 1111, call me on +44 7700 900123"
    await post_x(http, p.x_tweets(p.tweet("1700000000000000003", "78", text, NOW_MS)))

    await eventually(lambda: len(fake.posts("/2/tweets")) == 1, "the public invitation to a DM")
    await eventually(lambda: len(fake.posts("/dm_conversations/")) >= 1, "the private reply by DM")

    (public_reply,) = fake.posts("/2/tweets")
    assert "DM" in public_reply.body["text"] and not any(c.isdigit() for c in public_reply.body["text"])
    dm = fake.posts("/dm_conversations/")[0]
    assert dm.path.endswith("/with/78/messages")
    public = [m for m in messages_of(live, "x_mention") if m.author == Author.customer]
    private = [m for m in messages_of(live, "x_dm") if m.author == Author.customer]
    for stored in (*public, *private):
        assert "4111" not in stored.text and "7700" not in stored.text and "[card]" in stored.text
        assert stored.payload and set(stored.payload["masked"]["kinds"]) == {"card", "phone"}
    assert private[0].payload and private[0].payload["from_public"]["link"].endswith("/status/1700000000000000003")


async def test_a_facebook_comment_with_an_email_gets_a_private_reply(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    comment = p.feed_comment("555_901", "fb-user-1", "Ada", "My refund never came, I'm ada@example.com", NOW_MS // 1000)
    await post_meta(http, p.page(changes=[comment]))

    await eventually(lambda: len(fake.posts("/me/messages")) >= 1, "the private reply to the comment")

    public = fake.posts("/555_901/comments")
    assert len(public) == 1 and "@" not in public[0].text
    private = fake.posts("/me/messages")[0]
    assert private.body["recipient"] == {"comment_id": "555_901"}


async def test_a_commenter_who_answers_the_private_reply_in_messenger_continues_the_same_case(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    fake.commenters["555_902"] = "psid-ada"
    comment = p.feed_comment("555_902", "fb-user-2", "Ada", "My refund never came, I'm ada@example.com", NOW_MS // 1000)
    await post_meta(http, p.page(changes=[comment]))
    await eventually(lambda: len(fake.posts("/me/messages")) >= 1, "the private reply to the comment")
    await eventually(lambda: all(i.status == OutboxStatus.sent for i in outbox_items(live)), "every reply recorded")

    await post_meta(http, p.page(p.dm("m_answer", "psid-ada", "Order 48213, thanks", NOW_MS + 60_000)))
    await eventually(lambda: len(fake.posts("/me/messages")) >= 2, "the answer in Messenger")

    customer_messages = [m for m in messages_of(live, "messenger") if m.author == Author.customer]
    assert len({m.conversation_id for m in customer_messages}) == 1, "one private conversation, not two"
    assert [m.text for m in customer_messages] == ["My refund never came, I'm [email]", "Order 48213, thanks"]
    with database(live) as session:
        conversation = session.get(Conversation, customer_messages[0].conversation_id)
        assert conversation is not None
        identities = {
            (i.channel, i.external_id)
            for i in customers.identities_of(session=session, customer_id=conversation.customer_id)
        }
    assert identities == {("facebook", "fb-user-2"), ("messenger", "psid-ada")}
    answer = fake.posts("/me/messages")[-1]
    assert answer.body["recipient"] == {"id": "psid-ada"}, "the case goes on as an ordinary Messenger chat"


async def test_a_commenter_already_known_in_messenger_is_linked_and_their_answer_continues_the_case(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    await post_meta(http, p.page(p.dm("m_earlier", "psid-bea", "Do you ship to Spain?", NOW_MS)))
    await eventually(lambda: len(fake.posts("/me/messages")) >= 1, "the answer to the earlier Messenger chat")
    fake.commenters["555_903"] = "psid-bea"
    comment = p.feed_comment("555_903", "fb-user-3", "Bea", "Still no refund, bea@example.com", NOW_MS // 1000 + 60)
    await post_meta(http, p.page(changes=[comment]))
    await eventually(lambda: len(fake.posts("/me/messages")) >= 2, "the private reply to the comment")
    await eventually(lambda: all(i.status == OutboxStatus.sent for i in outbox_items(live)), "every reply recorded")

    await post_meta(http, p.page(p.dm("m_answer_bea", "psid-bea", "Order 48213, thanks", NOW_MS + 120_000)))
    await eventually(lambda: len(fake.posts("/me/messages")) >= 3, "the answer in Messenger")

    said = {m.text: m.conversation_id for m in messages_of(live, "messenger") if m.author == Author.customer}
    case = said["Still no refund, [email]"]
    assert said["Order 48213, thanks"] == case, "the answer continues the case, not the earlier chat"
    assert said["Do you ship to Spain?"] != case
    with database(live) as session:
        conversation = session.get(Conversation, case)
        assert conversation is not None
        owner = customers.current(session=session, customer_id=conversation.customer_id)
        identities = {
            (i.channel, i.external_id) for i in customers.identities_of(session=session, customer_id=owner.id)
        }
        chats = {c.id for c in customers.conversations_of(session=session, customer_id=owner.id)}
    assert identities == {("facebook", "fb-user-3"), ("messenger", "psid-bea")}
    # The earlier chat, the case and the public comment's thread: one customer holds all three.
    assert {case, said["Do you ship to Spain?"]} < chats and len(chats) == 3


async def test_the_pages_own_comment_is_ignored_and_an_instagram_comment_is_answered_below_it(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    own = p.feed_comment("555_902", p.PAGE_ID, "Kestrel", "Thanks all!", NOW_MS // 1000)
    await post_meta(http, p.page(changes=[own]))
    ig = p.instagram_comment("17850000000000001", "igsid-2", "ada", "Do you ship abroad?")
    await post_meta(http, p.page(obj="instagram", changes=[ig]))

    await eventually(lambda: len(fake.posts("/17850000000000001/replies")) == 1, "the reply under the IG comment")

    assert fake.posts("/555_902/") == []
    assert [e.status for e in inbox_events(live)] == [InboxStatus.ignored, InboxStatus.processed]


async def test_an_instagram_mention_is_read_from_the_graph_api_then_answered(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    fake.comments["17850000000000009"] = {
        "id": "17850000000000009",
        "text": "@kestrel are your boxes recyclable?",
        "from": {"id": "igsid-3", "username": "bea"},
    }
    await post_meta(http, p.page(obj="instagram", changes=[p.instagram_mention("17850000000000009")]))

    await eventually(lambda: len(fake.posts("/17850000000000009/replies")) == 1, "the reply to the mention")

    (customer,) = [m for m in messages_of(live, "instagram_comment") if m.author == Author.customer]
    assert customer.text == "@kestrel are your boxes recyclable?"


# Outbox


async def test_server_errors_are_retried_until_the_reply_is_posted_once(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    fake.then(Planned(status=500, body={"error": {"message": "try later"}}), Planned(status=503))

    await post_meta(http, p.page(p.dm("m_retry", "psid-20", "Can I change my delivery date?", NOW_MS)))
    await eventually(lambda: len(fake.posts("/me/messages")) == 1, "the reply after two failures")
    # The platform has the reply before the sender has recorded its answer.
    await eventually(lambda: [i.status for i in outbox_items(live)] == [OutboxStatus.sent], "the reply recorded sent")

    (item,) = outbox_items(live)
    assert item.attempts == 3 and len(fake.posts("/me/messages")) == 1
    assert len({c.headers["idempotency-key"] for c in fake.calls}) == 1


async def test_a_429_is_honoured_with_its_retry_after(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    fake.then(Planned(status=429, body={"title": "Too Many Requests"}, headers={"retry-after": "30"}))

    await post_x(http, p.x_dm("950", "43", "Hello, are you there?", NOW_MS))
    await eventually(lambda: bool(fake.calls), "the first attempt")
    await eventually(lambda: bool(outbox_items(live)) and outbox_items(live)[0].attempts == 1, "the 429 recorded")

    (item,) = outbox_items(live)
    assert item.status == OutboxStatus.pending and "rate limited" in (item.last_error or "")
    wait = item.next_attempt_at - item.created_at
    assert timedelta(seconds=25) < wait < timedelta(seconds=40)


async def test_a_refused_reply_is_a_dead_letter_that_agents_and_supervisors_see(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    refusal = {"error": {"message": "(#551) This person isn't available right now.", "code": 551}}
    fake.then(Planned(status=400, body=refusal))
    with unit_of_work(session_factory(make_engine(live.app.state.settings.database_url))) as session:
        _, supervisor = factories.agent(session, role=Role.supervisor, capacity={"webchat": 0})
    headers = {"Authorization": f"Bearer {supervisor}"}

    await post_meta(http, p.page(p.dm("m_dead", "psid-21", "Do you have gift cards?", NOW_MS)))
    await eventually(lambda: any(m.text.startswith("Not delivered") for m in messages_of(live, "messenger")), "note")

    dead = (await http.get("/api/channels/outbox", headers=headers)).json()
    assert len(dead) == 1 and "isn't available" in dead[0]["last_error"]
    note = next(m for m in messages_of(live, "messenger") if m.text.startswith("Not delivered"))
    assert note.internal and "isn't available" in note.text
    retried = await http.post(f"/api/channels/outbox/{dead[0]['id']}/retry", headers=headers)
    assert retried.status_code == 200
    await eventually(lambda: len(fake.posts("/me/messages")) == 1, "the retried reply")
    forbidden = await http.get("/api/channels/outbox", headers={"Authorization": "Bearer demo-agent-token"})
    assert forbidden.status_code == 403


async def test_a_reply_outside_metas_24_hour_window_is_refused_with_the_reason(
    live: LiveServer, http: httpx.AsyncClient, fake: FakePlatforms
) -> None:
    await post_meta(http, p.page(p.dm("m_old", "psid-22", "Hello", NOW_MS)))
    await eventually(lambda: len(fake.posts("/me/messages")) == 1, "the first reply")
    with unit_of_work(session_factory(make_engine(live.app.state.settings.database_url))) as session:
        customer = next(m for m in messages_of(live, "messenger") if m.author == Author.customer)
        stored = session.get(Message, customer.id)
        assert stored is not None
        stored.created_at = stored.created_at - timedelta(hours=30)
        session.add(stored)
        messages.tell_customer(
            session=session, conversation_id=customer.conversation_id, text="A late notice", payload={"deliver": True}
        )

    await until_quiet(live.app.state.settings.database_url)
    late = outbox_items(live)[-1]
    assert late.status == OutboxStatus.dead and "24-hour" in (late.last_error or "")
    assert len(fake.posts("/me/messages")) == 1
