"""Socket Mode, for a laptop or a server behind a firewall: the app opens the WebSocket Slack names in
apps.connections.open, acknowledges each envelope, and answers through the Web API like in HTTP mode."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator

import pytest
from fake_slack import BOT_TOKEN, FakeSlack, FakeSocketMode, command_body, dm, event_body
from slack_world import MARIA, Workspace
from websockets.sync.client import connect

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


def test_slack_sends_an_envelope_not_acknowledged_in_time_to_another_connection() -> None:
    """The fake's Socket Mode end as the tests with several processes rely on it: envelopes go to the open
    connections in turn; one not acknowledged in time, or whose connection closed first, goes again to
    another connection, its retry counted and explained."""
    socket = FakeSocketMode(ack_seconds=0.3)
    first = connect(socket.url)
    assert socket.wait_connected(1)
    second = connect(socket.url)
    assert socket.wait_connected(2)
    assert [json.loads(c.recv(5))["type"] for c in (first, second)] == ["hello", "hello"]

    socket.push("events_api", {"n": 1}, "env-a")
    socket.push("events_api", {"n": 2}, "env-b")
    assert json.loads(first.recv(5))["envelope_id"] == "env-a"
    assert json.loads(second.recv(5))["envelope_id"] == "env-b"
    second.send(json.dumps({"envelope_id": "env-b"}))

    late = json.loads(second.recv(5))  # the first connection never acknowledged env-a
    assert (late["envelope_id"], late["retry_attempt"], late["retry_reason"]) == ("env-a", 1, "timeout")
    second.close()  # before acknowledging it
    closed = json.loads(first.recv(5))
    assert (closed["envelope_id"], closed["retry_attempt"], closed["retry_reason"]) == (
        "env-a",
        2,
        "connection_failed",
    )
    first.send(json.dumps({"envelope_id": "env-a"}))
    assert socket.wait_ack("env-a") == {"envelope_id": "env-a"}
    assert not socket.unacked
    assert [(d.envelope_id, d.connection, d.attempt, d.reason) for d in socket.deliveries] == [
        ("env-a", 1, 0, ""),
        ("env-b", 2, 0, ""),
        ("env-a", 2, 1, "timeout"),
        ("env-a", 1, 2, "connection_failed"),
    ]
    first.close()
    socket.close()
