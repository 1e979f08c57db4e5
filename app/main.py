"""The FastAPI application: wiring settings, storage, the knowledge index, Rasa and the websockets."""

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial

import httpx
from anyio import CapacityLimiter
from fastapi import FastAPI
from sqlmodel import Session
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import tables  # noqa: F401  (the whole schema, for foreign keys)
from app.accounts import service as accounts
from app.api.errors import install_error_handlers
from app.api.routes import include_routes
from app.assistant.breaker import CircuitBreaker
from app.assistant.rasa_client import RasaClient
from app.conversations.wire import publish_message
from app.core.channel_names import META, X
from app.core.db import checkpoint, make_engine, run_in_session, session_factory
from app.core.logs import configure_logging
from app.core.settings import Settings, get_settings
from app.core.timestamps import utcnow
from app.flows.assignment import AssignmentFlows
from app.flows.conversations import ConversationFlows
from app.kb import tuned_models
from app.kb.live import LiveIndex
from app.outbox.meta import MetaClient
from app.outbox.sender import RetryPolicy, Sender
from app.outbox.x import XClient
from app.realtime.bus import RedisBus, SingleInstance
from app.realtime.hub import Hub
from app.services import Lane, Services
from app.social.intake import Intake
from app.webchat import limits as webchat_limits
from knowledge import Embedder

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_SECONDS = 1.0
FORGET_EVERY_SECONDS = 60.0


async def start_services(settings: Settings, embedder: Embedder | None) -> Services:
    engine = make_engine(settings.database_url, checkpoint_apart=True)
    open_session = session_factory(engine)
    bus = RedisBus(settings.events_url, settings.database_url) if settings.events_url else SingleInstance()
    hub = Hub(open_session, bus, keep_for=timedelta(days=settings.agent_feed_days))
    http = httpx.AsyncClient()
    if embedder is None:
        embedder = await asyncio.to_thread(tuned_models.starting_embedder, open_session, settings.embedding_model_dir)
    knowledge = LiveIndex(embedder, settings.var_dir / "knowledge-index")
    await knowledge.start(open_session)
    assignment = AssignmentFlows(
        open_session=open_session,
        hub=hub,
        policy=settings.routing_policy,
        sla=timedelta(seconds=settings.sla_seconds),
        default_language=settings.default_language,
    )
    # Platform events are stored in a lane of their own; the intake, the bot's turns and the sender
    # share a small one, so a burst's processing leaves the acknowledgements room.
    ingest_engine = make_engine(settings.database_url, pool_size=4, urgent=True, checkpoint_apart=True)
    ingest = Lane(ingest_engine, session_factory(ingest_engine), CapacityLimiter(8))
    background = CapacityLimiter(settings.background_threads)
    meta = MetaClient(http, settings.meta_graph_url, settings.meta_page_token)
    x = XClient(http, settings.x_api_url, settings.x_bearer_token)
    # Each part is built complete, after the parts it calls: the sender needs nothing of the flows,
    # the flows wake the sender, the intake hands the flows what customers said.
    sender = Sender(
        open_session=open_session,
        clients={META: meta, X: x},
        policy=RetryPolicy(max_attempts=settings.outbox_max_attempts, base_seconds=settings.outbox_retry_seconds),
        notify=partial(publish_message, hub),
        limiter=background,
    )
    conversation_flows = ConversationFlows(
        open_session=open_session,
        bot=RasaClient(
            http,
            settings.rasa_url,
            settings.rasa_timeout_seconds,
            action_url=settings.action_url,
            breaker=CircuitBreaker(failures_to_open=settings.rasa_failures_to_open),
            token=settings.rasa_api_token(),
        ),
        knowledge=knowledge,
        direct_answer_threshold=settings.kb_direct_answer_threshold,
        hub=hub,
        assignment=assignment,
        outbound_queued=sender.wake,
        limiter=background,
    )
    intake = Intake(
        open_session=open_session,
        customer_message=conversation_flows.customer_message,
        read_comment=meta.comment,
        settle_seconds=settings.inbox_settle_seconds,
        limiter=background,
    )
    return Services(
        settings=settings,
        engine=engine,
        open_session=open_session,
        http=http,
        hub=hub,
        kb_index=knowledge,
        assignment_flows=assignment,
        conversation_flows=conversation_flows,
        intake=intake,
        sender=sender,
        ingest=ingest,
    )


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    services = await start_services(settings, app.state.embedder)
    app.state.services = services
    recovered = await services.conversation_flows.recover()
    # What start-up built (the models, the index, the routes) lives as long as the process: the
    # collector no longer walks it on every full collection. With a thousand agents connected, a
    # full collection held the process for 300 ms.
    gc.freeze()
    log.info("event=started unhandled_conversations=%d", recovered)
    services.assignment_flows.writer.start()
    realtime = asyncio.create_task(services.hub.run())
    background = [
        asyncio.create_task(_checkpoint_forever(services)),
        asyncio.create_task(services.assignment_flows.tick_forever()),
        asyncio.create_task(services.kb_index.follow(services.open_session)),
        asyncio.create_task(services.conversation_flows.bot.probe_forever(settings.rasa_probe_seconds)),
        asyncio.create_task(services.intake.run_forever()),
        asyncio.create_task(_forget_old_forever(services)),
    ]
    if app.state.embedder is None:  # the service chose its model itself, so it follows the choice
        models_dir = settings.embedding_model_dir
        background.append(
            asyncio.create_task(tuned_models.follow_forever(services.kb_index, services.open_session, models_dir))
        )
    sending = asyncio.create_task(services.sender.run_forever())
    try:
        yield
    finally:
        await services.sender.stop(sending)
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await services.conversation_flows.stop()
        await services.assignment_flows.writer.stop()
        realtime.cancel()
        await asyncio.gather(realtime, return_exceptions=True)
        await services.http.aclose()
        services.engine.dispose()
        services.ingest.engine.dispose()


async def _checkpoint_forever(services: Services) -> None:
    """On SQLite, the write-ahead log goes into the database file here rather than in some commit."""
    if not services.settings.is_sqlite:
        return
    while True:
        await asyncio.sleep(CHECKPOINT_EVERY_SECONDS)
        try:
            await asyncio.to_thread(checkpoint, services.engine)
        except Exception:
            log.exception("event=checkpoint_failed")


async def _forget_old_forever(services: Services) -> None:
    """What counts no more is deleted here: the web chat's requests out of the limits' window, expired
    console sessions and sign-in attempts out of the throttle's."""
    window = webchat_limits.Limits.of(services.settings).window

    def forget(session: Session) -> None:
        now = utcnow()
        webchat_limits.forget_old(session=session, window=window, now=now)
        accounts.forget_old(session=session, now=now)

    while True:
        await asyncio.sleep(FORGET_EVERY_SECONDS)
        try:
            await run_in_session(services.open_session, forget)
        except Exception:
            log.exception("event=forget_old_failed")


def create_app(settings: Settings | None = None, embedder: Embedder | None = None) -> FastAPI:
    """The service; `embedder` lets several apps in one process (the tests) share one loaded model."""
    settings = settings or get_settings()
    configure_logging()
    app = FastAPI(title="Carebridge", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.embedder = embedder
    install_error_handlers(app)
    # Here rather than in uvicorn's options, so the client address is the same wherever the app runs.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    include_routes(app)
    return app
