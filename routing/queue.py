"""The order in which waiting work is served.

Each piece of work has a score: its priority plus one level for every `Policy.ageing` it has
waited. Higher scores are served first; at equal scores, the earlier arrival. Work given back by a
lost agent (`front`) goes before everything else. Because every waiting item ages at the same rate,
the order between two items never changes while they wait, so the queue can be kept sorted by a key
that does not depend on the time.
"""

from datetime import datetime

from routing.model import Policy, Work

QueueKey = tuple[bool, float, datetime, str]


def score(work: Work, now: datetime, policy: Policy) -> float:
    return work.priority + (now - work.queued_at) / policy.ageing


def queue_rank(work: Work, policy: Policy) -> float:
    """The score without the time, negated: lower ranks are served first, at any time."""
    return work.queued_at.timestamp() - work.priority * policy.ageing.total_seconds()


def queue_key(work: Work, policy: Policy) -> QueueKey:
    """Sorting by this key ascending is sorting by score descending, front work first, ties by arrival."""
    return (not work.front, queue_rank(work, policy), work.queued_at, work.work_id)
