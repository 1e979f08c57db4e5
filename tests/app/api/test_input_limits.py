"""Input no database column or JSON encoder takes is refused with 422 naming the field, on every
route and on SQLite and PostgreSQL alike: a NUL or a lone surrogate in any text, an integer beyond
the 32-bit column it is looked up in, NaN and infinities. And a failure no handler expected leaves
the customer's words out of the log."""

import logging
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from app.api.deps import CSRF_HEADER
from app.cli.background import LiveServer
from app.core.db import make_engine, migrate
from app.core.settings import DEMO_AGENT_TOKEN, DEMO_PASSWORD
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
    customer: str

    def send(self, role: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = path.format(conversation=self.conversation, customer=self.customer)
        return self.clients[role].request(method, url, **kwargs)


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
        yield Callers(live, clients, started["conversation_id"], started["customer_id"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _raw(body: str) -> dict[str, Any]:
    """A JSON body as written, for what json.dumps will not write (NaN, a lone surrogate)."""
    return {"content": body.encode("utf-8", "surrogatepass"), "headers": {"Content-Type": "application/json"}}


MESSAGES = "/api/chat/conversations/{conversation}/messages"
NUL = "\x00"

TEXT_CASES = {
    "display name": ("public", "POST", "/api/chat/sessions", {"json": {"display_name": f"Ann{NUL}"}}, "display_name"),
    "message text": ("customer", "POST", MESSAGES, {"json": {"text": f"hi{NUL}", "client_message_id": "c1"}}, "text"),
    "email at sign-in": (
        "public", "POST", "/api/session", {"json": {"email": f"kim{NUL}@kestrel.example", "password": "x"}}, "email"
    ),
    "person name": ("admin", "PATCH", "/api/admin/people/1", {"json": {"name": f"Pat{NUL}"}}, "name"),
    "new person's team": (
        "admin", "POST", "/api/admin/people", {"json": {"name": "Pat", "email": "p@k.example", "teams": [NUL]}},
        "teams.0",
    ),
    "a skill's name": ("admin", "PATCH", "/api/admin/people/1", {"json": {"skills": {f"bill{NUL}": 3}}}, "skills"),
    "slug in a path": ("manager", "GET", "/api/kb/articles/bike%00fitting", {}, "slug"),
    "article search": ("manager", "GET", "/api/kb/articles", {"params": {"search": f"bike{NUL}"}}, "search"),
    "knowledge search": ("public", "POST", "/api/kb/search", {"json": {"query": f"paypal{NUL}"}}, "query"),
    "article answer": ("manager", "POST", "/api/kb/articles", {"json": {**ARTICLE, "answer": f"Yes{NUL}"}}, "answer"),
    "a tag": ("manager", "POST", "/api/kb/articles", {"json": {**ARTICLE, "tags": ["ok", f"b{NUL}"]}}, "tags.1"),
    "canned text": (
        "supervisor", "PUT", "/api/canned/hello", {"json": {"shortcut": "hello", "title": "Hi", "text": NUL}}, "text"
    ),
    "contact email": (
        "agent", "PUT", f"/api/customers/{uuid.uuid4()}/contact", {"json": {"email": f"a{NUL}@b.example"}}, "email"
    ),
    "an unknown query parameter": ("agent", "GET", "/api/assignment/alerts", {"params": {"x": NUL}}, "x"),
    "lone surrogate": ("public", "POST", "/api/kb/search", _raw('{"query": "paypal \\ud800"}'), "query"),
    "lone surrogate in a name": (
        "admin", "PATCH", "/api/admin/people/1", _raw('{"skills": {"\\udfff": 3}}'), "skills"
    ),
}  # fmt: skip


@pytest.mark.parametrize(("role", "method", "path", "request_args", "field"), TEXT_CASES.values(), ids=TEXT_CASES)
def test_text_no_database_stores_is_refused_naming_the_field(
    callers: Callers, role: str, method: str, path: str, request_args: dict[str, Any], field: str
) -> None:
    response = callers.send(role, method, path, **request_args)

    assert (response.status_code, response.json().get("field")) == (422, field), response.text


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
        "supervisor", "POST", f"/api/assignment/conversations/{uuid.uuid4()}/reassign",
        {"json": {"to_agent_id": BEYOND_INT32}}, "to_agent_id",
    ),
}  # fmt: skip


@pytest.mark.parametrize(("role", "method", "path", "request_args", "field"), INTEGER_CASES.values(), ids=INTEGER_CASES)
def test_integers_beyond_their_column_are_refused_naming_the_field(
    callers: Callers, role: str, method: str, path: str, request_args: dict[str, Any], field: str
) -> None:
    response = callers.send(role, method, path, **request_args)

    assert (response.status_code, response.json().get("field")) == (422, field), response.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"query": "paypal", "limit": NaN}', "limit"),
        ('{"query": "paypal", "limit": Infinity}', "limit"),
        ('{"query": "paypal", "limit": -Infinity}', "limit"),
        ('{"query": "paypal", "limit": 1e999}', "limit"),
        ('{"query": "paypal", "unread": [1, NaN]}', "unread.1"),
    ],
)
def test_numbers_json_cannot_hold_are_refused_naming_the_field(callers: Callers, body: str, field: str) -> None:
    response = callers.send("public", "POST", "/api/kb/search", **_raw(body))

    assert (response.status_code, response.json().get("field")) == (422, field), response.text


LENGTH_CASES = {
    "contact email": ("/api/customers/{customer}/contact", {"email": "a" * 320 + "@kestrel.example"}, "email"),
}


@pytest.mark.parametrize(("path", "body", "field"), LENGTH_CASES.values(), ids=LENGTH_CASES)
def test_text_longer_than_its_column_is_refused_naming_the_field(
    callers: Callers, path: str, body: dict[str, str], field: str
) -> None:
    response = callers.send("agent", "PUT", path, json=body)

    assert (response.status_code, response.json().get("field")) == (422, field), response.text


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/kb/search", DEEP, 400),
        ("/api/kb/search", '{"query": "paypal", "limit": ' + "9" * 5_000 + "}", 400),
        # A route that reads no body ignores it, however deep: this one answers as it would without.
        ("/api/kb/articles/payment-methods/review", DEEP, 409),
    ],
    ids=["nested too deep", "too many digits", "nested too deep, ignored"],
)
def test_a_body_the_parser_cannot_read_is_a_400_or_ignored(callers: Callers, path: str, body: str, status: int) -> None:
    response = callers.send("manager", "POST", path, **_raw(body))

    assert response.status_code == status and "detail" in response.json(), response.text


def test_a_refusal_names_the_field_without_echoing_the_input(callers: Callers) -> None:
    too_long = "my card is 4111 1111 1111 1111 " * 100

    response = callers.send("public", "POST", "/api/kb/search", json={"query": too_long})

    assert response.status_code == 422
    assert response.json()["field"] == "query" and "4111" not in response.text


def test_the_openapi_document_lists_each_refusal_with_the_problem_schema(callers: Callers) -> None:
    document = callers.send("public", "GET", "/openapi.json").json()
    problem = {"$ref": "#/components/schemas/Problem"}

    def schema(path: str, method: str, status: int) -> Any:
        return document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]

    assert schema("/api/kb/search", "post", 422) == problem
    assert schema("/api/kb/search", "post", 400) == problem
    assert schema("/api/session", "post", 429) == problem
    assert schema("/api/kb/articles/{slug}", "put", 409) == problem
    assert {"401", "403", "404", "422"} <= set(document["paths"]["/api/kb/articles/{slug}"]["get"]["responses"])
    assert schema("/healthz", "get", 422) == problem
    assert schema("/webhooks/meta", "get", 403) == problem and schema("/webhooks/x", "post", 401) == problem
    assert "HTTPValidationError" not in document["components"]["schemas"]


class Collected(logging.Handler):
    """Every record as it would be written, traceback included."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("%(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def logged() -> Iterator[Collected]:
    """What is logged meanwhile. Entered once the server runs: uvicorn sets up its loggers as it
    starts, and they do not pass their records on to the root logger."""
    collected = Collected()
    loggers = [logging.getLogger(), logging.getLogger("uvicorn"), logging.getLogger("uvicorn.error")]
    for logger in loggers:
        logger.addHandler(collected)
    try:
        yield collected
    finally:
        for logger in loggers:
            logger.removeHandler(collected)


REFUSE_MESSAGES = {
    # The row PostgreSQL refuses is quoted in its error, whatever the driver hides.
    "postgresql": "ALTER TABLE messages ADD CONSTRAINT refused CHECK (seq < 0) NOT VALID",
    "sqlite": "CREATE TRIGGER refused BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'refused'); END",
}


def test_a_failure_nobody_expected_answers_500_and_logs_no_customer_text(
    database_url: str, tmp_path: Path, embedder: OnnxEmbedder
) -> None:
    seed(database_url)
    words = "my card is 4111 1111 1111 1111 and I live at 5 Elm Street"
    with instance(database_url, tmp_path, embedder) as live, httpx.Client(base_url=live.http_url) as client:
        started = client.post("/api/chat/sessions", json={}).json()
        engine = make_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text(REFUSE_MESSAGES[engine.dialect.name]))
        engine.dispose()
        with logged() as log:
            response = client.post(
                f"/api/chat/conversations/{started['conversation_id']}/messages",
                json={"text": words, "client_message_id": "c1"},
                headers=_bearer(started["token"]),
            )

    assert [line for line in log.lines if "4111" in line or "Elm" in line] == []
    failures = [line for line in log.lines if "event=unhandled_error" in line]
    assert len(failures) == 1 and "route=/api/chat/conversations/{conversation_id}/messages" in failures[0]
    assert response.status_code == 500 and response.json() == {
        "detail": "internal error: the request was not completed"
    }
