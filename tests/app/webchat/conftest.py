"""The web chat runs without the social platforms: no stand-in, and none of their settings."""

from typing import Any

import pytest


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    return {}
