"""Which model the knowledge base embeds with, chosen in the database so that every service instance
sharing it follows one choice: `carebridge kb tune` stores the graph it made there, `--reset` records
the stock model, and each instance copies a tuned graph into its own models folder before loading it.

Before any choice is recorded, the models folder decides, as `knowledge.onnx.for_knowledge` says.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, delete, select

from app.db import SessionFactory, unit_of_work
from app.kb.models import KnowledgeModel
from knowledge import onnx

# Choices kept, graphs included: the one in force and the two before it, for an instance that was
# slow to follow. Each graph is about 90 MB.
KEEP = 3


@dataclass(frozen=True)
class Choice:
    id: int
    # None: the stock model.
    fingerprint: str | None


def record_tuned(*, session: Session, graph: Path) -> Choice:
    return _record(session, KnowledgeModel(fingerprint=onnx.fingerprint(graph), graph=graph.read_bytes()))


def record_stock(*, session: Session) -> Choice:
    return _record(session, KnowledgeModel())


def _record(session: Session, row: KnowledgeModel) -> Choice:
    session.add(row)
    session.flush()
    assert row.id is not None
    kept = select(KnowledgeModel.id).order_by(col(KnowledgeModel.id).desc()).limit(KEEP)
    session.exec(delete(KnowledgeModel).where(col(KnowledgeModel.id).not_in(kept.scalar_subquery())))
    return Choice(row.id, row.fingerprint)


def in_force(open_session: SessionFactory) -> Choice | None:
    """The newest choice, read without its graph: instances ask every few seconds."""
    with unit_of_work(open_session) as session:
        row = session.exec(
            select(KnowledgeModel.id, KnowledgeModel.fingerprint).order_by(col(KnowledgeModel.id).desc()).limit(1)
        ).first()
    return None if row is None else Choice(*row)


def model_file(open_session: SessionFactory, models_dir: Path) -> Path:
    """The graph this instance should embed with now."""
    choice = in_force(open_session)
    return onnx.for_knowledge(models_dir) if choice is None else graph_file(open_session, choice, models_dir)


def graph_file(open_session: SessionFactory, choice: Choice, models_dir: Path) -> Path:
    """The file holding `choice`'s graph: the stock one, or the tuned one, copied out of the database
    unless the folder already holds it (as it does where `carebridge kb tune` ran)."""
    if choice.fingerprint is None:
        return onnx.prepared(models_dir)
    target = onnx.tuned(models_dir)
    if target.exists() and onnx.fingerprint(target) == choice.fingerprint:
        return target
    with unit_of_work(open_session) as session:
        row = session.get(KnowledgeModel, choice.id)
        graph = None if row is None else row.graph
    if graph is None:
        raise LookupError(f"the tuned model {choice.fingerprint} is no longer in the database")
    if hashlib.sha256(graph).hexdigest()[: len(choice.fingerprint)] != choice.fingerprint:
        raise ValueError(f"the stored graph of model {choice.fingerprint} does not match its fingerprint")
    partial = target.with_name(f".{target.name}.partial")
    partial.write_bytes(graph)
    partial.replace(target)
    return target
