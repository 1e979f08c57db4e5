"""Canned responses over HTTP: agents read them; supervisors (and admins) write them."""

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, StringConstraints
from sqlmodel import Session

from app.api.deps import CurrentAgent, CurrentSupervisor, ServicesDep
from app.canned import service as canned
from app.canned.models import CannedResponse
from app.core.db import run_in_session
from app.core.limits import MessageText

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
        return [_out(row) for row in canned.get_all(session=session)]

    return await run_in_session(services.open_session, read)


@router.put("/{shortcut}")
async def put_canned(shortcut: Shortcut, body: CannedIn, services: ServicesDep, author: CurrentSupervisor) -> CannedOut:
    """Create or replace the response under a shortcut (a new shortcut in the body renames it)."""

    def put(session: Session) -> CannedOut:
        row = canned.put(
            session=session,
            shortcut=shortcut,
            new_shortcut=body.shortcut,
            title=body.title,
            text=body.text,
            author_id=author.id,
        )
        return _out(row)

    return await run_in_session(services.open_session, put)


@router.delete("/{shortcut}", status_code=204)
async def delete_canned(shortcut: Shortcut, services: ServicesDep, _: CurrentSupervisor) -> None:
    await run_in_session(services.open_session, lambda s: canned.delete(session=s, shortcut=shortcut))
