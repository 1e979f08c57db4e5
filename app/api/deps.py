"""Typed dependencies, so a route's signature reads like a sentence.

Who is calling: an API client sends its token (`Authorization: Bearer ...`); a console page sends the
session cookie set at sign-in, and with every change the session's CSRF token in `X-CSRF-Token`,
which another site's page cannot read. Admins may do what every other role may.
"""

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from starlette.requests import HTTPConnection

from app.accounts import service as accounts
from app.core import limits
from app.core.db import run_in_session
from app.core.errors import Forbidden, InvalidInput, Unauthorized
from app.core.timestamps import utcnow
from app.people import service as people
from app.people.models import Person, Role
from app.services import Services

SESSION_COOKIE = "carebridge_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_services(connection: HTTPConnection) -> Services:
    services: Services = connection.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def storable_input(connection: HTTPConnection) -> None:
    """Refuse (422, naming the field) a path, query or JSON body holding what app/core/limits.py refuses,
    before the route reads any of it: one check for every route, whatever its fields. A route that
    takes a JSON body has it parsed already, and this reads that copy."""
    if not isinstance(connection, Request):  # a websocket's frames are checked as they are read
        return
    parameters = [("path", *item) for item in connection.path_params.items()]
    parameters += [("query", *item) for item in connection.query_params.multi_items()]
    for source, name, value in parameters:
        found = limits.unstorable({name: value})
        if found:
            field = name if found[0] else source  # a name that cannot be sent back is not named
            raise InvalidInput(f"{source} parameter {field}: {found[1]}", field=field)
    content_type = connection.headers.get("content-type", "").partition(";")[0].strip().lower()
    if not (content_type == "application/json" or content_type.endswith("+json")):
        return
    try:
        body = await connection.json()
    except (ValueError, RecursionError):  # a route that reads no body; one that does refused it
        return
    found = limits.unstorable(body)
    if found:
        field = limits.dotted(found[0]) or "body"
        raise InvalidInput(f"{field}: {found[1]}", field=field)


def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send the token as 'Authorization: Bearer <token>'")
    return token


BearerToken = Annotated[str, Depends(bearer_token)]


def client_address(connection: HTTPConnection) -> str:
    """Who is calling, as the limits count them: the peer, or behind a proxy that
    `settings.trusted_proxies` names, the address it forwarded (the app's ProxyHeadersMiddleware)."""
    return connection.client.host if connection.client else "unknown"


ClientAddress = Annotated[str, Depends(client_address)]


async def _caller(request: Request, services: ServicesDep) -> Person:
    if request.headers.get("authorization") is not None:
        token = bearer_token(request.headers["authorization"])
        return await run_in_session(services.open_session, lambda s: people.authenticate(session=s, token=token))
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized("sign in at /login, or send 'Authorization: Bearer <token>'")
    person, web_session = await run_in_session(
        services.open_session, lambda s: accounts.by_cookie(session=s, cookie=cookie, now=utcnow())
    )
    if request.method not in SAFE_METHODS and not secrets.compare_digest(
        request.headers.get(CSRF_HEADER, ""), web_session.csrf_token
    ):
        raise Forbidden(f"a change made with the session cookie needs the session's {CSRF_HEADER} header")
    return person


RoleCheck = Callable[[Request, Services], Awaitable[Person]]
# Every dependency that asks who is calling and in which role (app/api/openapi.py lists their refusals).
ROLE_CHECKS: set[RoleCheck] = set()


def _with_role(roles: frozenset[Role], described: str) -> RoleCheck:
    async def current(request: Request, services: ServicesDep) -> Person:
        person = await _caller(request, services)
        if person.role not in roles | {Role.admin}:
            raise Forbidden(f"{person.name} is not {described}")
        return person

    ROLE_CHECKS.add(current)
    return current


# Whoever handles customers: agents and supervisors (and admins).
CurrentAgent = Annotated[Person, Depends(_with_role(frozenset({Role.agent, Role.supervisor}), "an agent"))]
CurrentSupervisor = Annotated[Person, Depends(_with_role(frozenset({Role.supervisor}), "a supervisor"))]
CurrentKnowledgeManager = Annotated[
    Person, Depends(_with_role(frozenset({Role.knowledge_manager}), "a knowledge manager"))
]
CurrentAdmin = Annotated[Person, Depends(_with_role(frozenset(), "an admin"))]
# Anyone signed in, whatever their role: for reading who they are.
CurrentPerson = Annotated[Person, Depends(_with_role(frozenset(Role), "signed in"))]
