"""Meta's webhook deliveries (Messenger, Instagram, Facebook page feed) cut into events, and events
into customer messages.

A delivery is `{"object": "page" | "instagram", "entry": [...]}`; each entry holds `messaging`
events (DMs, postbacks, echoes, reads, deliveries) or `changes` (feed comments, Instagram comments
and mentions). One bad event is stored as unprocessable with its reason; it never sinks the batch.
"""

from datetime import datetime
from typing import Any

from app.core.channel_names import FACEBOOK_COMMENT, INSTAGRAM, INSTAGRAM_COMMENT, MESSENGER, META
from app.core.errors import InvalidInput
from app.core.timestamps import utcnow
from app.social.models import InboxStatus
from app.social.platform_events import (
    Inbound,
    RawEvent,
    Unprocessable,
    fingerprint,
    from_millis,
    from_seconds,
    in_utc,
    mapping,
    name_of,
    sender_key,
    text_of,
)

OBJECTS = {"page": MESSENGER, "instagram": INSTAGRAM}


def split(body: Any) -> list[RawEvent]:
    """Every event of a delivery; an envelope that is not Meta's is refused whole."""
    if not isinstance(body, dict) or not isinstance(body.get("object"), str) or body["object"] not in OBJECTS:
        raise InvalidInput("a Meta delivery is an object whose 'object' is 'page' or 'instagram'", field="object")
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise InvalidInput("a Meta delivery has a list of entries", field="entry")
    events: list[RawEvent] = []
    for entry in entries:
        if not isinstance(entry, dict):
            events.append(_unprocessable(body["object"], entry, "an entry is not an object"))
            continue
        for name, cut in (("messaging", _messaging), ("changes", _change)):
            items = entry.get(name)
            if items is None:
                continue
            if not isinstance(items, list):
                events.append(_unprocessable(body["object"], entry, f"an entry's {name} is not a list"))
                continue
            events.extend(_guarded(body["object"], entry, item, cut) for item in items)
    return events


def _guarded(obj: str, entry: dict[str, Any], item: Any, cut: Any) -> RawEvent:
    try:
        event: RawEvent = cut(obj, entry, mapping(item, "an event"))
    except Unprocessable as exc:
        return _unprocessable(obj, {"entry_id": entry.get("id"), "event": item}, str(exc))
    return event


def _unprocessable(obj: str, item: Any, reason: str) -> RawEvent:
    return RawEvent(
        platform=META,
        key=f"unprocessable:{fingerprint(item)}",
        channel=OBJECTS[obj],
        occurred_at=utcnow(),
        raw={"object": obj, "event": item},
        status=InboxStatus.unprocessable,
        reason=reason,
    )


def _messaging(obj: str, entry: dict[str, Any], item: dict[str, Any]) -> RawEvent:
    channel = OBJECTS[obj]
    sender = str(mapping(item.get("sender"), "sender").get("id", ""))
    if not sender:
        raise Unprocessable("sender.id is missing")
    occurred = from_millis(item.get("timestamp"))
    raw = {"object": obj, "entry_id": str(entry.get("id", "")), "event": item}

    def event(key: str, status: InboxStatus = InboxStatus.pending, reason: str | None = None) -> RawEvent:
        return RawEvent(META, key, channel, occurred, raw, status, reason, sender_key(channel, sender))

    if "message" in item:
        message = mapping(item["message"], "message")
        mid = text_of(message.get("mid"), "message.mid")
        if message.get("is_echo"):
            return event(mid, InboxStatus.ignored, "an echo of a message the brand sent")
        return event(mid)
    if "postback" in item:
        postback = mapping(item["postback"], "postback")
        return event(str(postback.get("mid") or f"postback:{sender}:{item.get('timestamp')}"))
    for kind in ("read", "delivery", "reaction", "message_edit"):
        if kind in item:
            watermark = mapping(item[kind], kind).get("watermark") or item.get("timestamp")
            return event(f"{kind}:{sender}:{watermark}", InboxStatus.ignored, f"a {kind} receipt needs no answer")
    raise Unprocessable("a messaging event with no message, postback, read or delivery")


def _change(obj: str, entry: dict[str, Any], change: dict[str, Any]) -> RawEvent:
    field = change.get("field")
    value = mapping(change.get("value"), "value")
    page = str(entry.get("id", ""))
    raw = {"object": obj, "entry_id": page, "event": change}
    fallback = from_seconds(entry["time"] // 1000 if isinstance(entry.get("time"), int) else 0)
    if obj == "page" and field == "feed":
        item, verb = value.get("item"), value.get("verb")
        occurred = from_seconds(value["created_time"]) if "created_time" in value else fallback
        if item != "comment" or verb != "add":
            key = f"feed:{item}:{verb}:{value.get('comment_id') or value.get('post_id')}:{entry.get('time')}"
            return RawEvent(META, key, FACEBOOK_COMMENT, occurred, raw, InboxStatus.ignored, f"a feed {item} {verb}")
        comment = text_of(value.get("comment_id"), "value.comment_id")
        author = str(mapping(value.get("from"), "value.from").get("id"))
        if author == page:
            return RawEvent(
                META, comment, FACEBOOK_COMMENT, occurred, raw, InboxStatus.ignored, "the page's own comment"
            )
        return RawEvent(META, comment, FACEBOOK_COMMENT, occurred, raw, sender=sender_key("facebook", author))
    if obj == "instagram" and field == "comments":
        comment = text_of(value.get("id"), "value.id")
        occurred = _iso(value.get("timestamp")) or fallback
        author = str(mapping(value.get("from"), "value.from").get("id"))
        if author == page:
            reason = "the account's own comment"
            return RawEvent(META, comment, INSTAGRAM_COMMENT, occurred, raw, InboxStatus.ignored, reason)
        return RawEvent(META, comment, INSTAGRAM_COMMENT, occurred, raw, sender=sender_key(INSTAGRAM, author))
    if obj == "instagram" and field == "mentions":
        comment = text_of(value.get("comment_id"), "value.comment_id")
        return RawEvent(META, comment, INSTAGRAM_COMMENT, fallback, raw)
    raise Unprocessable(f"a change of field {field!r} on {obj!r} is not one Carebridge answers")


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return in_utc(datetime.fromisoformat(value.replace("+0000", "+00:00")))
    except (ValueError, Unprocessable):
        return None


def is_mention(raw: dict[str, Any]) -> bool:
    """An Instagram mention names only the comment: its text and author are read from the Graph API."""
    event = raw.get("event")
    return isinstance(event, dict) and event.get("field") == "mentions"


def inbound(channel: str, raw: dict[str, Any], fetched: dict[str, Any] | None = None) -> Inbound:
    """The customer's message in a stored event; `fetched` is the mentioned comment as the Graph API
    describes it (`id`, `text`, `from`)."""
    event = mapping(raw.get("event"), "event")
    if channel in (MESSENGER, INSTAGRAM):
        sender = str(mapping(event.get("sender"), "sender").get("id"))
        if "postback" in event:
            postback = mapping(event["postback"], "postback")
            text = str(postback.get("title") or postback.get("payload") or "")
        else:
            message = mapping(event.get("message"), "message")
            quick = message.get("quick_reply")
            text = str(quick.get("payload")) if isinstance(quick, dict) and not message.get("text") else ""
            text = message.get("text") or text
        if not isinstance(text, str) or not text.strip():
            raise Unprocessable("a message with no text (attachments are not answered yet)")
        return Inbound(META, channel, channel, sender, None, text, {"recipient_id": sender})
    value = mapping(event.get("value"), "value")
    if channel == FACEBOOK_COMMENT:
        author = mapping(value.get("from"), "value.from")
        comment = text_of(value.get("comment_id"), "value.comment_id")
        text = text_of(value.get("message"), "value.message")
        link = f"https://www.facebook.com/{value.get('post_id', '')}?comment_id={comment}"
        return Inbound(
            META,
            channel,
            "facebook",
            str(author.get("id")),
            name_of(author.get("name")),
            text,
            {"comment_id": comment},
            link,
        )
    if is_mention(raw):
        if fetched is None:
            raise Unprocessable("an Instagram mention whose comment could not be read")
        value = {**fetched, "id": value.get("comment_id")}
    author = mapping(value.get("from"), "value.from")
    comment = text_of(value.get("id"), "value.id")
    text = text_of(value.get("text"), "value.text")
    return Inbound(
        META, channel, INSTAGRAM, str(author.get("id")), name_of(author.get("username")), text, {"comment_id": comment}
    )
