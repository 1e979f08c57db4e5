"""The platforms' webhooks: handshakes, signatures checked over the raw body before anything is
parsed, and every event stored in the inbox before the 200 that acknowledges it."""

import hmac
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from app.channels import inbox, payloads, signatures
from app.channels.events import RawEvent
from app.channels.meta import webhook as meta_webhook
from app.channels.x import webhook as x_webhook
from app.db import run_in_session
from app.deps import ServicesDep
from app.errors import Forbidden, InvalidInput, NotConfigured, Unauthorized
from app.services import Services

router = APIRouter(tags=["social channels"])


async def _take(services: Services, events: list[RawEvent]) -> dict[str, int]:
    lane = services.ingest
    new = await run_in_session(lane.open_session, lambda s: inbox.store(session=s, events=events), lane.limiter)
    services.intake.wake()
    return {"received": len(events), "new": new}


@router.get("/webhooks/meta", response_class=PlainTextResponse)
async def meta_verify(
    services: ServicesDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> str:
    """Meta's subscription handshake: the challenge echoed back for the right verify token."""
    expected = services.settings.meta_verify_token
    if not expected:
        raise NotConfigured("CAREBRIDGE_META_VERIFY_TOKEN is not set")
    if mode != "subscribe" or not challenge:
        raise InvalidInput("expected hub.mode=subscribe and a hub.challenge", field="hub.mode")
    if not hmac.compare_digest((token or "").encode(), expected.encode()):
        raise Forbidden("hub.verify_token does not match")
    return challenge


@router.post("/webhooks/meta")
async def meta_receive(request: Request, services: ServicesDep) -> dict[str, int]:
    secret = services.settings.meta_app_secret
    if not secret:
        raise NotConfigured("CAREBRIDGE_META_APP_SECRET is not set")
    body = await request.body()
    if not signatures.meta_valid(secret, body, request.headers.get("x-hub-signature-256")):
        raise Unauthorized("X-Hub-Signature-256 is missing or does not match the body")
    return await _take(services, meta_webhook.split(payloads.parse(body)))


@router.get("/webhooks/x")
async def x_crc(services: ServicesDep, crc_token: Annotated[str | None, Query()] = None) -> dict[str, str]:
    """X's challenge-response check, at registration and hourly after."""
    secret = services.settings.x_consumer_secret
    if not secret:
        raise NotConfigured("CAREBRIDGE_X_CONSUMER_SECRET is not set")
    if not crc_token:
        raise InvalidInput("crc_token is required", field="crc_token")
    return {"response_token": signatures.x_signature(secret, crc_token.encode())}


@router.post("/webhooks/x")
async def x_receive(request: Request, services: ServicesDep) -> dict[str, int]:
    secret = services.settings.x_consumer_secret
    if not secret:
        raise NotConfigured("CAREBRIDGE_X_CONSUMER_SECRET is not set")
    body = await request.body()
    if not signatures.x_valid(secret, body, request.headers.get("x-twitter-webhooks-signature")):
        raise Unauthorized("x-twitter-webhooks-signature is missing or does not match the body")
    return await _take(services, x_webhook.split(payloads.parse(body), services.settings.x_brand_user_id))
