"""Handing the conversation to a person, with what the bot learned, so nobody asks twice."""

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff_packet, service_client

# Why the bot hands off, by the intent that made it, and what it tells the customer.
REASON_OF_INTENT = {
    "human_handoff": "customer_request",
    "complaint": "complaint",
    "account_request": "account_specific",
    "sensitive": "sensitive",
}
RESPONSE_OF_REASON = {
    "customer_request": "utter_handoff",
    "complaint": "utter_handoff_complaint",
    "account_specific": "utter_handoff_account",
    "sensitive": "utter_handoff_sensitive",
    "answers_did_not_help": "utter_handoff_unhelpful",
}
# After two answers the customer said did not help, a person takes over.
UNHELPFUL_ANSWERS_TO_HAND_OFF = 2


async def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> None:
    """Say so, and emit the packet; the articles closest to what the customer said name the topic."""
    question = (tracker.latest_message or {}).get("text") or ""
    try:
        articles = (await service_client.search(question)).get("results") if question else None
    except service_client.KnowledgeUnavailable:
        articles = None
    dispatcher.utter_message(response=RESPONSE_OF_REASON.get(reason, "utter_handoff"))
    dispatcher.utter_message(json_message=handoff_packet.build(tracker, reason, articles))


class ActionHandoff(Action):
    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        await hand_off(dispatcher, tracker, REASON_OF_INTENT.get(intent, "customer_request"))
        return []


class ActionNotHelpful(Action):
    """The customer said an answer did not help: ask for more once, hand off the second time."""

    def name(self) -> Text:
        return "action_not_helpful"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        answered = last_answer(tracker)
        if answered is None:
            # "No" to something that was not an answer (the request to rephrase, say).
            dispatcher.utter_message(response="utter_anything_else")
            return []
        unhelpful = int(tracker.get_slot("unhelpful_answers") or 0) + 1
        dispatcher.utter_message(json_message={"type": "feedback", "helpful": False, "article": answered})
        if unhelpful >= UNHELPFUL_ANSWERS_TO_HAND_OFF:
            await hand_off(dispatcher, tracker, "answers_did_not_help")
            return [SlotSet("unhelpful_answers", 0)]
        dispatcher.utter_message(response="utter_not_helpful")
        return [SlotSet("unhelpful_answers", unhelpful)]


class ActionAnswerHelped(Action):
    """The customer said yes after an answer: glad it helped. A "yes" to anything else (the request to
    rephrase, say) is not praise for an article."""

    def name(self) -> Text:
        return "action_answer_helped"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        helped = last_answer(tracker) is not None
        dispatcher.utter_message(response="utter_glad_it_helped" if helped else "utter_anything_else")
        return []


def last_answer(tracker: Tracker) -> Optional[Dict[str, Any]]:
    """The article of the bot's last message, if that message was an answer from the knowledge base."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot":
            custom = (event.get("data") or {}).get("custom") or {}
            return custom.get("article") if custom.get("type") == "answer" else None
    return None
