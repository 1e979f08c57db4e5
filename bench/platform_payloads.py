"""Webhook deliveries in the platforms' documented shapes, and their signatures."""

import json
from typing import Any

from app.social.signatures import meta_signature, x_signature

PAGE_ID = "1000001"
IG_ACCOUNT_ID = "17840000000000001"
BRAND_X_ID = "2244994945"
META_SECRET = "meta-app-secret"
X_SECRET = "x-consumer-secret"


def signed_meta(delivery: dict[str, Any], secret: str = META_SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(delivery).encode()
    return body, {"X-Hub-Signature-256": meta_signature(secret, body), "Content-Type": "application/json"}


def signed_x(delivery: dict[str, Any], secret: str = X_SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(delivery).encode()
    return body, {"x-twitter-webhooks-signature": x_signature(secret, body), "Content-Type": "application/json"}


def page(*messaging: dict[str, Any], obj: str = "page", changes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    entry_id = PAGE_ID if obj == "page" else IG_ACCOUNT_ID
    entry: dict[str, Any] = {"id": entry_id, "time": 1_763_900_000_000}
    if messaging:
        entry["messaging"] = list(messaging)
    if changes:
        entry["changes"] = changes
    return {"object": obj, "entry": [entry]}


def dm(mid: str, sender: str, text: str, millis: int, *, obj: str = "page", echo: bool = False) -> dict[str, Any]:
    recipient = PAGE_ID if obj == "page" else IG_ACCOUNT_ID
    message: dict[str, Any] = {"mid": mid, "text": text}
    if echo:
        message["is_echo"] = True
        sender, recipient = recipient, sender
    return {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": millis, "message": message}


def quick_reply(mid: str, sender: str, title: str, payload: str, millis: int) -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": PAGE_ID},
        "timestamp": millis,
        "message": {"mid": mid, "text": title, "quick_reply": {"payload": payload}},
    }


def postback(mid: str, sender: str, title: str, payload: str, millis: int) -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": PAGE_ID},
        "timestamp": millis,
        "postback": {"mid": mid, "title": title, "payload": payload},
    }


def read(sender: str, millis: int) -> dict[str, Any]:
    return {"sender": {"id": sender}, "recipient": {"id": PAGE_ID}, "timestamp": millis, "read": {"watermark": millis}}


def delivery(sender: str, millis: int) -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": PAGE_ID},
        "timestamp": millis,
        "delivery": {"mids": ["m_1"], "watermark": millis},
    }


def feed_comment(comment_id: str, author: str, name: str, text: str, seconds: int) -> dict[str, Any]:
    return {
        "field": "feed",
        "value": {
            "from": {"id": author, "name": name},
            "item": "comment",
            "verb": "add",
            "comment_id": comment_id,
            "post_id": f"{PAGE_ID}_555",
            "parent_id": f"{PAGE_ID}_555",
            "message": text,
            "created_time": seconds,
        },
    }


def instagram_comment(comment_id: str, author: str, username: str, text: str) -> dict[str, Any]:
    return {
        "field": "comments",
        "value": {
            "from": {"id": author, "username": username},
            "media": {"id": "17900000000000001", "media_product_type": "FEED"},
            "id": comment_id,
            "text": text,
        },
    }


def instagram_mention(comment_id: str) -> dict[str, Any]:
    return {"field": "mentions", "value": {"media_id": "17900000000000002", "comment_id": comment_id}}


def x_dm(event_id: str, sender: str, text: str, millis: int, name: str = "Ada") -> dict[str, Any]:
    return {
        "for_user_id": BRAND_X_ID,
        "direct_message_events": [
            {
                "type": "message_create",
                "id": event_id,
                "created_timestamp": str(millis),
                "message_create": {
                    "target": {"recipient_id": BRAND_X_ID},
                    "sender_id": sender,
                    "message_data": {"text": text, "entities": {}},
                },
            }
        ],
        "users": {sender: {"id": sender, "name": name, "screen_name": name.lower()}},
    }


def tweet(tweet_id: str, author: str, text: str, millis: int, screen_name: str = "ada") -> dict[str, Any]:
    return {
        "id_str": tweet_id,
        "created_at": "Mon Nov 23 12:00:00 +0000 2026",
        "timestamp_ms": str(millis),
        "text": text,
        "in_reply_to_user_id_str": BRAND_X_ID,
        "user": {"id_str": author, "screen_name": screen_name, "name": screen_name.title()},
    }


def x_tweets(*tweets: dict[str, Any]) -> dict[str, Any]:
    return {"for_user_id": BRAND_X_ID, "tweet_create_events": list(tweets)}
