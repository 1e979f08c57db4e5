"""The platforms' webhooks: handshakes, signatures checked over the raw body before anything is
parsed, and every event stored in the inbox before the 200 that acknowledges it."""

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from app.api.deps import ServicesDep
from app.core.db import run_in_session
from app.core.errors import Forbidden, InvalidInput, NotConfigured, Unauthorized
from app.core.settings import Settings
from app.services import Services
from app.social import inbox, payloads, signatures
from app.social import meta as meta_webhook
from app.social import x as x_webhook
from app.social.platform_events import RawEvent

router = APIRouter(tags=["social channels"])


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


@router.get("/webhooks/x")
async def x_crc(services: ServicesDep, crc_token: Annotated[str | None, Query()] = None) -> dict[str, str]:
    """X's challenge-response check, at registration and hourly after."""
    secret = services.settings.x_consumer_secret
    if not secret:
        raise NotConfigured("CAREBRIDGE_X_CONSUMER_SECRET is not set")
    if not crc_token:
        raise InvalidInput("crc_token is required", field="crc_token")
    return {"response_token": signatures.x_signature(secret, crc_token.encode())}


@dataclass(frozen=True)
class Platform:
    """How one platform delivers its events: the setting that holds the secret they are signed with,
    the header the signature travels in, and how a delivery's body splits into events."""

    name: str
    secret_setting: str
    signature_header: str
    valid: Callable[[str, bytes, str | None], bool]
    split: Callable[[Any, Settings], list[RawEvent]]


PLATFORMS = (
    Platform(
        name="meta",
        secret_setting="meta_app_secret",
        signature_header="X-Hub-Signature-256",
        valid=signatures.meta_valid,
        split=lambda body, _settings: meta_webhook.split(body),
    ),
    Platform(
        name="x",
        secret_setting="x_consumer_secret",
        signature_header="x-twitter-webhooks-signature",
        valid=signatures.x_valid,
        split=lambda body, settings: x_webhook.split(body, settings.x_brand_user_id),
    ),
)


def _receiver(platform: Platform) -> Callable[[Request, Services], Awaitable[dict[str, int]]]:
    """The route a platform posts its signed deliveries to; the intake is woken for what it stored."""

    async def receive(request: Request, services: ServicesDep) -> dict[str, int]:
        settings = services.settings
        secret: str = getattr(settings, platform.secret_setting)
        if not secret:
            raise NotConfigured(f"CAREBRIDGE_{platform.secret_setting.upper()} is not set")
        body = await request.body()
        if not platform.valid(secret, body, request.headers.get(platform.signature_header)):
            raise Unauthorized(f"{platform.signature_header} is missing or does not match the body")
        events = platform.split(payloads.parse(body), settings)
        lane = services.ingest
        new = await run_in_session(lane.open_session, lambda s: inbox.store(session=s, events=events), lane.limiter)
        services.intake.wake()
        return {"received": len(events), "new": new}

    return receive


for _platform in PLATFORMS:
    # Named as the twin routes were, so the OpenAPI document's operations keep their ids.
    router.add_api_route(
        f"/webhooks/{_platform.name}", _receiver(_platform), methods=["POST"], name=f"{_platform.name}_receive"
    )
