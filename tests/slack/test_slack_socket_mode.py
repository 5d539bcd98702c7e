"""Socket Mode, for a laptop or a server behind a firewall: the app opens the WebSocket Slack names in
apps.connections.open, acknowledges each envelope, and answers through the Web API like in HTTP mode."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator

import pytest
from fake_slack import BOT_TOKEN, FakeSlack, FakeSocketMode, command_body, dm, event_body
from slack_world import MARIA, Workspace

from adapters.slack.app import SlackBot
from adapters.slack.server import start
from adapters.slack.settings import SlackSettings
from assistant.engine import Assistant

APP_TOKEN = "xapp-1-test-socket-mode"


@pytest.fixture
def socket_bot(workspace: Workspace) -> Iterator[tuple[FakeSocketMode, FakeSlack]]:
    fake = workspace.fake
    fake.socket = FakeSocketMode()
    settings = SlackSettings(bot_token=BOT_TOKEN, app_token=APP_TOKEN, api_url=fake.api_url)
    bot = SlackBot(Assistant(workspace.runtime), settings)
    connection = start(bot, settings)
    assert fake.socket.wait_connected()
    yield fake.socket, fake
    connection.close()
    fake.socket.close()


def test_an_event_over_socket_mode_is_acknowledged_and_answered(
    socket_bot: tuple[FakeSocketMode, FakeSlack],
) -> None:
    socket, fake = socket_bot
    [opened] = fake.called("apps.connections.open")
    assert opened.token == APP_TOKEN  # the app-level token opens the socket; the bot token posts
    socket.push("events_api", json.loads(event_body(dm(MARIA, "win rate this year", "1.1"), "EvS1")), "env-1")
    assert socket.wait_ack("env-1") == {"envelope_id": "env-1"}
    [reply] = fake.wait_posts(1)
    assert reply["channel"] == "D0DM" and "Win rate" in reply["text"]
    assert fake.called("chat.postMessage")[0].token == BOT_TOKEN


def test_a_redelivered_envelope_is_answered_once(socket_bot: tuple[FakeSocketMode, FakeSlack]) -> None:
    socket, fake = socket_bot
    payload = json.loads(event_body(dm(MARIA, "log a call with Globex", "1.2"), "EvS2"))
    socket.push("events_api", payload, "env-2")
    socket.wait_ack("env-2")
    fake.wait_posts(1)
    socket.push("events_api", payload, "env-3", retry=1)
    assert socket.wait_ack("env-3") is not None
    assert not fake.wait(lambda: len(fake.posts()) > 1, timeout=1.0)


def test_the_slash_command_over_socket_mode(socket_bot: tuple[FakeSocketMode, FakeSlack]) -> None:
    socket, fake = socket_bot
    form = command_body(MARIA, "pipeline by stage", fake.response_url("sock"), "trigger-sock")
    socket.push("slash_commands", {k: v[0] for k, v in urllib.parse.parse_qs(form).items()}, "env-4")
    assert socket.wait_ack("env-4") is not None
    [reply] = fake.wait_posts(1)
    assert reply["response_type"] == "ephemeral" and "Pipeline" in reply["text"]
