"""Knowledge search over HTTP, as the bot's actions and the agent console call it."""

import httpx
import pytest


async def test_search_answers_with_the_best_article(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/kb/search", json={"query": "can I pay with paypal", "limit": 2})

    body = response.json()
    assert response.status_code == 200
    assert body["answer"]["slug"] == "payment-methods"
    assert body["results"][0]["slug"] == "payment-methods"
    assert len(body["results"]) == 2


async def test_search_declines_to_answer_an_unrelated_question(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/kb/search", json={"query": "who won the football world cup in 1998"})

    body = response.json()
    assert body["answer"] is None
    assert all(hit["score"] < body["threshold"] for hit in body["results"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": ""}, "query"),
        ({"query": "   "}, "query"),
        ({"query": "x" * 501}, "query"),
        ({"query": "ok", "limit": 0}, "limit"),
        ({"query": "ok", "limit": 11}, "limit"),
        ({}, "query"),
    ],
)
async def test_search_refuses_bad_input_naming_the_field(
    http: httpx.AsyncClient, body: dict[str, object], field: str
) -> None:
    response = await http.post("/api/kb/search", json=body)

    assert response.status_code == 422
    assert field in response.text
