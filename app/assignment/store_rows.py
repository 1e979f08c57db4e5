"""What every part of the routing store shares: the transaction's session and the routing policy."""

from typing import TypeVar

from sqlmodel import Session, SQLModel

from routing import Policy

RowT = TypeVar("RowT", bound=SQLModel)


class StoreRows:
    """The session and policy of the store's one transaction; `SqlRoutingStore` sets them."""

    _session: Session
    _policy: Policy

    def _get(self, model: type[RowT], key: object) -> RowT | None:
        # A lookup by primary key finds the row in the session if it changed there, so it needs no
        # flush first; not flushing lets a batch of changes write their rows in bulk at the end.
        with self._session.no_autoflush:
            return self._session.get(model, key)
