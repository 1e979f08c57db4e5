"""Unanswered questions grouped by meaning, so a knowledge manager sees "27 people asked about X"."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from app.kb.models import UnansweredQuestion
from knowledge import Vectors

# Two questions this close in meaning (cosine of their MiniLM embeddings) ask the same thing.
SAME_MEANING = 0.7
SAMPLES = 5


@dataclass(frozen=True)
class Cluster:
    key: int
    question_ids: tuple[int, ...]
    samples: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    # The published article closest to the group, and how close, for "add to an existing article".
    nearest_slug: str | None
    nearest_score: float | None

    @property
    def count(self) -> int:
        return len(self.question_ids)


def group(questions: Sequence[UnansweredQuestion], vectors: Vectors) -> list[list[int]]:
    """Positions of `questions` grouped by meaning, largest groups first.

    Each question joins the group whose centre it is closest to, if close enough, else starts one;
    the centre is the normalised mean of the group's vectors.
    """
    sums: list[np.ndarray] = []
    members: list[list[int]] = []
    for position, vector in enumerate(vectors):
        if sums:
            centres = np.stack(sums)
            centres /= np.linalg.norm(centres, axis=1, keepdims=True)
            similarity = centres @ vector
            best = int(np.argmax(similarity))
            if similarity[best] >= SAME_MEANING:
                sums[best] = sums[best] + vector
                members[best].append(position)
                continue
        sums.append(vector.astype(np.float64))
        members.append([position])
    return sorted(members, key=lambda m: (-len(m), m[0]))


def describe(questions: Sequence[UnansweredQuestion], members: list[int], nearest: tuple[str, float] | None) -> Cluster:
    chosen = [questions[i] for i in members]
    newest_first = sorted(chosen, key=lambda q: q.created_at, reverse=True)
    ids = tuple(q.id for q in chosen if q.id is not None)
    return Cluster(
        key=min(ids),
        question_ids=ids,
        samples=tuple(dict.fromkeys(q.text for q in newest_first))[:SAMPLES],
        first_seen=min(q.created_at for q in chosen),
        last_seen=max(q.created_at for q in chosen),
        nearest_slug=nearest[0] if nearest else None,
        nearest_score=round(nearest[1], 4) if nearest else None,
    )
