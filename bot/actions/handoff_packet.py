"""The structured packet a handoff carries to the service, the router and the agent."""

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

# An article this close to the question says what the topic is, even if not close enough to answer:
# its skill is the one a human needs.
TOPIC_HINT_MIN_SCORE = 0.45


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
        }
        for a in (articles or [])
    ]
    skills = [a["skill"] for a in tried[:1] if a["skill"] and a["score"] >= TOPIC_HINT_MIN_SCORE]
    metadata = latest.get("metadata") or {}
    return {
        "type": "handoff",
        "reason": reason,
        "intent": {"name": intent.get("name"), "confidence": intent.get("confidence")},
        "intents_seen": _intents_seen(tracker),
        "articles": tried,
        "skills": skills,
        "channel": metadata.get("channel"),
    }


def _intents_seen(tracker: Tracker) -> List[Dict[str, Any]]:
    seen = []
    for event in tracker.events:
        if event.get("event") == "user":
            intent = (event.get("parse_data") or {}).get("intent") or {}
            if intent.get("name"):
                seen.append({"name": intent["name"], "confidence": intent.get("confidence")})
    return seen[-10:]
