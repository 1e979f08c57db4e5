"""Schemathesis over every operation of the OpenAPI document, against the running service: no case
gets a server error, and every answer has the status's documented shape.

Each operation is fuzzed by each caller in turn: a person of each role with their API token, and
nobody (no credentials, or a made-up token or session cookie). The platform webhooks read a raw,
signed body the document cannot describe: test_webhooks.py fuzzes them.
"""

import string
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from app.api.deps import SESSION_COOKIE
from app.people.models import Role
from tests.fuzz.schema import CHECKS, COVERAGE, SCHEMA, Case
from tests.fuzz.target import ANONYMOUS, CALLERS, CASES_PER_CALLER, TOKENS, Cases, Target

pytestmark = pytest.mark.slow


class Caller(NamedTuple):
    name: str
    headers: dict[str, str]


PEOPLE = {role.value: Caller(role.value, {"Authorization": f"Bearer {token}"}) for role, token in TOKENS.items()}
_made_up = st.text(string.ascii_letters + string.digits + "-_.~+/=", max_size=48)
# Nobody: no credentials, or a made-up token or session cookie.
nobody = (
    st.just(Caller(ANONYMOUS, {}))
    | _made_up.map(lambda t: Caller(ANONYMOUS, {"Authorization": f"Bearer {t}"}))
    | _made_up.map(lambda t: Caller(ANONYMOUS, {"Cookie": f"{SESSION_COOKIE}={t}"}))
)


@pytest.fixture(params=CALLERS)
def caller_name(request: pytest.FixtureRequest) -> str:
    """Every operation is fuzzed once by each role and once by nobody."""
    name: str = request.param
    return name


# None keeps the generated path; a number picks one of the chats and articles the service holds, for
# the cases that reach past a lookup by an id no fuzzer guesses (on the web chat, as its visitor).
known_subjects = st.none() | st.integers(0, 7)


def aim(case: Case, caller: Caller, target: Target, pick: int | None) -> Caller:
    """Point the case at what the service holds; the caller a visitor when it is their chat."""
    parameters = case.path_parameters
    if pick is None or not parameters:
        return caller
    chat = target.chats[pick % len(target.chats)]
    if "slug" in parameters:
        parameters["slug"] = target.slugs[pick % len(target.slugs)]
    if "customer_id" in parameters:
        parameters["customer_id"] = chat.customer_id
    if "conversation_id" in parameters:
        parameters["conversation_id"] = chat.conversation_id
        if case.operation.path.startswith("/api/chat/"):
            return Caller("visitor", {"Authorization": f"Bearer {chat.token}"})
    return caller


def send(case: Case, target: Target, headers: dict[str, str]) -> None:
    """Send the case and check the answer; then forget any session it signed in to, and undo what
    it changed about the fuzz people."""
    case.call_and_validate(base_url=target.base_url, session=target.http, headers=headers, checks=CHECKS, timeout=30)
    target.http.cookies.clear()
    if case.operation.path.startswith("/api/admin/people") and case.method != "GET":
        target.restore_people()


@SCHEMA.exclude(path_regex="^/webhooks/", method="POST").parametrize()
@SCHEMA.given(stranger=nobody, pick=known_subjects)
@settings(max_examples=CASES_PER_CALLER, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_case_gets_a_server_error_or_an_undocumented_answer(
    case: Case, caller_name: str, stranger: Caller, pick: int | None, target: Target, cases: Cases
) -> None:
    caller = aim(case, PEOPLE.get(caller_name, stranger), target, pick)
    cases.count(case.operation.label, caller.name)
    send(case, target, caller.headers)


@COVERAGE.exclude(path_regex="^/webhooks/", method="POST").parametrize()
@settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_boundary_case_gets_a_server_error_or_an_undocumented_answer(case: Case, target: Target) -> None:
    send(case, target, {"Authorization": f"Bearer {TOKENS[Role.admin]}"})
