"""X's Account Activity deliveries cut into events, and events into customer messages.

A delivery is `{"for_user_id": brand, "<kind>_events": [...], "users": {...}}`. DMs
(`direct_message_events`) and mentions or replies (`tweet_create_events`) are answered; the brand's
own DMs and tweets, retweets, and every other kind (likes, follows, typing, reads) are kept as ignored.
"""

import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from app.core.channel_names import X_DM, X_MENTION, X
from app.core.errors import InvalidInput
from app.core.timestamps import utcnow
from app.social.models import InboxStatus
from app.social.platform_events import (
    Inbound,
    RawEvent,
    Unprocessable,
    fingerprint,
    from_millis,
    in_utc,
    mapping,
    name_of,
    sender_key,
    text_of,
)

LEADING_HANDLES = re.compile(r"^(?:@\w+\s+)+")


def split(body: Any, brand_user_id: str) -> list[RawEvent]:
    """Every event of a delivery; one that is not X's is refused whole."""
    if not isinstance(body, dict) or not isinstance(body.get("for_user_id"), str):
        raise InvalidInput("an X delivery is an object with the brand's 'for_user_id'", field="for_user_id")
    brand = brand_user_id or body["for_user_id"]
    kinds = [key for key, value in body.items() if key.endswith("_events") and isinstance(value, list)]
    if not kinds:
        raise InvalidInput("an X delivery has at least one list of '..._events'", field="events")
    found = body.get("users")
    users: dict[str, Any] = found if isinstance(found, dict) else {}
    events: list[RawEvent] = []
    for kind in kinds:
        for item in body[kind]:
            try:
                events.append(_event(kind, mapping(item, "an event"), brand, users))
            except Unprocessable as exc:
                key = f"unprocessable:{fingerprint(item)}"
                raw = {"kind": kind, "event": item}
                events.append(RawEvent(X, key, X_DM, utcnow(), raw, InboxStatus.unprocessable, str(exc)))
    return events


def _event(kind: str, item: dict[str, Any], brand: str, users: dict[str, Any]) -> RawEvent:
    if kind == "direct_message_events":
        if item.get("type") != "message_create":
            key = f"dm-other:{item.get('id') or fingerprint(item)}"
            reason = f"a DM event of type {item.get('type')}"
            return RawEvent(X, key, X_DM, utcnow(), {"kind": kind, "event": item}, InboxStatus.ignored, reason)
        event_id = text_of(item.get("id"), "id")
        create = mapping(item.get("message_create"), "message_create")
        sender = text_of(create.get("sender_id"), "message_create.sender_id")
        raw = {"kind": kind, "event": item, "user": users.get(sender)}
        occurred = from_millis(item.get("created_timestamp"))
        if sender == brand:
            return RawEvent(X, f"dm:{event_id}", X_DM, occurred, raw, InboxStatus.ignored, "the brand's own DM")
        return RawEvent(X, f"dm:{event_id}", X_DM, occurred, raw, sender=sender_key(X, sender))
    if kind == "tweet_create_events":
        tweet_id = text_of(item.get("id_str"), "id_str")
        author = text_of(mapping(item.get("user"), "user").get("id_str"), "user.id_str")
        raw = {"kind": kind, "event": item}
        occurred = _tweet_time(item)
        if author == brand:
            return RawEvent(
                X, f"tweet:{tweet_id}", X_MENTION, occurred, raw, InboxStatus.ignored, "the brand's own tweet"
            )
        if "retweeted_status" in item:
            return RawEvent(X, f"tweet:{tweet_id}", X_MENTION, occurred, raw, InboxStatus.ignored, "a retweet")
        return RawEvent(X, f"tweet:{tweet_id}", X_MENTION, occurred, raw, sender=sender_key(X, author))
    key = f"{kind}:{item.get('id') or item.get('id_str') or fingerprint(item)}"
    return RawEvent(
        X, key, X_DM, utcnow(), {"kind": kind, "event": item}, InboxStatus.ignored, f"{kind} need no answer"
    )


def _tweet_time(item: dict[str, Any]) -> datetime:
    if "timestamp_ms" in item:
        return from_millis(item["timestamp_ms"])
    try:
        return in_utc(parsedate_to_datetime(text_of(item.get("created_at"), "created_at")))
    except (TypeError, ValueError) as exc:
        raise Unprocessable(f"created_at {item.get('created_at')!r} is not X's date format") from exc


def inbound(channel: str, raw: dict[str, Any]) -> Inbound:
    event = mapping(raw.get("event"), "event")
    if channel == X_DM:
        create = mapping(event.get("message_create"), "message_create")
        sender = text_of(create.get("sender_id"), "message_create.sender_id")
        text = text_of(mapping(create.get("message_data"), "message_data").get("text"), "message_data.text")
        found = raw.get("user")
        user: dict[str, Any] = found if isinstance(found, dict) else {}
        return Inbound(X, X_DM, X, sender, name_of(user.get("name")), text, {"recipient_id": sender})
    user = mapping(event.get("user"), "user")
    extended = event.get("extended_tweet")
    full = extended.get("full_text") if isinstance(extended, dict) else event.get("text")
    text = LEADING_HANDLES.sub("", text_of(full, "text")).strip()
    if not text:
        raise Unprocessable("a mention with nothing but handles in it")
    tweet_id = text_of(event.get("id_str"), "id_str")
    link = f"https://x.com/{user.get('screen_name', 'i')}/status/{tweet_id}"
    name = name_of(user.get("name"))
    return Inbound(X, X_MENTION, X, str(user.get("id_str")), name, text, {"tweet_id": tweet_id}, link)
