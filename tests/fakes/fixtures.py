"""pytest fixtures for the fakes.

Use from ``tests/conftest.py`` with either ``pytest_plugins = ["tests.fakes.fixtures"]`` or
``from tests.fakes.fixtures import *``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.slack_api import FakeSlackApi

__all__ = ["fake_connector", "fake_slack"]


@pytest_asyncio.fixture
async def fake_slack() -> AsyncIterator[FakeSlackApi]:
    """A started :class:`FakeSlackApi` (token ``xoxb-test-token``); pass ``fake_slack.url`` as
    ``AsyncWebClient(base_url=...)``."""
    async with FakeSlackApi() as fake:
        yield fake


@pytest_asyncio.fixture
async def fake_connector() -> AsyncIterator[FakeBotConnector]:
    """A started :class:`FakeBotConnector`; use ``fake_connector.url`` as the ``serviceUrl``."""
    async with FakeBotConnector() as fake:
        yield fake
