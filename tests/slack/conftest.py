"""A Slack app on the demo store, served over HTTP on 127.0.0.1, talking to a fake Slack Web API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_slack import FakeSlack
from seeded import seed_demo
from slack_world import NEWCOMER_EMAIL, PEOPLE, Workspace, settings_for
from test_slack_manifest import METHOD_SCOPES

from adapters.slack.app import SlackBot
from adapters.slack.server import HttpServer
from assistant import admin
from assistant.engine import Assistant
from assistant.runtime import Runtime

MANIFEST_METHODS = {*METHOD_SCOPES, "auth.test", "apps.connections.open"}  # the last two need no bot scope


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack(users=dict(PEOPLE)).start()
    yield slack
    slack.close()


@pytest.fixture
def workspace(runtime: Runtime, fake: FakeSlack) -> Iterator[Workspace]:
    seed_demo(runtime)
    admin.add_user(runtime, admin.NewUser(name="Lena Berg", email=NEWCOMER_EMAIL, role="rep"))
    bot = SlackBot(Assistant(runtime), settings_for(fake))
    server = HttpServer(bot, settings_for(fake), host="127.0.0.1", port=0).start()
    yield Workspace(fake, bot, runtime, f"http://127.0.0.1:{server.port}/slack/events")
    server.close()
    called = {
        c.method.removeprefix("429 ") for c in fake.calls if not c.method.startswith(("respond/", "upload/"))
    }
    assert called <= MANIFEST_METHODS, (
        f"methods slack/manifest.yaml may not grant: {called - MANIFEST_METHODS}"
    )
