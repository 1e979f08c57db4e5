"""Whether a public post should be answered in private: it shows personal data, or its topic can only
be helped with the customer's own data (their account, an order, a payment)."""

import re
from dataclasses import dataclass

from app.privacy.masking import mask

PRIVATE_TOPICS = re.compile(
    r"(?i)\b(?:my (?:account|order|card|payment|bill|invoice|address|password|login|refund|subscription|parcel|package)"
    r"|refund|charged|double charge|billing|unauthori[sz]ed|fraud|stolen|hacked|log ?in|password|delivery address)\b"
)


@dataclass(frozen=True)
class PublicPost:
    # What may be stored and shown of the post: personal data masked.
    masked: str
    # The kinds of personal data found ("card", "email", ...).
    found: tuple[str, ...]
    # Why it goes private, or None when it may be answered in public.
    private_reason: str | None


def assess_public_post(text: str) -> PublicPost:
    """The post as it may be stored, personal data masked, and why it must be answered in private, if it must."""
    masked = mask(text)
    if masked.changed:
        kinds = ", ".join(sorted(set(masked.found)))
        return PublicPost(masked.text, masked.found, f"personal data in public ({kinds})")
    if PRIVATE_TOPICS.search(text):
        return PublicPost(masked.text, (), "needs the customer's own account details")
    return PublicPost(masked.text, (), None)
