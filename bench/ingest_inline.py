"""The baseline of `carebridge bench ingest`: a webhook handler that does all the work before it
answers (customer, conversation, message, knowledge-base answer, reply), as a first version would.

Run as `uvicorn bench.ingest_inline:app` with the service's `CAREBRIDGE_*` settings.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI, HTTPException, Request
from sqlmodel import Session, select

from app import tables  # noqa: F401  (the whole schema, for foreign keys)
from app.conversations import messages
from app.core.db import make_engine, run_in_session, session_factory
from app.core.settings import get_settings
from app.kb.live import LiveIndex
from app.social import inbox, intake, signatures
from app.social import meta as meta_webhook
from app.social.models import InboxEvent, InboxStatus
from app.social.platform_events import RawEvent
from knowledge import OnnxEmbedder, onnx, top_answer


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    app.state.open_session = session_factory(make_engine(settings.database_url))
    embedder = await asyncio.to_thread(OnnxEmbedder, onnx.prepared(settings.embedding_model_dir))
    app.state.knowledge = LiveIndex(embedder, settings.var_dir / "knowledge-index")
    await app.state.knowledge.start(app.state.open_session)
    yield


app = FastAPI(lifespan=lifespan)


def process(session: Session, *, event: RawEvent, reply: str | None) -> None:
    inbox.store(session=session, events=[event])
    found = select(InboxEvent).where(InboxEvent.platform == event.platform, InboxEvent.event_key == event.key)
    stored = session.exec(found).first()
    if stored is None or stored.status != InboxStatus.pending:
        return
    inbound = intake.normalize(stored, None)
    for conversation, message in intake.accept(session=session, inbound=inbound, event_key=event.key):
        if reply and message.author == "customer":
            messages.add_bot_reply(session=session, conversation_id=conversation.id, text=reply)
    inbox.finish(session=session, event=stored, status=InboxStatus.processed)


@app.post("/webhooks/meta")
async def receive(request: Request) -> dict[str, int]:
    settings = get_settings()
    body = await request.body()
    if not signatures.meta_valid(settings.meta_app_secret, body, request.headers.get("x-hub-signature-256")):
        raise HTTPException(401, "bad signature")
    events = meta_webhook.split(json.loads(body))
    for event in events:
        text = event.raw["event"].get("message", {}).get("text", "")
        matches = await app.state.knowledge.search(text, 3)
        best = top_answer(matches, settings.kb_answer_threshold)
        reply = best.article.answer if best else None
        await run_in_session(app.state.open_session, partial(process, event=event, reply=reply))
    return {"received": len(events)}
