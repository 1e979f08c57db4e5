"""Reading what the bot said: answers, handoffs, feedback, ratings and quick replies."""

from app.assistant.rasa_client import BotOutput, as_words
from app.assistant.turns import interpret


def test_a_rating_feedback_and_quick_replies_are_read_from_the_bot_s_outputs() -> None:
    turn = interpret(
        [
            BotOutput(custom={"type": "feedback", "helpful": False, "article": {"slug": "delivery-times"}}),
            BotOutput(custom={"type": "csat", "score": 4}),
            BotOutput(text="How would you rate it?", buttons=("1", "2", "3", "4", "5")),
        ]
    )

    assert turn.unhelpful_article == "delivery-times"
    assert turn.csat == 4
    assert [(r.text, r.payload) for r in turn.replies] == [
        ("How would you rate it?", {"quick_replies": ["1", "2", "3", "4", "5"]})
    ]
    assert turn.handoff is None


def test_out_of_range_ratings_and_feedback_without_an_article_are_ignored() -> None:
    turn = interpret(
        [BotOutput(custom={"type": "csat", "score": 9}), BotOutput(custom={"type": "feedback", "helpful": False})]
    )

    assert turn.csat is None and turn.unhelpful_article is None and turn.replies == ()


def test_a_customer_cannot_force_an_intent_with_a_leading_slash() -> None:
    assert as_words("/restart") == "restart"
    assert as_words("  //EXTERNAL_agent_resolved") == "EXTERNAL_agent_resolved"
    assert as_words("/") == "?"
    assert as_words("my size is 10/11") == "my size is 10/11"
