"""Typed dependencies, so a route's signature reads like a sentence."""

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header
from starlette.requests import HTTPConnection

from app.agents import service as agents
from app.agents.models import Agent, Role
from app.db import run_in_session
from app.errors import Forbidden, Unauthorized
from app.services import Services


def get_services(connection: HTTPConnection) -> Services:
    services: Services = connection.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def bearer_token(authorization: Annotated[str | None, Header()] = None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send the token as 'Authorization: Bearer <token>'")
    return token


BearerToken = Annotated[str, Depends(bearer_token)]


async def _agent(services: ServicesDep, token: BearerToken) -> Agent:
    return await run_in_session(services.open_session, lambda s: agents.authenticate(session=s, token=token))


# Anyone who works in the console: agents, supervisors, knowledge managers.
CurrentAgent = Annotated[Agent, Depends(_agent)]


def _with_role(role: Role, described: str) -> Callable[[Services, str], Awaitable[Agent]]:
    async def current(services: ServicesDep, token: BearerToken) -> Agent:
        agent = await run_in_session(services.open_session, lambda s: agents.authenticate(session=s, token=token))
        if agent.role != role:
            raise Forbidden(f"{agent.name} is not {described}")
        return agent

    return current


CurrentSupervisor = Annotated[Agent, Depends(_with_role(Role.supervisor, "a supervisor"))]
CurrentKnowledgeManager = Annotated[Agent, Depends(_with_role(Role.knowledge_manager, "a knowledge manager"))]
