"""Customer satisfaction: asked when a person resolved the conversation and handed it back."""

import re
import time
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

# A rating counts only this soon after the question; later the number means something else.
CSAT_WINDOW_SECONDS = 3600
_SCORE = re.compile(r"\b([1-5])\b")
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


class ActionAskCsat(Action):
    def name(self) -> Text:
        return "action_ask_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_ask_csat")
        # The bot has the conversation again: what it counted before the person took over is done with.
        return [
            SlotSet("csat_pending", True),
            SlotSet("csat_asked_at", time.time()),
            SlotSet("unhelpful_answers", 0),
            SlotSet("rephrase_asked", False),
        ]


class ActionRecordCsat(Action):
    def name(self) -> Text:
        return "action_record_csat"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        asked_at = float(tracker.get_slot("csat_asked_at") or 0)
        if not tracker.get_slot("csat_pending") or time.time() - asked_at > CSAT_WINDOW_SECONDS:
            # Nobody asked, or long ago: a "3" now is about something else.
            dispatcher.utter_message(response="utter_anything_else")
            return [SlotSet("csat_pending", False)]
        score = _score(tracker)
        if score is None:
            dispatcher.utter_message(response="utter_csat_again")
            return []
        dispatcher.utter_message(json_message={"type": "csat", "score": score})
        dispatcher.utter_message(response="utter_csat_thanks")
        return [SlotSet("csat_pending", False)]


def _score(tracker: Tracker) -> Optional[int]:
    """The rating in the customer's words: a digit from 1 to 5 (what the buttons send), or a word."""
    text = ((tracker.latest_message or {}).get("text") or "").lower()
    found = _SCORE.search(text)
    if found:
        return int(found.group(1))
    word = next((w for w in re.findall(r"[a-z]+", text) if w in _WORDS), None)
    return _WORDS[word] if word else None
