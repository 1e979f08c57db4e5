"""The ways customers reach us; every message stored for a platform's customer is queued in the outbox."""

from app.channels import outbox
from app.conversations import timeline

timeline.deliver_with(outbox.enqueue)
