"""The `world` fixture: a store to remind, delivering on the recording channel."""

from __future__ import annotations

import pytest
from reminder_world import World

from assistant.channels import recording_registry
from assistant.runtime import Runtime


@pytest.fixture
def world(runtime: Runtime) -> World:
    return World(runtime, recording_registry())
