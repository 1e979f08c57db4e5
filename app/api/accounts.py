"""Signing in to the consoles (a session cookie plus a CSRF token), and the admins' people API."""

import re
from functools import partial
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, StringConstraints, field_validator
from sqlmodel import Session

from app.accounts import passwords
from app.accounts import service as accounts
from app.api.deps import SESSION_COOKIE, ClientAddress, CurrentAdmin, CurrentPerson, ServicesDep
from app.api.openapi import refusals
from app.core.channel_names import CHANNELS
from app.core.db import run_in_session
from app.core.errors import TooManyRequests, Unauthorized
from app.core.limits import RowId
from app.core.security import new_token
from app.core.timestamps import utcnow
from app.people import service as people
from app.people.models import Person, PersonPublic, Role

router = APIRouter(tags=["accounts"])

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANGUAGE = re.compile(r"^[a-z]{2}$")


class Credentials(BaseModel):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=passwords.MAX_LENGTH)]


class Signed(BaseModel):
    person: PersonPublic
    email: str
    csrf_token: str


@router.post("/api/session", responses=refusals(401, 429))
async def sign_in(
    body: Credentials, request: Request, response: Response, services: ServicesDep, address: ClientAddress
) -> Signed:
    """Sign in with email and password; the answer sets the session cookie. Repeated failures for one
    email or from one address wait (429 with Retry-After)."""
    outcome = await anyio.to_thread.run_sync(
        partial(
            accounts.sign_in,
            open_session=services.open_session,
            email=body.email,
            password=body.password,
            address=address,
            now=utcnow(),
        )
    )
    if outcome.retry_after:
        raise TooManyRequests(f"too many failed sign-ins: try again in {outcome.retry_after} s", outcome.retry_after)
    if outcome.person is None:
        raise Unauthorized("wrong email or password")
    secure = request.url.scheme == "https" or services.settings.environment == "production"
    response.set_cookie(
        SESSION_COOKIE,
        outcome.cookie,
        max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=secure,
        samesite="strict",
        path="/",
    )
    return Signed(person=PersonPublic.of(outcome.person), email=outcome.person.email, csrf_token=outcome.csrf_token)


@router.get("/api/session", responses=refusals(401))
async def current_session(request: Request, services: ServicesDep) -> Signed:
    """Who the session cookie signs in, and the CSRF token the page sends with changes."""
    cookie = request.cookies.get(SESSION_COOKIE) or ""
    person, web_session = await run_in_session(
        services.open_session, lambda s: accounts.by_cookie(session=s, cookie=cookie, now=utcnow())
    )
    return Signed(person=PersonPublic.of(person), email=person.email, csrf_token=web_session.csrf_token)


@router.delete("/api/session", status_code=204)
async def sign_out(request: Request, response: Response, services: ServicesDep, _: CurrentPerson) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await run_in_session(services.open_session, lambda s: accounts.sign_out(session=s, cookie=cookie))
    response.delete_cookie(SESSION_COOKIE, path="/")


class PersonDetails(PersonPublic):
    email: str
    can_sign_in: bool

    @classmethod
    def of(cls, person: Person) -> "PersonDetails":
        return cls(
            **PersonPublic.of(person).model_dump(), email=person.email, can_sign_in=person.password_hash is not None
        )


class PersonChange(BaseModel):
    """What an admin sets; a field left out stays as it is."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    role: Role | None = None
    password: str | None = None
    skills: dict[str, Annotated[int, Field(ge=1, le=10)]] | None = None
    languages: list[str] | None = None
    capacity: dict[str, Annotated[int, Field(ge=0, le=100)]] | None = None
    teams: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]] | None = None

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not all(LANGUAGE.match(code) for code in value):
            raise ValueError("languages are two-letter codes such as en, de")
        return value

    @field_validator("capacity")
    @classmethod
    def _channels(cls, value: dict[str, int] | None) -> dict[str, int] | None:
        unknown = sorted(set(value or {}) - CHANNELS)
        if unknown:
            raise ValueError(f"unknown channels {unknown}; known: {sorted(CHANNELS)}")
        return value


class PersonCreate(PersonChange):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    email: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=320)]
    role: Role = Role.agent

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not EMAIL.match(value):
            raise ValueError("not an email address")
        return value


class PersonWithToken(BaseModel):
    person: PersonDetails
    # For the API and websockets; shown once, stored only as a digest.
    token: str


@router.get("/api/admin/people")
async def list_people(services: ServicesDep, _: CurrentAdmin) -> list[PersonDetails]:
    def read(session: Session) -> list[PersonDetails]:
        return [PersonDetails.of(a) for a in accounts.get_people(session=session)]

    return await run_in_session(services.open_session, read)


@router.post("/api/admin/people", status_code=201)
async def add_person(body: PersonCreate, services: ServicesDep, _: CurrentAdmin) -> PersonWithToken:
    """Create an account: with a password the person can sign in to the consoles."""
    token = new_token()

    def create(session: Session) -> PersonDetails:
        person = accounts.add_person(
            session=session,
            name=body.name,
            email=body.email,
            token=token,
            role=body.role,
            password=body.password,
            skills=body.skills,
            capacity=body.capacity,
            languages=body.languages,
            teams=body.teams,
        )
        return PersonDetails.of(person)

    return PersonWithToken(person=await run_in_session(services.open_session, create), token=token)


@router.patch("/api/admin/people/{person_id}")
async def change_person(
    person_id: RowId, body: PersonChange, request: Request, services: ServicesDep, admin: CurrentAdmin
) -> PersonDetails:
    """Change a person's role, skills, languages, channels and capacities, or password; the router
    uses the new values from its next decision. A new password or role signs the person out
    everywhere, except an admin changing their own password, who stays signed in here."""
    own_session = request.cookies.get(SESSION_COOKIE) if person_id == admin.id else None

    def change(session: Session) -> PersonDetails:
        person = accounts.change_person(
            session=session,
            person_id=person_id,
            admin_id=admin.id,
            keeping=own_session,
            name=body.name,
            role=body.role,
            password=body.password,
            skills=body.skills,
            languages=body.languages,
            capacity=body.capacity,
            teams=body.teams,
        )
        return PersonDetails.of(person)

    changed = await run_in_session(services.open_session, change)
    if body.role is not None or body.password is not None:
        services.hub.to_agent_now(person_id, accounts.CREDENTIALS_CHANGED)
    return changed


@router.post("/api/admin/people/{person_id}/token")
async def replace_token(person_id: RowId, services: ServicesDep, _: CurrentAdmin) -> PersonWithToken:
    """Give a person a new API and websocket token, shown once in the answer; the old one stops
    working at once. Their console sessions stay."""

    def replace(session: Session) -> PersonWithToken:
        person = people.get(session=session, person_id=person_id)
        token = accounts.replace_token(session=session, person=person)
        return PersonWithToken(person=PersonDetails.of(person), token=token)

    replaced = await run_in_session(services.open_session, replace)
    services.hub.to_agent_now(person_id, accounts.CREDENTIALS_CHANGED)
    return replaced
