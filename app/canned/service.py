"""Canned responses: the list agents insert from, and the supervisors' changes to it."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.canned.models import CannedResponse
from app.core.errors import Conflict, NotFound
from app.core.timestamps import utcnow


def get_all(*, session: Session) -> list[CannedResponse]:
    """Every canned response, in the order of their shortcuts."""
    return list(session.exec(select(CannedResponse).order_by(col(CannedResponse.shortcut))))


def _by_shortcut(session: Session, shortcut: str) -> CannedResponse | None:
    return session.exec(select(CannedResponse).where(CannedResponse.shortcut == shortcut)).first()


def put(
    *, session: Session, shortcut: str, new_shortcut: str, title: str, text: str, author_id: int | None
) -> CannedResponse:
    """Create or replace the response under `shortcut`, which becomes `new_shortcut`."""
    row = _by_shortcut(session, shortcut) or CannedResponse(shortcut=shortcut, title="", text="")
    row.shortcut, row.title, row.text = new_shortcut, title, text
    row.updated_by, row.updated_at = author_id, utcnow()
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"the shortcut /{new_shortcut} is taken") from exc
    return row


def delete(*, session: Session, shortcut: str) -> None:
    """Remove the response under `shortcut`."""
    row = _by_shortcut(session, shortcut)
    if row is None:
        raise NotFound(f"no canned response /{shortcut}")
    session.delete(row)
