"""Which model the knowledge base embeds with, chosen in the database so that every service instance
sharing it follows one choice: `carebridge kb tune` stores the graph it made there, `--reset` records
the stock model, and each instance copies a tuned graph into its own models folder before loading it.

Before any choice is recorded, the models folder decides, as `knowledge.onnx.for_knowledge` says.
"""

import asyncio
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from sqlmodel import Session, col, delete, select

from app.core.db import SessionFactory, unit_of_work
from app.kb.live import LiveIndex
from app.kb.models import KnowledgeModel
from knowledge import OnnxEmbedder, onnx

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0
RETRY_FIRST_SECONDS = 30.0
RETRY_MOST_SECONDS = 600.0


@dataclass(frozen=True)
class Choice:
    id: int
    # None: the stock model.
    fingerprint: str | None


def record_tuned(*, session: Session, graph: bytes) -> Choice:
    return _record(session, KnowledgeModel(fingerprint=onnx.fingerprint_of(graph), graph=graph))


def record_stock(*, session: Session) -> Choice:
    return _record(session, KnowledgeModel())


def _record(session: Session, row: KnowledgeModel) -> Choice:
    """Only the newest choice is kept: instances follow it alone, and a graph is about 90 MB."""
    session.add(row)
    session.flush()
    assert row.id is not None
    session.exec(delete(KnowledgeModel).where(col(KnowledgeModel.id) < row.id))
    return Choice(row.id, row.fingerprint)


def in_force(open_session: SessionFactory) -> Choice | None:
    """The newest choice, read without its graph: instances ask every few seconds."""
    with unit_of_work(open_session) as session:
        row = session.exec(
            select(KnowledgeModel.id, KnowledgeModel.fingerprint).order_by(col(KnowledgeModel.id).desc()).limit(1)
        ).first()
    return None if row is None else Choice(*row)


def starting_embedder(open_session: SessionFactory, models_dir: Path) -> OnnxEmbedder:
    """The model this instance starts with: the one in force, or the stock one if that cannot be had
    or loaded (an instance that answers with the stock model beats one that does not start)."""
    choice = in_force(open_session)
    try:
        path = onnx.for_knowledge(models_dir) if choice is None else graph_file(open_session, choice, models_dir)
        return OnnxEmbedder(path)
    except Exception:
        log.exception("event=knowledge_model_unavailable choice=%s fallback=stock", choice)
        return OnnxEmbedder(onnx.prepared(models_dir))


def graph_file(open_session: SessionFactory, choice: Choice, models_dir: Path) -> Path:
    """The file holding `choice`'s graph: the stock one, or the tuned one, copied out of the database
    unless the folder already holds it (as it does where `carebridge kb tune` ran)."""
    if choice.fingerprint is None:
        return onnx.prepared(models_dir)
    target = onnx.tuned(models_dir)
    if _holds(target, choice.fingerprint):
        return target
    with unit_of_work(open_session) as session:
        row = session.get(KnowledgeModel, choice.id)
        graph = None if row is None else row.graph
    if graph is None:
        raise LookupError(f"the tuned model {choice.fingerprint} is no longer in the database")
    if onnx.fingerprint_of(graph) != choice.fingerprint:
        raise ValueError(f"the stored graph of model {choice.fingerprint} does not match its fingerprint")
    install(graph, target)
    return target


def _holds(target: Path, fingerprint: str) -> bool:
    try:
        return onnx.fingerprint(target) == fingerprint
    except OSError:  # missing, or unreadable (written by another user): copied again
        return False


def install(graph: bytes, target: Path) -> None:
    """Put `graph` at `target` whole, under a name of its own until then: instances sharing a models
    folder may copy the same graph at once, and none may load half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o644)  # not mkstemp's 0600: a service may run as another user
            handle.write(graph)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


class _Failure(NamedTuple):
    choice_id: int
    retry_at: float
    wait: float


async def follow_forever(knowledge: LiveIndex, open_session: SessionFactory, models_dir: Path) -> None:
    """The model `carebridge kb tune` recorded (or `--reset` went back from) answers customers within
    seconds, with no restart, on every instance sharing the database. Until the database names one,
    the models folder decides: its file is hashed only when its stat changed (or on the first look,
    which catches a change made while the service started). A recorded model that cannot be had
    (its graph damaged or gone) is tried again ever less often, not every few seconds."""
    stock: str | None = None
    seen: tuple[Path, int, int] | None = None
    failed: _Failure | None = None
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(CHECK_SECONDS)
        choice = None
        try:
            choice = await asyncio.to_thread(in_force, open_session)
            if choice is None:
                current = await asyncio.to_thread(_folder_choice, models_dir)
                if current == seen:
                    continue
                if await asyncio.to_thread(onnx.fingerprint, current[0]) != knowledge.model:
                    await knowledge.use_model(await asyncio.to_thread(OnnxEmbedder, current[0]))
                seen = current
                continue
            if failed is not None and failed.choice_id == choice.id and loop.time() < failed.retry_at:
                continue
            if choice.fingerprint is None and stock is None:
                stock = await asyncio.to_thread(lambda: onnx.fingerprint(onnx.prepared(models_dir)))
            if (choice.fingerprint or stock) != knowledge.model:
                path = await asyncio.to_thread(graph_file, open_session, choice, models_dir)
                await knowledge.use_model(await asyncio.to_thread(OnnxEmbedder, path))
            failed = None
        except Exception:
            log.exception("event=knowledge_model_change_failed")
            if choice is not None:
                again = failed is not None and failed.choice_id == choice.id
                wait = min(failed.wait * 2, RETRY_MOST_SECONDS) if failed and again else RETRY_FIRST_SECONDS
                failed = _Failure(choice.id, loop.time() + wait, wait)


def _folder_choice(models_dir: Path) -> tuple[Path, int, int]:
    path = onnx.for_knowledge(models_dir)
    stat = path.stat()
    return path, stat.st_mtime_ns, stat.st_size
