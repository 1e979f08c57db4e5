"""Proof that a webhook came from the platform: an HMAC-SHA256 of the raw body with a shared secret.

Checked over the bytes as received, before any parsing, and compared in constant time.
"""

import base64
import hashlib
import hmac

PREFIX = "sha256="


def _digest(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def meta_signature(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value Meta sends: `sha256=` and the hex digest."""
    return PREFIX + _digest(secret, body).hex()


def x_signature(secret: str, body: bytes) -> str:
    """The `x-twitter-webhooks-signature` value X sends (and the CRC answer): `sha256=` and base64."""
    return PREFIX + base64.b64encode(_digest(secret, body)).decode()


def meta_valid(secret: str, body: bytes, header: str | None) -> bool:
    return bool(secret) and header is not None and hmac.compare_digest(meta_signature(secret, body), header.strip())


def x_valid(secret: str, body: bytes, header: str | None) -> bool:
    return bool(secret) and header is not None and hmac.compare_digest(x_signature(secret, body), header.strip())
