from __future__ import annotations

from collections.abc import Iterator

import pytest
from seeded import seed_demo
from web_world import serving

from adapters.web.server import WebServer
from assistant.engine import Assistant
from assistant.runtime import Runtime


@pytest.fixture
def bot(runtime: Runtime) -> Assistant:
    seed_demo(runtime)
    return Assistant(runtime)


@pytest.fixture
def server(bot: Assistant) -> Iterator[WebServer]:
    with serving(bot, rate_burst=5, rate_per_minute=6) as server:
        yield server
