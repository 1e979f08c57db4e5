"""Signing in and out, finding who a session cookie belongs to, and the admins' changes to people."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, text, update
from sqlmodel import Session, col, select

from app.accounts import passwords
from app.accounts.models import LoginAttempt, WebSession
from app.core.channel_names import WEBCHAT
from app.core.db import SessionFactory, in_transaction
from app.core.errors import Conflict, InvalidInput, Unauthorized
from app.core.security import hash_token, new_token
from app.people import service as people
from app.people.models import Person, Role

SESSION_LIFETIME = timedelta(hours=12)
THROTTLE_WINDOW = timedelta(minutes=15)
# Failed sign-ins allowed per email, and per address, in the window before further tries wait.
FAILURES_PER_EMAIL = 5
FAILURES_PER_ADDRESS = 30
# The first key of the sign-in limits' PostgreSQL advisory locks (two-key locks: apart from routing's).
_LOCKS = 0x51617


@dataclass(frozen=True)
class SignIn:
    """What an attempt came to; the attempt is recorded whatever it came to."""

    person: Person | None = None
    cookie: str = ""
    csrf_token: str = ""
    retry_after: int = 0


@dataclass(frozen=True)
class _Attempt:
    """An attempt counted as a failure until its password is found right."""

    id: int
    person_id: int | None
    stored: str | None


def sign_in(*, open_session: SessionFactory, email: str, password: str, address: str, now: datetime) -> SignIn:
    """Check the limits and record the attempt in one short transaction, then verify the password
    outside it, so Argon2 runs only for attempts within the limits and holds no lock meanwhile.
    Blocking: call it off the event loop."""
    email = email.strip().lower()
    counted = in_transaction(open_session, lambda s: _count_and_record(s, email, address, now))
    if isinstance(counted, SignIn):
        return counted
    if not passwords.verify(counted.stored, password) or counted.person_id is None:
        return SignIn()
    return in_transaction(open_session, lambda s: _open_session(s, counted, password, now))


def _count_and_record(session: Session, email: str, address: str, now: datetime) -> _Attempt | SignIn:
    """Count the email's and the address's failures and record this attempt as one more, as one
    step: concurrent attempts for one email or address queue here, so each sees the ones before it."""
    _lock(session, f"email:{email}", f"address:{address}")
    since = now - THROTTLE_WINDOW
    oldest = _oldest_failure(session, since, col(LoginAttempt.email) == email, FAILURES_PER_EMAIL)
    oldest = oldest or _oldest_failure(session, since, col(LoginAttempt.ip) == address, FAILURES_PER_ADDRESS)
    if oldest is not None:
        return SignIn(retry_after=max(1, int((oldest + THROTTLE_WINDOW - now).total_seconds()) + 1))
    person = people.get_by_email(session=session, email=email)
    attempt = LoginAttempt(email=email, ip=address, succeeded=False, at=now)
    session.add(attempt)
    session.flush()
    assert attempt.id is not None
    return _Attempt(attempt.id, person.id if person else None, person.password_hash if person else None)


def _lock(session: Session, *keys: str) -> None:
    """Hold, until the transaction ends, a PostgreSQL advisory lock per key, always in the order given
    (email before address), so two attempts never wait for each other in a circle. SQLite's
    BEGIN IMMEDIATE, which the first statement starts, already lets one transaction in at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in keys:
        session.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"), {"space": _LOCKS, "key": key})


def _open_session(session: Session, attempt: _Attempt, password: str, now: datetime) -> SignIn:
    # Locked: a password change committing meanwhile is waited for and seen, so the old password
    # opens no session once `set_password` has ended the others.
    person = session.get(Person, attempt.person_id, with_for_update=True)
    if person is None or person.id is None or person.password_hash != attempt.stored or attempt.stored is None:
        return SignIn()
    session.execute(update(LoginAttempt).where(col(LoginAttempt.id) == attempt.id).values(succeeded=True))
    if passwords.needs_rehash(attempt.stored):
        person.password_hash = passwords.hash_password(password)
        session.add(person)
    cookie, csrf_token = new_token(), new_token()
    session.add(
        WebSession(id=hash_token(cookie), person_id=person.id, csrf_token=csrf_token, expires_at=now + SESSION_LIFETIME)
    )
    return SignIn(person=person, cookie=cookie, csrf_token=csrf_token)


def _oldest_failure(session: Session, since: datetime, who: ColumnElement[bool], allowed: int) -> datetime | None:
    """When the oldest failure counted against `who` happened, if `who` has used up its tries."""
    failures = session.exec(
        select(func.count(), func.min(LoginAttempt.at)).where(
            who, col(LoginAttempt.succeeded).is_(False), col(LoginAttempt.at) >= since
        )
    ).one()
    count, oldest = failures
    if count < allowed or oldest is None:
        return None
    return oldest if oldest.tzinfo is not None else oldest.replace(tzinfo=since.tzinfo)


def by_cookie(*, session: Session, cookie: str, now: datetime) -> tuple[Person, WebSession]:
    found = session.get(WebSession, hash_token(cookie))
    if found is None or found.expires_at <= now:
        raise Unauthorized("not signed in, or the session expired: sign in again")
    return people.get(session=session, person_id=found.person_id), found


def sign_out(*, session: Session, cookie: str) -> None:
    session.execute(delete(WebSession).where(col(WebSession.id) == hash_token(cookie)))


# Told to a person's open connections after their sessions, token or role changed, so that each checks
# at once what it signed in with (app/api/agent_socket.py); they also check every few minutes regardless.
CREDENTIALS_CHANGED = {"type": "credentials_changed"}


def end_sessions(*, session: Session, person_id: int, keeping: str | None = None) -> None:
    """End every web session of one person but the one whose cookie is `keeping`: at once on every
    instance, since each request looks its session up in the database. API tokens stay (`replace_token`)."""
    ending = delete(WebSession).where(col(WebSession.person_id) == person_id)
    if keeping:
        ending = ending.where(col(WebSession.id) != hash_token(keeping))
    session.execute(ending)


def set_password(*, session: Session, person: Person, password: str, keeping: str | None = None) -> None:
    """A new console password, from an admin's reset or the command line: whoever signed in with the
    old one is signed out, but for the session (`keeping`) of someone changing their own."""
    assert person.id is not None
    person.password_hash = passwords.hash_password(password)
    session.add(person)
    end_sessions(session=session, person_id=person.id, keeping=keeping)


def set_role(*, session: Session, person: Person, role: Role) -> None:
    """A new role ends the person's sessions, so no page goes on showing what the old role allowed."""
    if role == person.role:
        return
    assert person.id is not None
    person.role = role
    session.add(person)
    end_sessions(session=session, person_id=person.id)


def replace_token(*, session: Session, person: Person) -> str:
    """A new API and websocket token for the person, to be shown once; the old one stops working."""
    token = new_token()
    person.token_hash = hash_token(token)
    session.add(person)
    return token


def forget_old(*, session: Session, now: datetime) -> None:
    """Expired sessions and attempts older than the throttle window are of no use to anyone."""
    session.execute(delete(WebSession).where(col(WebSession.expires_at) <= now))
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.at) < now - THROTTLE_WINDOW))


def get_people(*, session: Session) -> list[Person]:
    """Everyone with an account, in the order they were added."""
    return list(session.exec(select(Person).order_by(col(Person.id))))


def add_person(
    *,
    session: Session,
    name: str,
    email: str,
    token: str,
    role: Role,
    password: str | None,
    skills: dict[str, int] | None,
    capacity: dict[str, int] | None,
    languages: list[str] | None,
    teams: list[str] | None,
) -> Person:
    """An account; with a password the person can sign in to the consoles. Left out, the capacity is
    3 web chats and the language English; skills and teams none."""
    if people.get_by_email(session=session, email=email) is not None:
        raise Conflict(f"someone with email {email} exists already")
    person = people.create(
        session=session,
        name=name,
        email=email,
        token=token,
        skills=skills or {},
        capacity=capacity if capacity is not None else {WEBCHAT: 3},
        languages=languages or ["en"],
        teams=teams or [],
        role=role,
    )
    if password is not None:
        person.password_hash = passwords.hash_password(password)
    return person


def change_person(
    *,
    session: Session,
    person_id: int,
    admin_id: int | None,
    keeping: str | None,
    name: str | None = None,
    role: Role | None = None,
    password: str | None = None,
    skills: dict[str, int] | None = None,
    languages: list[str] | None = None,
    capacity: dict[str, int] | None = None,
    teams: list[str] | None = None,
) -> Person:
    """An admin's change to a person; what is None stays as it is. A new password or role ends the
    person's sessions but `keeping`, the session of an admin changing their own password."""
    person = people.get(session=session, person_id=person_id)
    if person.id == admin_id and role not in (None, Role.admin):
        raise InvalidInput("an admin cannot take away their own admin role", field="role")
    changes = {"name": name, "skills": skills, "languages": languages, "capacity": capacity, "teams": teams}
    for field, value in changes.items():
        if value is not None:
            setattr(person, field, value)
    session.add(person)
    if role is not None:
        set_role(session=session, person=person, role=role)
    if password is not None:
        set_password(session=session, person=person, password=password, keeping=keeping)
    return person
