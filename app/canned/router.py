"""Canned responses over HTTP: agents read them; supervisors (and admins) write them."""

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, StringConstraints
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.canned.models import CannedResponse
from app.db import run_in_session
from app.deps import CurrentAgent, CurrentSupervisor, ServicesDep
from app.errors import Conflict, NotFound
from app.limits import MessageText
from app.timestamps import utcnow

router = APIRouter(prefix="/api/canned", tags=["canned responses"])

# What agents type after a slash: letters (kept in lower case), digits, - and _.
Shortcut = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
]


class CannedIn(BaseModel):
    shortcut: Shortcut
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    text: MessageText


class CannedOut(CannedIn):
    id: int


def _out(row: CannedResponse) -> CannedOut:
    assert row.id is not None
    return CannedOut(id=row.id, shortcut=row.shortcut, title=row.title, text=row.text)


@router.get("")
async def list_canned(services: ServicesDep, _: CurrentAgent) -> list[CannedOut]:
    def read(session: Session) -> list[CannedOut]:
        return [_out(row) for row in session.exec(select(CannedResponse).order_by(col(CannedResponse.shortcut)))]

    return await run_in_session(services.open_session, read)


@router.put("/{shortcut}")
async def put_canned(shortcut: Shortcut, body: CannedIn, services: ServicesDep, author: CurrentSupervisor) -> CannedOut:
    """Create or replace the response under a shortcut (a new shortcut in the body renames it)."""

    def put(session: Session) -> CannedOut:
        row = session.exec(select(CannedResponse).where(CannedResponse.shortcut == shortcut)).first()
        row = row or CannedResponse(shortcut=shortcut, title="", text="")
        row.shortcut, row.title, row.text = body.shortcut, body.title, body.text
        row.updated_by, row.updated_at = author.id, utcnow()
        session.add(row)
        try:
            session.flush()
        except IntegrityError as exc:
            raise Conflict(f"the shortcut /{body.shortcut} is taken") from exc
        return _out(row)

    return await run_in_session(services.open_session, put)


@router.delete("/{shortcut}", status_code=204)
async def delete_canned(shortcut: Shortcut, services: ServicesDep, _: CurrentSupervisor) -> None:
    def delete(session: Session) -> None:
        row = session.exec(select(CannedResponse).where(CannedResponse.shortcut == shortcut)).first()
        if row is None:
            raise NotFound(f"no canned response /{shortcut}")
        session.delete(row)

    await run_in_session(services.open_session, delete)
