"""Answer a question from the knowledge base; if no article is good enough, ask once to rephrase
when the NLU was unsure too, else hand off."""

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import handoff_packet, service_client


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        question = (tracker.latest_message or {}).get("text") or ""
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        try:
            result = await service_client.search(question)
        except service_client.KnowledgeUnavailable:
            dispatcher.utter_message(response="utter_handoff_no_answer")
            dispatcher.utter_message(json_message=handoff_packet.build(tracker, "knowledge_unavailable"))
            return []
        answer = service_client.best_answer(result)
        if answer is not None:
            dispatcher.utter_message(
                json_message={
                    "type": "answer",
                    "text": answer["answer"],
                    "article": {"slug": answer["slug"], "title": answer["title"], "version": answer["version"]},
                    "score": answer["confidence"],
                    # What fits a public reply on X (280 characters), when the article has one.
                    "short_answer": answer.get("short_answer") or "",
                }
            )
            return [SlotSet("rephrase_asked", False)]
        if intent == "nlu_fallback" and not tracker.get_slot("rephrase_asked"):
            dispatcher.utter_message(response="utter_rephrase")
            return [SlotSet("rephrase_asked", True)]
        reason = "low_confidence" if intent == "nlu_fallback" else "no_answer"
        dispatcher.utter_message(response="utter_handoff_no_answer")
        dispatcher.utter_message(json_message=handoff_packet.build(tracker, reason, result.get("results")))
        return [SlotSet("rephrase_asked", False)]
