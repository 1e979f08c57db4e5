"""Signing in and out, and finding who a session cookie belongs to."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func
from sqlmodel import Session, col, select

from app.accounts import passwords
from app.accounts.models import LoginAttempt, WebSession
from app.agents import service as agents
from app.agents.models import Agent
from app.errors import Unauthorized
from app.security import hash_token, new_token

SESSION_LIFETIME = timedelta(hours=12)
THROTTLE_WINDOW = timedelta(minutes=15)
# Failed sign-ins allowed per email, and per address, in the window before further tries wait.
FAILURES_PER_EMAIL = 5
FAILURES_PER_ADDRESS = 30


@dataclass(frozen=True)
class SignIn:
    """What an attempt came to; the attempt is recorded whatever it came to."""

    agent: Agent | None = None
    cookie: str = ""
    csrf_token: str = ""
    retry_after: int = 0


def sign_in(*, session: Session, email: str, password: str, address: str, now: datetime) -> SignIn:
    email = email.strip().lower()
    since = now - THROTTLE_WINDOW
    oldest = _oldest_failure(session, since, col(LoginAttempt.email) == email, FAILURES_PER_EMAIL)
    oldest = oldest or _oldest_failure(session, since, col(LoginAttempt.ip) == address, FAILURES_PER_ADDRESS)
    if oldest is not None:
        return SignIn(retry_after=max(1, int((oldest + THROTTLE_WINDOW - now).total_seconds()) + 1))
    agent = agents.get_by_email(session=session, email=email)
    stored = agent.password_hash if agent is not None else None
    accepted = passwords.verify(stored, password)
    session.add(LoginAttempt(email=email, ip=address, succeeded=accepted, at=now))
    if not accepted or agent is None or agent.id is None:
        return SignIn()
    if stored is not None and passwords.needs_rehash(stored):
        agent.password_hash = passwords.hash_password(password)
        session.add(agent)
    cookie, csrf_token = new_token(), new_token()
    session.add(
        WebSession(id=hash_token(cookie), agent_id=agent.id, csrf_token=csrf_token, expires_at=now + SESSION_LIFETIME)
    )
    return SignIn(agent=agent, cookie=cookie, csrf_token=csrf_token)


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


def by_cookie(*, session: Session, cookie: str, now: datetime) -> tuple[Agent, WebSession]:
    found = session.get(WebSession, hash_token(cookie))
    if found is None or found.expires_at <= now:
        raise Unauthorized("not signed in, or the session expired: sign in again")
    return agents.get(session=session, agent_id=found.agent_id), found


def sign_out(*, session: Session, cookie: str) -> None:
    session.execute(delete(WebSession).where(col(WebSession.id) == hash_token(cookie)))


def forget_old(*, session: Session, now: datetime) -> None:
    """Expired sessions and attempts older than the throttle window are of no use to anyone."""
    session.execute(delete(WebSession).where(col(WebSession.expires_at) <= now))
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.at) < now - THROTTLE_WINDOW))
