"""What routing's offers and alerts look like on the agents' websockets."""

from typing import Any

from app.assignment.models import Alert
from app.realtime.models import Event
from routing import Offer


def offer_event(offer: Offer, reason: str, view: dict[str, Any]) -> Event:
    """An offer with everything needed to decide: the whole history, the handoff packet included."""
    return {
        "type": "offer",
        "offer": {
            "id": offer.offer_id,
            "conversation_id": offer.work_id,
            "expires_at": offer.expires_at.isoformat(),
            "reason": reason,
        },
        **view,
    }


def offer_closed_event(offer_id: int, status: str) -> Event:
    return {"type": "offer_withdrawn", "offer_id": offer_id, "status": status}


def alert_event(alert: Alert) -> Event:
    return {
        "type": "alert",
        "alert": {
            "id": alert.id,
            "kind": alert.kind,
            "message": alert.message,
            "conversation_id": str(alert.conversation_id) if alert.conversation_id else None,
            "agent_id": alert.agent_id,
            "created_at": alert.created_at.isoformat(),
        },
    }
