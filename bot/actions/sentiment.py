"""How the customer seems to feel, from their own words: a small lexicon, no model.

Good enough to raise the priority of an angry customer and to tell the agent what to expect; it
never decides on its own whether the bot answers.
"""

import re
from typing import Dict, List

NEGATIVE = {
    "angry", "annoyed", "appalling", "awful", "bad", "broken", "disappointed", "disappointing",
    "disgusted", "disgrace", "fed", "frustrated", "frustrating", "furious", "hate", "horrible",
    "joke", "livid", "lost", "never", "poor", "rubbish", "ridiculous", "rude", "scam", "shocking",
    "sick", "terrible", "unacceptable", "unhappy", "upset", "useless", "worst", "wrong", "damaged",
    "complaint", "complain", "waiting", "ignored", "nobody", "still",
}  # fmt: skip
POSITIVE = {
    "amazing", "brilliant", "excellent", "fantastic", "glad", "good", "great", "happy", "helpful",
    "love", "lovely", "nice", "perfect", "pleased", "super", "thank", "thanks", "wonderful",
}  # fmt: skip
NEGATIONS = {"not", "no", "never", "don't", "didn't", "isn't", "wasn't", "doesn't"}
_WORD = re.compile(r"[a-z']+")


def score(text: str) -> float:
    """From -1 (very negative) to 1 (very positive)."""
    words = _WORD.findall(text.lower())
    total = 0.0
    for position, word in enumerate(words):
        polarity = (word in POSITIVE) - (word in NEGATIVE)
        if polarity and position and words[position - 1] in NEGATIONS:
            polarity = -polarity
        total += polarity
    shouting = sum(1 for token in text.split() if len(token) > 2 and token.isupper())
    total -= 0.5 * min(shouting, 2) + 0.25 * min(text.count("!"), 2) * (total < 0)
    return max(-1.0, min(1.0, total / 3))


def of_messages(texts: List[str]) -> Dict[str, object]:
    """The sentiment of the customer's recent messages, the latest weighing most."""
    if not texts:
        return {"label": "neutral", "score": 0.0}
    weights = [0.5 ** (len(texts) - 1 - i) for i in range(len(texts))]
    value = sum(w * score(t) for w, t in zip(weights, texts)) / sum(weights)
    label = "negative" if value <= -0.2 else "positive" if value >= 0.2 else "neutral"
    return {"label": label, "score": round(value, 2)}
