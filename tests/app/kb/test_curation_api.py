"""The knowledge managers' API over real HTTP, with the real index behind it."""

import asyncio
import uuid
from collections.abc import Sequence

import httpx
import pytest

from app.cli.background import LiveServer
from app.conversations import messages
from app.core.db import make_engine, session_factory, unit_of_work
from app.core.settings import DEMO_AGENT_TOKEN
from app.kb import clusters, insights
from app.kb.models import UnansweredQuestion
from app.people.models import Role
from knowledge import Vectors
from knowledge.demo import load_demo_articles
from tests.support import factories
from tests.support.clients import new_customer

ARTICLE = {
    "slug": "bike-fitting",
    "title": "Do you offer bike fitting?",
    "questions": ["Can you adjust my bike to my height?", "bike fit appointment"],
    "answer": "Yes: a 45-minute fitting in any store, 35 EUR.",
    "short_answer": "Yes, 45-minute fittings in store for 35 EUR.",
    "tags": ["stores"],
    "skill": "stores",
}


def manager(live: LiveServer, role: Role = Role.knowledge_manager) -> dict[str, str]:
    engine = make_engine(live.app.state.settings.database_url)
    with unit_of_work(session_factory(engine)) as session:
        _, token = factories.agent(session, role=role, capacity={})
    engine.dispose()
    return {"Authorization": f"Bearer {token}"}


async def best_answer(http: httpx.AsyncClient, question: str) -> str | None:
    found = (await http.post("/api/kb/search", json={"query": question})).json()
    return found["answer"]["slug"] if found["answer"] else None


async def test_an_article_goes_from_draft_to_answering_customers(live: LiveServer, http: httpx.AsyncClient) -> None:
    headers = manager(live)

    created = await http.post("/api/kb/articles", json=ARTICLE, headers=headers)
    assert created.status_code == 201 and created.json()["status"] == "draft"
    assert await best_answer(http, "can you fit my bike to my size") is None, "a draft answers nobody"

    published = await http.post("/api/kb/articles/bike-fitting/publish", headers=headers)

    assert published.json()["published_version"] == 1
    assert await best_answer(http, "can you fit my bike to my size") == "bike-fitting"


async def test_editing_keeps_the_live_version_until_published_and_rollback_restores_it(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    headers = manager(live)
    await http.post("/api/kb/articles", json=ARTICLE, headers=headers)
    await http.post("/api/kb/articles/bike-fitting/publish", headers=headers)
    edit = {**ARTICLE, "answer": "No, we stopped offering fittings.", "base_version": 1}

    saved = await http.put("/api/kb/articles/bike-fitting", json=edit, headers=headers)
    stale = await http.put("/api/kb/articles/bike-fitting", json=edit | {"answer": "x"}, headers=headers)

    assert saved.json()["current_version"] == 2 and saved.json()["published_version"] == 1
    assert stale.status_code == 409 and "since you opened version 1" in stale.json()["detail"]
    found = (await http.post("/api/kb/search", json={"query": "bike fit appointment"})).json()
    assert found["answer"]["version"] == 1
    diff = (await http.get("/api/kb/articles/bike-fitting/diff", params={"from": 1, "to": 2}, headers=headers)).json()
    assert "+No, we stopped offering fittings." in diff["changes"]["answer"]

    await http.post("/api/kb/articles/bike-fitting/publish", headers=headers)
    rolled = await http.post("/api/kb/articles/bike-fitting/rollback", json={"version": 1}, headers=headers)
    history = (await http.get("/api/kb/articles/bike-fitting/versions", headers=headers)).json()

    assert rolled.json()["published_version"] == 3
    assert [v["note"] for v in history] == ["rolled back to version 1", "answer changed", "created"]
    found = (await http.post("/api/kb/search", json={"query": "bike fit appointment"})).json()
    assert (found["answer"]["version"], found["answer"]["answer"]) == (3, ARTICLE["answer"])


async def test_a_rollback_to_a_version_without_an_answer_is_refused_and_changes_nothing(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    headers = manager(live)
    await http.post("/api/kb/articles", json={**ARTICLE, "answer": ""}, headers=headers)
    await http.put("/api/kb/articles/bike-fitting", json={**ARTICLE, "base_version": 1}, headers=headers)
    await http.post("/api/kb/articles/bike-fitting/publish", headers=headers)

    refused = await http.post("/api/kb/articles/bike-fitting/rollback", json={"version": 1}, headers=headers)

    assert refused.status_code == 422 and refused.json()["field"] == "answer"
    assert "answer is empty" in refused.json()["detail"]
    after = (await http.get("/api/kb/articles/bike-fitting", headers=headers)).json()
    assert (after["current_version"], after["published_version"]) == (2, 2)
    history = (await http.get("/api/kb/articles/bike-fitting/versions", headers=headers)).json()
    assert [v["version"] for v in history] == [2, 1]
    found = (await http.post("/api/kb/search", json={"query": "bike fit appointment"})).json()
    assert found["answer"]["answer"] == ARTICLE["answer"]
    assert (await http.post("/api/kb/articles/gift-cards/unpublish", headers=headers)).status_code == 200
    assert (await http.post("/api/kb/articles/gift-cards/publish", headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"short_answer": "x" * 281}, 422, "short_answer"),
        ({"questions": ["  "]}, 422, "questions"),
        ({"title": ""}, 422, "title"),
        ({"slug": "Not a slug"}, 422, "slug"),
        ({"answer": "x" * 20_001}, 422, "answer"),
        ({"questions": [f"phrasing {n}" for n in range(501)]}, 422, "questions"),
    ],
)
async def test_bad_articles_are_refused_naming_the_field(
    live: LiveServer, http: httpx.AsyncClient, change: dict[str, object], status: int, field: str
) -> None:
    response = await http.post("/api/kb/articles", json={**ARTICLE, **change}, headers=manager(live))

    assert response.status_code == status
    assert field in response.text


async def test_missing_articles_and_versions_are_named(live: LiveServer, http: httpx.AsyncClient) -> None:
    headers = manager(live)
    await http.post("/api/kb/articles", json=ARTICLE, headers=headers)

    missing = await http.get("/api/kb/articles/no-such-thing", headers=headers)
    no_version = await http.post("/api/kb/articles/bike-fitting/rollback", json={"version": 9}, headers=headers)

    assert missing.status_code == 404 and "'no-such-thing' does not exist" in missing.json()["detail"]
    assert no_version.status_code == 404 and "has no version 9" in no_version.json()["detail"]


async def test_only_knowledge_managers_may_edit(live: LiveServer, http: httpx.AsyncClient) -> None:
    anonymous = await http.get("/api/kb/articles")
    agent = await http.get("/api/kb/articles", headers={"Authorization": f"Bearer {DEMO_AGENT_TOKEN}"})

    assert anonymous.status_code == 401
    assert agent.status_code == 403 and "not a knowledge manager" in agent.json()["detail"]


async def test_listing_filters_and_searches(live: LiveServer, http: httpx.AsyncClient) -> None:
    headers = manager(live)

    everything = (await http.get("/api/kb/articles", headers=headers)).json()
    returns = (await http.get("/api/kb/articles", params={"tag": "returns"}, headers=headers)).json()
    found = (await http.get("/api/kb/articles", params={"search": "gift card"}, headers=headers)).json()
    drafts = (await http.get("/api/kb/articles", params={"status": "draft"}, headers=headers)).json()

    assert len(everything) == len(load_demo_articles())
    assert {a["slug"] for a in returns} >= {"return-policy", "start-return", "exchange-size"}
    assert [a["slug"] for a in found] == ["gift-cards"]
    assert drafts == []


async def test_preview_shows_which_customer_questions_the_draft_would_get(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    customer = await new_customer(http)
    await customer.say("Can someone adjust my new road bike so it fits me?")
    headers = manager(live)
    await http.post("/api/kb/articles", json=ARTICLE, headers=headers)

    preview = (await http.post("/api/kb/articles/bike-fitting/preview", json=ARTICLE, headers=headers)).json()

    questions = [m["question"] for m in preview["matches"]]
    assert "Can someone adjust my new road bike so it fits me?" in questions


async def test_unanswered_questions_are_grouped_and_become_an_article(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    engine = make_engine(live.app.state.settings.database_url)
    asked = [
        "do you sell bike helmets for kids",
        "are there children's bicycle helmets",
        "kids helmet for cycling?",
        "can I pay with bitcoin",
    ]
    with unit_of_work(session_factory(engine)) as session:
        for question in asked:
            factories.unanswered_question(session, question)
        factories.unanswered_question(session, "my card 4111 1111 1111 1111 was charged twice", reason="low_confidence")
    engine.dispose()
    headers = manager(live)

    groups = (await http.get("/api/kb/unanswered", headers=headers)).json()

    helmets = groups[0]
    assert helmets["count"] == 3 and all("helmet" in s for s in helmets["samples"])
    all_samples = [s for g in groups for s in g["samples"]]
    assert "my card [card] was charged twice" in all_samples and not any("4111" in s for s in all_samples)

    made = await http.post(
        "/api/kb/unanswered/draft",
        json={"question_ids": helmets["question_ids"], "slug": "kids-helmets", "title": "Do you sell kids' helmets?"},
        headers=headers,
    )
    assert made.status_code == 201
    assert sorted(made.json()["current"]["questions"]) == sorted(asked[:3])
    remaining = (await http.get("/api/kb/unanswered", headers=headers)).json()
    assert sum(g["count"] for g in remaining) == 2
    refused = await http.post("/api/kb/articles/kids-helmets/publish", headers=headers)
    assert refused.status_code == 422 and refused.json()["field"] == "answer"


async def test_unanswered_questions_are_grouped_off_the_event_loop(
    live: LiveServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Grouping thousands of questions takes seconds of CPU: on the event loop, every socket and
    webhook on the instance would wait that long. The real grouping runs, watched for where."""
    engine = make_engine(live.app.state.settings.database_url)
    with unit_of_work(session_factory(engine)) as session:
        for question in ("do you sell bike helmets for kids", "can I pay with bitcoin"):
            factories.unanswered_question(session, question)
    engine.dispose()
    loops_running: list[bool] = []
    grouping = clusters.group

    def watched(questions: Sequence[UnansweredQuestion], vectors: Vectors) -> list[list[int]]:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            loops_running.append(False)
        else:
            loops_running.append(True)
        return grouping(questions, vectors)

    monkeypatch.setattr(clusters, "group", watched)

    groups = await http.get("/api/kb/unanswered", headers=manager(live))

    assert groups.status_code == 200 and len(groups.json()) == 2
    assert loops_running == [False], "grouped in a thread with no event loop running"


async def test_customers_rate_answers_and_managers_see_it_per_article(
    live: LiveServer, http: httpx.AsyncClient
) -> None:
    customer = await new_customer(http)
    stranger = await new_customer(http)
    engine = make_engine(live.app.state.settings.database_url)
    conversation_id = uuid.UUID(customer.conversation_id)
    with unit_of_work(session_factory(engine)) as session:
        reply = messages.add_bot_reply(session=session, conversation_id=conversation_id, text="Within 3 days.")
        assert reply is not None and reply.id is not None
        insights.record_answer(session=session, message=reply, slug="refund-time", version=1, score=0.91)
        answer_id = reply.id
    url = f"/api/chat/conversations/{customer.conversation_id}/messages/{answer_id}/feedback"

    rated = await http.post(url, json={"helpful": False}, headers=customer.headers)
    by_stranger = await http.post(
        f"/api/chat/conversations/{stranger.conversation_id}/messages/{answer_id}/feedback",
        json={"helpful": True},
        headers=stranger.headers,
    )
    headers = manager(live)
    before_handoff = (await http.get("/api/kb/articles/refund-time", headers=headers)).json()["stats"]
    with unit_of_work(session_factory(engine)) as session:
        insights.note_handoff(session=session, conversation_id=conversation_id)
    engine.dispose()
    after_handoff = (await http.get("/api/kb/articles/refund-time", headers=headers)).json()["stats"]

    assert rated.status_code == 200
    assert by_stranger.status_code == 404, "an answer in someone else's conversation"
    assert before_handoff == {"answered": 1, "resolved_by_bot": 1, "helpful": 0, "not_helpful": 1}
    assert after_handoff["resolved_by_bot"] == 0
