"""`crm serve --slack` as an operator runs it: a process configured by the environment that answers Slack
over HTTP, sends due reminders as DMs, and stops cleanly on SIGTERM; bad settings fail before it starts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, dm, event_body, post
from seeded import seed_demo
from slack_world import MARIA, PEOPLE

from assistant.runtime import Runtime

CRM = [sys.executable, "-c", "from adapters.cli.main import main; raise SystemExit(main())"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack(users=dict(PEOPLE)).start()
    yield slack
    slack.close()


def environment(fake: FakeSlack, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CRM_SLACK"))}
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        CRM_SLACK_API_URL=fake.api_url,
        CRM_NOW="2026-11-23T09:00",
        CRM_TIMEZONE="UTC",
        **extra,
    )
    return env


def test_serve_answers_slack_and_sends_reminders_as_dms(runtime: Runtime, fake: FakeSlack) -> None:
    seed_demo(runtime)
    port = free_port()
    env = environment(fake, CRM_SLACK_PORT=str(port))
    process = subprocess.Popen(
        [*CRM, "serve", "--slack", "--db", runtime.database_url, "--interval", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith(f"Slack: HTTP on port {port}"), line + (
            process.stderr.read() if process.stderr else ""
        )
        # the scheduler's first round: the demo's due tasks as DMs to their owners' Slack ids
        assert fake.wait(lambda: any(c.args.get("channel", "").startswith("U0DEMO") for c in fake.calls), 30)
        answer = post(
            f"http://127.0.0.1:{port}/slack/events",
            event_body(dm(MARIA, "win rate this year", "1.1"), "Ev1"),
            "application/json",
        )
        assert answer.status == 200
        assert fake.wait(lambda: any(p.get("channel") == "D0DM" for p in fake.posts()))
        [reply] = [p for p in fake.posts() if p["channel"] == "D0DM"]
        assert "Win rate" in reply["text"]
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Stopped." in out
    assert BOT_TOKEN not in out + err and SIGNING_SECRET not in out + err


def serve_once(runtime: Runtime, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`crm serve --slack` that is expected to stop by itself (a refusal), within a minute."""
    command = [*CRM, "serve", "--slack", "--db", runtime.database_url]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_serve_without_slack_settings_says_what_to_set(runtime: Runtime, fake: FakeSlack) -> None:
    env = environment(fake)
    del env["SLACK_SIGNING_SECRET"]
    done = serve_once(runtime, env)
    assert done.returncode == 2
    assert "SLACK_APP_TOKEN" in done.stderr and "SLACK_SIGNING_SECRET" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_with_a_token_slack_refuses_fails_at_once(runtime: Runtime, fake: FakeSlack) -> None:
    fake.fail["auth.test"] = "invalid_auth"
    env = environment(fake, CRM_SLACK_PORT=str(free_port()))
    done = serve_once(runtime, env)
    assert done.returncode == 1
    assert "did not accept the bot token" in done.stderr and "invalid_auth" in done.stderr
    assert "Traceback" not in done.stderr and BOT_TOKEN not in done.stderr
