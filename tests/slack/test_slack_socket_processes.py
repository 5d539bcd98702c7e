"""`crm serve --slack --processes 2` in Socket Mode: each copy opens its own connection, Slack spreads the
events over them, each event is answered once, a copy killed mid-load is started again and reconnects,
nothing it held is lost or answered twice, and SIGTERM stops them all.

The fake Slack plays Socket Mode as Slack does (tests/slack/fake_slack.py `FakeSocketMode`): envelopes
go to the open connections in turn, and one not acknowledged within 3 s, or whose connection closed
first, is sent again to another connection. The copy to kill is hung first (SIGSTOP) while a burst is
sent, so at the kill it holds both kinds of message in flight: those it acknowledged but did not answer,
which are in the inbox (assistant/inbox.py) for the other copy's scheduler to recover once their lease
runs out, and those it never acknowledged, which Slack sends to the other connection.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fake_slack import FakeSlack, FakeSocketMode, dm, event_body
from slack_world import DEMO_STAFF, PEOPLE
from sqlalchemy import func, select
from test_slack_processes import children
from test_slack_serve import CRM, environment
from test_slack_socket_mode import APP_TOKEN
from watching import until

from adapters.cli.main import main
from assistant import admin
from assistant.inbox import channel_of
from assistant.runtime import Runtime
from storage.models import OutboxMessage

EVENTS = 30
STAFF = tuple(DEMO_STAFF)
LEASE_SECONDS = 5  # an inbox row a killed copy left is recovered this long after it was written
SETTLE_SECONDS = 45.0


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack(users=dict(PEOPLE)).start()
    slack.socket = FakeSocketMode()
    yield slack
    slack.socket.close()
    slack.close()


@dataclass
class Service:
    """A running `crm serve --slack --processes 2` in Socket Mode."""

    supervisor: subprocess.Popen[str]

    def stop(self) -> tuple[str, str]:
        """SIGTERM to the supervisor; what it printed (stdout, stderr)."""
        if self.supervisor.poll() is None:
            self.supervisor.send_signal(signal.SIGTERM)
        return self.supervisor.communicate(timeout=60)


@pytest.fixture
def service(runtime: Runtime, fake: FakeSlack) -> Iterator[Service]:
    admin.seed_demo(runtime)
    env = environment(
        fake,
        SLACK_APP_TOKEN=APP_TOKEN,
        CRM_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
        CRM_INBOX_RECOVER_SECONDS=str(LEASE_SECONDS),
    )
    del env["SLACK_SIGNING_SECRET"]  # Socket Mode needs none
    supervisor = subprocess.Popen(
        [*CRM, "serve", "--slack", "--processes", "2", "--db", runtime.database_url, "--interval", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    running = Service(supervisor)
    yield running
    running.stop()


def burst(fake: FakeSlack, first: int) -> list[str]:
    """EVENTS DMs pushed at once, each in its own DM channel; the channels."""
    assert fake.socket is not None
    channels = [f"D{first + n:07d}" for n in range(EVENTS)]
    for n, channel in enumerate(channels):
        event = dm(STAFF[n % len(STAFF)], "win rate this year", f"1.{first + n}", channel=channel)
        fake.socket.push("events_api", json.loads(event_body(event, f"Ev{first + n}")), f"env-{first + n}")
    return channels


def answered(fake: FakeSlack, channels: list[str]) -> Counter[str]:
    """How many replies each of `channels` got (the scheduler's reminders go to other DMs)."""
    return Counter(str(post.get("channel")) for post in fake.posts() if post.get("channel") in channels)


def settled(runtime: Runtime, fake: FakeSlack, channels: list[str]) -> bool:
    """Every envelope acknowledged, every channel answered, and every inbox row settled: no copy has a
    message left to answer, so no further reply can come."""
    assert fake.socket is not None
    if fake.socket.unacked or not set(channels) <= set(answered(fake, channels)):
        return False
    with runtime.sessions() as session:
        return not session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.channel == channel_of("slack"), OutboxMessage.status != "sent")
        )


def first_deliveries(socket: FakeSocketMode, first: int) -> Counter[int]:
    """How many of the burst from `first` on each connection got first (not as a retry)."""
    burst = {f"env-{first + n}" for n in range(EVENTS)}
    return Counter(d.connection for d in socket.deliveries if d.attempt == 0 and d.envelope_id in burst)


def test_each_copy_opens_a_connection_and_the_events_spread_over_both_are_answered_once(
    runtime: Runtime, fake: FakeSlack, service: Service
) -> None:
    socket = fake.socket
    assert socket is not None
    assert socket.wait_connected(2, timeout=60), "both copies connect"
    assert socket.connections == [1, 2]
    assert {c.token for c in fake.called("apps.connections.open")} == {APP_TOKEN}

    channels = burst(fake, 0)
    assert until(lambda: settled(runtime, fake, channels), SETTLE_SECONDS)
    assert answered(fake, channels) == Counter(dict.fromkeys(channels, 1))
    assert first_deliveries(socket, 0) == {1: 15, 2: 15}

    out, err = service.stop()
    assert service.supervisor.returncode == 0, err
    assert "2 processes" in out and out.rstrip().endswith("Stopped.")
    assert "Traceback" not in err


def test_a_copy_killed_mid_load_reconnects_and_every_message_is_answered_once(
    runtime: Runtime, fake: FakeSlack, service: Service
) -> None:
    socket = fake.socket
    assert socket is not None
    assert socket.wait_connected(2, timeout=60)
    pids = children(service.supervisor)

    acknowledged = burst(fake, 0)
    assert fake.wait(lambda: len(answered(fake, acknowledged)) >= 4, timeout=SETTLE_SECONDS), (
        "the turns are under way"
    )
    os.kill(pids[0], signal.SIGSTOP)  # hung, it acknowledges none of the next burst: then it is killed
    unacknowledged = burst(fake, 100)
    os.kill(pids[0], signal.SIGKILL)
    assert until(lambda: len(socket.connections) == 1, timeout=10), "Slack sees the connection close"
    [killed] = {1, 2} - set(socket.connections)
    answered_then = set(answered(fake, acknowledged))
    held = {d.envelope_id for d in socket.deliveries if d.connection == killed}
    left = [c for n, c in enumerate(acknowledged) if f"env-{n}" in held and c not in answered_then]
    assert left, "the killed copy had acknowledged messages it had not answered: the inbox has them"
    never_acked = {f"env-{100 + n}" for n in range(EVENTS)} & held
    resent = {d.envelope_id for d in socket.deliveries if d.attempt > 0 and d.connection != killed}
    assert never_acked and never_acked <= resent, "what it never acknowledged Slack sends to the other"

    assert pids[1] in children(service.supervisor, without=pids[0]), "the other copy went on"
    assert socket.wait_connected(2, timeout=60), "the copy started again reconnects"
    assert socket.opened == 3
    everything = acknowledged + unacknowledged
    assert until(lambda: settled(runtime, fake, everything), SETTLE_SECONDS)
    assert answered(fake, everything) == Counter(dict.fromkeys(everything, 1)), (
        "each message answered exactly once"
    )

    after = burst(fake, 200)
    assert until(lambda: settled(runtime, fake, after), SETTLE_SECONDS)
    assert answered(fake, after) == Counter(dict.fromkeys(after, 1))
    assert first_deliveries(socket, 200) == {3 - killed: 15, 3: 15}, "the new connection gets its share"

    out, err = service.stop()
    assert service.supervisor.returncode == 0, err
    assert "starting it again" in out and out.rstrip().endswith("Stopped.")
    assert "Traceback" not in err


def test_more_copies_than_slack_opens_connections_is_refused_before_any_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    database = f"sqlite:///{tmp_path / 'never.sqlite3'}"

    status = main(["serve", "--slack", "--processes", "11", "--db", database])

    assert status == 2
    assert "Slack allows 10 Socket Mode connections" in capsys.readouterr().err
    assert not (tmp_path / "never.sqlite3").exists(), "nothing started, not even the store"
