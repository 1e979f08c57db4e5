"""One call to a platform's API, with its answer sorted into taken, try again (and when), or refused."""

import time
from typing import Any

import httpx

from app.outbox.queue import SendFailed

# Meta answers its rate limits with HTTP 400 and one of these error codes.
META_RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001, 80006})
DEFAULT_RATE_LIMIT_SECONDS = 60.0


async def call(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    json: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    seconds: float,
) -> dict[str, Any]:
    try:
        response = await http.request(method, url, headers=headers, json=json, params=params, timeout=seconds)
    except httpx.TimeoutException as exc:
        raise SendFailed(f"no answer within {seconds:g} s", retry=True) from exc
    except httpx.TransportError as exc:
        raise SendFailed(f"could not reach the platform: {type(exc).__name__}", retry=True) from exc
    try:
        body: Any = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code < 300:
        answer: dict[str, Any] = body
        return answer
    detail = _detail(body) or response.reason_phrase
    if response.status_code == 429:
        raise SendFailed(f"rate limited: {detail}", retry=True, after_seconds=_retry_after(response))
    if response.status_code >= 500:
        raise SendFailed(f"platform error {response.status_code}: {detail}", retry=True)
    error = body.get("error")
    if isinstance(error, dict) and error.get("code") in META_RATE_LIMIT_CODES:
        raise SendFailed(f"rate limited: {detail}", retry=True, after_seconds=DEFAULT_RATE_LIMIT_SECONDS)
    raise SendFailed(f"refused ({response.status_code}): {detail}", retry=False)


def _detail(body: dict[str, Any]) -> str:
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error)
    for key in ("detail", "title", "error"):
        if body.get(key):
            return str(body[key])
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0])
    return ""


def _retry_after(response: httpx.Response) -> float:
    """Seconds to wait: `Retry-After` (seconds), or X's `x-rate-limit-reset` (epoch seconds)."""
    after = response.headers.get("retry-after")
    if after and after.strip().isdigit():
        return float(after)
    reset = response.headers.get("x-rate-limit-reset")
    if reset and reset.strip().isdigit():
        return max(1.0, float(reset) - time.time())
    return DEFAULT_RATE_LIMIT_SECONDS
