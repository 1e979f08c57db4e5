"""A small client of the Carebridge service's knowledge API, used by the actions."""

import os
from typing import Any, Dict, Optional

import aiohttp

# Set by `carebridge up` (and docker-compose.yml) for the action server.
API_URL = os.environ.get("CAREBRIDGE_API_URL", "http://127.0.0.1:8000").rstrip("/")
TIMEOUT = aiohttp.ClientTimeout(total=5)


class KnowledgeUnavailable(Exception):
    """The service did not answer a search; the bot hands off rather than guess."""


async def search(question: str, limit: int = 3) -> Dict[str, Any]:
    """The service's best articles for a question, and the one it would answer with (or None)."""
    url = f"{API_URL}/api/kb/search"
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            async with http.post(url, json={"query": question[:500], "limit": limit}) as response:
                if response.status != 200:
                    raise KnowledgeUnavailable(f"search answered HTTP {response.status}")
                return await response.json()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise KnowledgeUnavailable(f"search failed: {type(exc).__name__}") from exc


def best_answer(result: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    answer = result.get("answer")
    return answer if isinstance(answer, dict) else None
