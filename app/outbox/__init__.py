"""Replies owed to the platforms: queued in the transaction that stores them, sent by the sender with
retries. Importing the package registers the queue, so every message stored for a platform's customer
is queued here."""

from app.conversations import timeline
from app.outbox import queue

timeline.deliver_with(queue.enqueue)
