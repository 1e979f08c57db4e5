"""The router's state in the database: `routing.RoutingStore` over the work_items, offers and people tables.

One store lives for one transaction. On PostgreSQL it first takes a transaction-level advisory
lock, so routing operations from any number of processes run one after another and two routers
can never hand out the same slot or the same conversation; SQLite's BEGIN IMMEDIATE does the same.
Rows are loaded once per transaction and written back when the engine saves them. Each table has
its part: agents (`store_agents.py`), work items (`store_work.py`), offers and decisions
(`store_offers.py`).
"""

from sqlalchemy import text
from sqlmodel import Session

from app.assignment.store_agents import AgentRows
from app.assignment.store_offers import OfferRows
from app.assignment.store_work import WorkRows
from routing import Policy

# Any constant works; it only has to be the same in every process of one deployment.
ROUTING_LOCK = 0x0CA3EB21
LOCKED = "carebridge.routing_locked"


def lock_routing(session: Session) -> None:
    """Wait for, then hold until the transaction ends, the right to change routing state.

    Taken inside a savepoint, PostgreSQL releases it again if the savepoint rolls back, so that case
    asks again each time; `BatchWriter` takes it once, outside its savepoints.
    """
    if session.get_bind().dialect.name != "postgresql" or session.info.get(LOCKED):
        return
    with session.no_autoflush:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROUTING_LOCK})
    if not session.in_nested_transaction():
        # Held by the whole transaction now: later stores in it need not ask again.
        session.info[LOCKED] = True


class SqlRoutingStore(OfferRows, WorkRows, AgentRows):
    """`routing.RoutingStore` over the database, for one transaction."""

    def __init__(self, session: Session, policy: Policy) -> None:
        self._session = session
        self._policy = policy
        self._agents = {}
        self._all_agents_loaded = False
        self._works = {}
        self._offer_ids = []
        self._new_offers = []
        self._new_decisions = []
        self._postgres = session.get_bind().dialect.name == "postgresql"
        self._offer_rows = {}
        lock_routing(session)
