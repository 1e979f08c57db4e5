"""Signing in to the consoles, CSRF, roles on every route and on the agent's websocket, throttled
guessing, and the admins' people API: against the running service."""

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from app.api.deps import CSRF_HEADER, SESSION_COOKIE
from app.cli.background import LiveServer
from app.core.settings import DEMO_PASSWORD
from tests.support.accounts import signed_in

MARIA, SAM, KIM, ADA = (f"{name}@kestrel.example" for name in ("maria", "sam", "kim", "ada"))


@pytest.fixture
async def admin(live: LiveServer) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    client, csrf = await signed_in(live, ADA)
    yield client, csrf
    await client.aclose()


async def test_signing_in_sets_a_protected_cookie_and_says_who_it_is(live: LiveServer, http: httpx.AsyncClient) -> None:
    response = await http.post("/api/session", json={"email": " Maria@Kestrel.example ", "password": DEMO_PASSWORD})
    cookie = response.headers["set-cookie"]
    who = await http.get("/api/session")

    assert response.status_code == 200 and response.json()["person"]["name"] == "Maria"
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert who.status_code == 200 and who.json()["csrf_token"] == response.json()["csrf_token"]


@pytest.mark.parametrize(
    ("email", "password"), [(MARIA, "not the password"), ("nobody@kestrel.example", DEMO_PASSWORD)]
)
async def test_a_wrong_email_or_password_gets_the_same_answer(
    http: httpx.AsyncClient, email: str, password: str
) -> None:
    response = await http.post("/api/session", json={"email": email, "password": password})

    assert response.status_code == 401 and response.json() == {"detail": "wrong email or password"}
    assert "set-cookie" not in response.headers


async def test_repeated_failures_for_one_email_wait_while_others_sign_in(http: httpx.AsyncClient) -> None:
    for _ in range(5):
        assert (await http.post("/api/session", json={"email": KIM, "password": "guess"})).status_code == 401

    throttled = await http.post("/api/session", json={"email": KIM, "password": DEMO_PASSWORD})
    other = await http.post("/api/session", json={"email": SAM, "password": DEMO_PASSWORD})

    assert throttled.status_code == 429 and "too many failed sign-ins" in throttled.json()["detail"]
    assert 0 < int(throttled.headers["retry-after"]) <= 15 * 60
    assert other.status_code == 200


async def test_a_change_with_the_cookie_needs_the_csrf_token(admin: tuple[httpx.AsyncClient, str]) -> None:
    client, csrf = admin
    person = {"name": "Noor", "email": "noor@kestrel.example", "password": "a long enough password"}

    forged = await client.post("/api/admin/people", json=person)
    wrong = await client.post("/api/admin/people", json=person, headers={CSRF_HEADER: "guessed"})
    read = await client.get("/api/admin/people")
    made = await client.post("/api/admin/people", json=person, headers={CSRF_HEADER: csrf})

    assert forged.status_code == 403 and CSRF_HEADER in forged.json()["detail"]
    assert wrong.status_code == 403
    assert read.status_code == 200
    assert made.status_code == 201 and made.json()["person"]["can_sign_in"] is True


@pytest.mark.parametrize(
    ("email", "path", "status"),
    [
        (KIM, "/api/assignment/alerts", 403),
        (MARIA, "/api/assignment/alerts", 403),
        (SAM, "/api/assignment/alerts", 200),
        (ADA, "/api/assignment/alerts", 200),
        (MARIA, "/api/kb/articles", 403),
        (KIM, "/api/kb/articles", 200),
        (ADA, "/api/kb/articles", 200),
        (MARIA, "/api/admin/people", 403),
        (SAM, "/api/admin/people", 403),
        (KIM, "/api/channels/outbox", 403),
    ],
)
async def test_every_route_checks_the_role(live: LiveServer, email: str, path: str, status: int) -> None:
    client, _ = await signed_in(live, email)
    response = await client.get(path)
    await client.aclose()

    assert response.status_code == status, response.text


async def test_an_admin_adds_someone_who_then_signs_in_with_their_skills(
    live: LiveServer, admin: tuple[httpx.AsyncClient, str]
) -> None:
    client, csrf = admin
    headers = {CSRF_HEADER: csrf}
    made = await client.post(
        "/api/admin/people",
        headers=headers,
        json={
            "name": "Omar",
            "email": "Omar@Kestrel.example",
            "role": "agent",
            "password": "omar's long password",
            "skills": {"billing": 7},
            "languages": ["en", "ar"],
            "capacity": {"webchat": 2, "messenger": 1},
            "teams": ["retention"],
        },
    )
    person = made.json()["person"]
    changed = await client.patch(
        f"/api/admin/people/{person['id']}", headers=headers, json={"skills": {"billing": 9, "orders": 3}}
    )
    omar, _ = await signed_in(live, "omar@kestrel.example", "omar's long password")
    who = (await omar.get("/api/session")).json()
    await omar.aclose()

    assert made.status_code == 201 and made.json()["token"]
    assert person["email"] == "omar@kestrel.example" and person["capacity"] == {"webchat": 2, "messenger": 1}
    assert changed.json()["skills"] == {"billing": 9, "orders": 3}
    assert who["person"]["skills"] == {"billing": 9, "orders": 3} and who["person"]["role"] == "agent"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"email": "maria@kestrel.example"}, "exists already"),
        ({"password": "short"}, "12 to 256 characters"),
        ({"capacity": {"pigeon": 1}}, "unknown channels"),
        ({"skills": {"billing": 11}}, "less than or equal to 10"),
        ({"languages": ["english"]}, "two-letter codes"),
        ({"email": "not-an-email"}, "not an email address"),
    ],
)
async def test_bad_people_are_refused_with_a_reason(
    admin: tuple[httpx.AsyncClient, str], change: dict[str, object], reason: str
) -> None:
    client, csrf = admin
    person = {"name": "Pat", "email": "pat@kestrel.example", **change}

    response = await client.post("/api/admin/people", json=person, headers={CSRF_HEADER: csrf})
    everyone = (await client.get("/api/admin/people")).json()

    assert response.status_code in (409, 422) and reason in response.text
    assert "pat@kestrel.example" not in [p["email"] for p in everyone]


async def test_an_admin_cannot_take_away_their_own_role(admin: tuple[httpx.AsyncClient, str]) -> None:
    client, csrf = admin
    ada = next(p for p in (await client.get("/api/admin/people")).json() if p["email"] == ADA)

    response = await client.patch(f"/api/admin/people/{ada['id']}", json={"role": "agent"}, headers={CSRF_HEADER: csrf})

    assert response.status_code == 422 and "own admin role" in response.json()["detail"]


async def test_signing_out_ends_the_session(live: LiveServer) -> None:
    client, csrf = await signed_in(live, SAM)
    cookie = client.cookies[SESSION_COOKIE]

    out = await client.delete("/api/session", headers={CSRF_HEADER: csrf})
    client.cookies.set(SESSION_COOKIE, cookie)  # a copy kept by someone
    after = await client.get("/api/assignment/alerts")
    await client.aclose()

    assert out.status_code == 204 and after.status_code == 401


async def _hello_with_cookie(live: LiveServer, email: str, origin: str) -> tuple[int | None, str]:
    client, _ = await signed_in(live, email)
    cookie = client.cookies[SESSION_COOKIE]
    await client.aclose()
    headers = {"Cookie": f"{SESSION_COOKIE}={cookie}", "Origin": origin}
    async with connect(f"{live.ws_url}/ws/agent", additional_headers=headers) as socket:
        await socket.send(json.dumps({"type": "hello"}))
        try:
            welcome = json.loads(await socket.recv())
        except ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code, closed.rcvd.reason
    return None, welcome["agent"]["name"]


async def test_the_console_socket_signs_in_with_the_cookie_from_this_site_only(live: LiveServer) -> None:
    own = await _hello_with_cookie(live, MARIA, f"http://127.0.0.1:{live.port}")
    elsewhere = await _hello_with_cookie(live, MARIA, "https://evil.example")
    knowledge_manager = await _hello_with_cookie(live, KIM, f"http://127.0.0.1:{live.port}")

    assert own == (None, "Maria")
    assert elsewhere[0] == 4401 and "only from this service's pages" in elsewhere[1]
    assert knowledge_manager[0] == 4403 and "takes no conversations" in knowledge_manager[1]


async def test_supervisors_write_canned_responses_and_agents_use_them(live: LiveServer) -> None:
    sam, sam_csrf = await signed_in(live, SAM)
    maria, maria_csrf = await signed_in(live, MARIA)
    refund = {"shortcut": "refund", "title": "Refund on its way", "text": "Your refund is on its way: 3-5 days."}

    written = await sam.put("/api/canned/refund", json=refund, headers={CSRF_HEADER: sam_csrf})
    renamed = await sam.put(
        "/api/canned/refund", json={**refund, "shortcut": "Refund-Sent"}, headers={CSRF_HEADER: sam_csrf}
    )
    listed = await maria.get("/api/canned")
    by_agent = await maria.put("/api/canned/mine", json=refund, headers={CSRF_HEADER: maria_csrf})
    bad = await sam.put("/api/canned/x y", json={**refund, "shortcut": "x y"}, headers={CSRF_HEADER: sam_csrf})
    gone = await sam.delete("/api/canned/refund-sent", headers={CSRF_HEADER: sam_csrf})
    again = await sam.delete("/api/canned/refund-sent", headers={CSRF_HEADER: sam_csrf})
    await sam.aclose()
    await maria.aclose()

    assert written.status_code == 200 and written.json()["shortcut"] == "refund"
    assert renamed.json()["shortcut"] == "refund-sent"
    assert [(c["shortcut"], c["text"]) for c in listed.json()] == [("refund-sent", refund["text"])]
    assert by_agent.status_code == 403
    assert bad.status_code == 422
    assert gone.status_code == 204 and again.status_code == 404
