"""Input no database column or JSON encoder takes is refused with 422 naming the field, on every
route and on SQLite and PostgreSQL alike: a NUL or a lone surrogate in any text, an integer beyond
the 32-bit column it is looked up in, NaN and infinities. And a failure no handler expected leaves
the customer's words out of the log."""

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.cli.background import LiveServer
from app.db import migrate
from app.deps import CSRF_HEADER
from app.settings import DEMO_AGENT_TOKEN, DEMO_PASSWORD
from knowledge import OnnxEmbedder
from tests.support import databases
from tests.support.instances import instance, seed

BEYOND_INT64 = 2**63
BEYOND_INT32 = 2**31
ARTICLE = {
    "slug": "bike-fitting",
    "title": "Bike fitting",
    "questions": ["Do you offer bike fitting?"],
    "answer": "Yes, book a fitting in any store.",
}


@dataclass
class Callers:
    """One running service and a client for each kind of caller, shared by the module's tests: what
    they send is refused, so it changes nothing the next test sees."""

    live: LiveServer
    clients: dict[str, httpx.Client]
    conversation: str

    def send(self, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.clients[role].request(method, path.format(conversation=self.conversation), **kwargs)


def _signed_in(live: LiveServer, email: str) -> httpx.Client:
    client = httpx.Client(base_url=live.http_url, timeout=10)
    response = client.post("/api/session", json={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    client.headers[CSRF_HEADER] = response.json()["csrf_token"]
    return client


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'carebridge.db'}"
            migrate(url)
        else:
            url = stack.enter_context(databases.postgres_database(request.getfixturevalue("postgres_template")))
        seed(url)
        yield url


@pytest.fixture(scope="module")
def callers(database: str, tmp_path_factory: pytest.TempPathFactory, embedder: OnnxEmbedder) -> Iterator[Callers]:
    with ExitStack() as stack:
        live = stack.enter_context(instance(database, tmp_path_factory.mktemp("var"), embedder))
        public = httpx.Client(base_url=live.http_url, timeout=10)
        started = public.post("/api/chat/sessions", json={}).json()
        clients = {
            "public": public,
            "customer": httpx.Client(base_url=live.http_url, timeout=10, headers=_bearer(started["token"])),
            "agent": httpx.Client(base_url=live.http_url, timeout=10, headers=_bearer(DEMO_AGENT_TOKEN)),
            "supervisor": _signed_in(live, "sam@kestrel.example"),
            "manager": _signed_in(live, "kim@kestrel.example"),
            "admin": _signed_in(live, "ada@kestrel.example"),
        }
        for client in clients.values():
            stack.callback(client.close)
        yield Callers(live, clients, started["conversation_id"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _raw(body: str) -> dict[str, Any]:
    """A JSON body as written, for what json.dumps will not write (NaN, a lone surrogate)."""
    return {"content": body.encode("utf-8", "surrogatepass"), "headers": {"Content-Type": "application/json"}}


MESSAGES = "/api/chat/conversations/{conversation}/messages"

INTEGER_CASES = {
    "after_seq": ("customer", "GET", MESSAGES, {"params": {"after_seq": BEYOND_INT64}}, "after_seq"),
    "after_seq past 32 bits": ("customer", "GET", MESSAGES, {"params": {"after_seq": BEYOND_INT32}}, "after_seq"),
    "message id": (
        "customer", "POST", f"{MESSAGES}/{BEYOND_INT64}/feedback", {"json": {"helpful": True}}, "message_id"
    ),
    "person id": ("admin", "PATCH", f"/api/admin/people/{BEYOND_INT64}", {"json": {"name": "Pat"}}, "person_id"),
    "person id past 32 bits": ("admin", "POST", f"/api/admin/people/{BEYOND_INT32}/token", {}, "person_id"),
    "version number": ("manager", "GET", f"/api/kb/articles/payment-methods/versions/{BEYOND_INT64}", {}, "number"),
    "diff from": (
        "manager", "GET", "/api/kb/articles/payment-methods/diff", {"params": {"from": BEYOND_INT64, "to": 1}}, "from"
    ),
    "rollback version": (
        "manager", "POST", "/api/kb/articles/payment-methods/rollback", {"json": {"version": BEYOND_INT32}}, "version"
    ),
    "base version": (
        "manager", "PUT", "/api/kb/articles/payment-methods", {"json": {**ARTICLE, "base_version": BEYOND_INT64}},
        "base_version",
    ),
    "question ids": (
        "manager", "POST", "/api/kb/unanswered/attach", {"json": {"question_ids": [1, BEYOND_INT64], "slug": "x"}},
        "question_ids.1",
    ),
    "outbox id": ("supervisor", "POST", f"/api/channels/outbox/{BEYOND_INT64}/retry", {}, "item_id"),
    "agent to reassign to": (
        "supervisor", "POST", f"/api/routing/conversations/{uuid.uuid4()}/reassign",
        {"json": {"to_agent_id": BEYOND_INT32}}, "to_agent_id",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("role", "method", "path", "request_args", "field"), INTEGER_CASES.values(), ids=INTEGER_CASES)
def test_integers_beyond_their_column_are_refused_naming_the_field(
    callers: Callers, role: str, method: str, path: str, request_args: dict[str, Any], field: str
) -> None:
    response = callers.send(role, method, path, **request_args)

    assert (response.status_code, response.json()["field"]) == (422, field), response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"query": "paypal", "limit": NaN}', "limit"),
        ('{"query": "paypal", "limit": Infinity}', "limit"),
        ('{"query": "paypal", "limit": -Infinity}', "limit"),
        ('{"query": "paypal", "limit": 1e999}', "limit"),
    ],
)
def test_numbers_json_cannot_hold_are_refused_naming_the_field(callers: Callers, body: str, field: str) -> None:
    response = callers.send("public", "POST", "/api/knowledge/search", **_raw(body))

    assert (response.status_code, response.json()["field"]) == (422, field), response.text


def test_a_refusal_names_the_field_without_echoing_the_input(callers: Callers) -> None:
    too_long = "my card is 4111 1111 1111 1111 " * 100

    response = callers.send("public", "POST", "/api/knowledge/search", json={"query": too_long})

    assert response.status_code == 422
    assert response.json()["field"] == "query" and "4111" not in response.text
