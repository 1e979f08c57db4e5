"""The structured packet a handoff carries to the service, the router and the agent."""

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

from actions import sentiment

# An article this close to the question says what the topic is, even if not close enough to answer:
# its skill is the one a human needs.
TOPIC_HINT_MIN_SCORE = 0.45
# Channels where the customer writes in public: a slow answer there is seen by everyone.
PUBLIC_CHANNELS = {"x_mention", "facebook_comment", "instagram_comment"}
# Reasons that need a person with a particular skill whatever the topic.
SKILL_OF_REASON = {"sensitive": "security", "complaint": "complaints"}
# Article tags that name a skill of their own.
SKILL_OF_TAG = {"complaint": "complaints", "privacy": "security"}
# 0 normal .. 3 urgent; the router's queue score adds it to the waiting time (docs/routing.md).
PRIORITY_OF_REASON = {"sensitive": 3, "complaint": 2, "answers_did_not_help": 1, "account_specific": 1}
# The bot is sent emails and phone numbers masked; the service adds them to the packet itself.
SLOTS_KEPT = ("order_number",)


def build(tracker: Tracker, reason: str, articles: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    latest = tracker.latest_message or {}
    intent = latest.get("intent") or {}
    tried = [
        {
            "slug": a["slug"],
            "title": a.get("title"),
            "score": a["score"],
            "confidence": a.get("confidence"),
            "skill": a.get("skill"),
            "tags": a.get("tags") or [],
        }
        for a in (articles or [])
    ]
    channel = (latest.get("metadata") or {}).get("channel")
    feeling = sentiment.of_messages(_customer_texts(tracker)[-3:])
    return {
        "type": "handoff",
        "reason": reason,
        "intent": {"name": intent.get("name"), "confidence": intent.get("confidence")},
        "intents_seen": _intents_seen(tracker),
        "articles": tried,
        "entities": _entities(tracker),
        "slots": {name: tracker.get_slot(name) for name in SLOTS_KEPT if tracker.get_slot(name)},
        "sentiment": feeling,
        "skills": _skills(reason, tried),
        "priority": _priority(reason, feeling, channel),
        "channel": channel,
    }


def _skills(reason: str, tried: List[Dict[str, Any]]) -> List[str]:
    skills: List[str] = []
    if reason in SKILL_OF_REASON:
        skills.append(SKILL_OF_REASON[reason])
    topic = [a for a in tried[:1] if a["score"] >= TOPIC_HINT_MIN_SCORE]
    for article in topic:
        if article["skill"]:
            skills.append(article["skill"])
        skills += [SKILL_OF_TAG[tag] for tag in article["tags"] if tag in SKILL_OF_TAG]
    return list(dict.fromkeys(skills))


def _priority(reason: str, feeling: Dict[str, Any], channel: Optional[str]) -> int:
    priority = PRIORITY_OF_REASON.get(reason, 0)
    if feeling["label"] == "negative":
        priority += 1
    if channel in PUBLIC_CHANNELS:
        priority += 1
    return min(priority, 3)


def _customer_texts(tracker: Tracker) -> List[str]:
    return [e.get("text") or "" for e in tracker.events if e.get("event") == "user" and e.get("text")]


def _entities(tracker: Tracker) -> List[Dict[str, Any]]:
    found: Dict[tuple, Dict[str, Any]] = {}
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        for entity in (event.get("parse_data") or {}).get("entities") or []:
            if entity.get("entity") in SLOTS_KEPT:
                found[(entity["entity"], entity.get("value"))] = {"entity": entity["entity"], "value": entity.get("value")}
    return list(found.values())


def _intents_seen(tracker: Tracker) -> List[Dict[str, Any]]:
    seen = []
    for event in tracker.events:
        if event.get("event") == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            if intent.get("name"):
                seen.append({"name": intent["name"], "confidence": intent.get("confidence")})
    return seen[-10:]
