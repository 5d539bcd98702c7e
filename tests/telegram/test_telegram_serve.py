"""`crm serve --telegram` as an operator runs it: a process configured by the environment that answers
Telegram (long polling, or a webhook), sends due reminders as Telegram messages with buttons, and stops
cleanly on SIGTERM; bad settings fail before it starts, with the exit status `crm serve --slack` gives for
the same kind of failure (2: settings to fix, 1: the platform refused)."""

from __future__ import annotations

import html
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fake_bot_api import TOKEN, FakeBotApi, post_webhook
from seeded import seed_demo
from sqlalchemy import select
from telegram_world import DANIEL, MARIA, button_data, labels

from adapters.telegram.settings import derived_secret
from assistant.runtime import Runtime
from storage.models import Task

CRM = [sys.executable, "-c", "from adapters.cli.main import main; raise SystemExit(main())"]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # CRM_NOW, as tests/conftest.py
OTHER_TOKEN = "987654321:AAAnotherBotsTokenNotOurs0000"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


def environment(fake: FakeBotApi, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "CRM_TELEGRAM"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        CRM_TELEGRAM_API_URL=fake.base_url,
        CRM_NOW="2026-11-23T09:00",
        CRM_TIMEZONE="UTC",
    )
    env.update(extra)
    return env


def serve(runtime: Runtime, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CRM, "serve", "--telegram", "--db", runtime.database_url, "--interval", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def first_line(process: subprocess.Popen[str]) -> str:
    """The first line `crm serve` prints, read a byte at a time from the pipe: a buffered readline could
    take the lines after it too, and stop()'s communicate(), which reads the pipe itself, would miss them."""
    assert process.stdout is not None
    data = b""
    while not data.endswith(b"\n") and (byte := os.read(process.stdout.fileno(), 1)):
        data += byte
    line = data.decode()
    if not line.startswith("Telegram: @"):  # it stopped: say why
        process.kill()
        _, err = process.communicate(timeout=30)
        raise AssertionError(line + err)
    return line


def stop(process: subprocess.Popen[str]) -> tuple[str, str]:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Stopped." in out
    assert TOKEN not in out + err
    return out, err


def daniels_due_tasks(runtime: Runtime) -> list[str]:
    """Daniel's open tasks due by now (CRM_NOW, the suite's NOW): what the scheduler reminds him of."""
    with runtime.sessions() as session:
        tasks = session.scalars(
            select(Task).where(Task.deleted_at.is_(None), Task.status == "open", Task.due_at <= NOW)
        ).all()
        return [
            t.title for t in tasks if t.assignee and t.assignee.email == "daniel.okafor@northwind.example"
        ]


def due_in(message: dict[str, Any], titles: list[str]) -> bool:
    text = html.unescape(str(message.get("text", "")).replace("<b>", "").replace("</b>", ""))
    return any(title in text for title in titles)


def reminders_to(fake: FakeBotApi, chat: int) -> list[dict[str, Any]]:
    return [m for m in fake.bot_messages(chat) if str(m.get("text", "")).startswith("Reminder:")]


def answers_to(fake: FakeBotApi, chat: int) -> list[dict[str, Any]]:
    """What the bot sent `chat` in answer: not the scheduler's reminders and digests, which come in their
    own time (at the demo's Monday 09:00 the first round brings Maria, a manager, her weekly digest)."""
    scheduled = ("Reminder:", "Good morning")
    return [m for m in fake.bot_messages(chat) if not str(m.get("text", "")).startswith(scheduled)]


def test_serve_answers_telegram_and_sends_reminders(runtime: Runtime, fake: FakeBotApi) -> None:
    seed_demo(runtime)
    due = daniels_due_tasks(runtime)
    assert due, "the demo gives Daniel a task that is due"
    process = serve(runtime, environment(fake))
    try:
        assert first_line(process).startswith("Telegram: @crm_test_bot, long polling")
        # the scheduler's first round: the demo's due tasks as messages to their owners' Telegram ids
        fake.wait_for(lambda calls: any(due_in(m, due) for m in reminders_to(fake, DANIEL)), 30)
        [reminder] = [m for m in reminders_to(fake, DANIEL) if due_in(m, due)][:1]
        assert labels(reminder) == ["Done", "In an hour", "Tomorrow"]
        # a staff message from Telegram is answered
        fake.push_text(MARIA, MARIA, "win rate this year")
        fake.wait_for(lambda calls: answers_to(fake, MARIA), 30)
        [answer] = answers_to(fake, MARIA)
        assert "Win rate" in answer["text"]
        # the reminder's Done button closes the task
        fake.push_callback(DANIEL, DANIEL, reminder["message_id"], button_data(reminder, "Done"))
        # the keyboard's edit, not just any new message (the scheduler's next alerts come meanwhile)
        done = ["✓ Done"]
        fake.wait_for(lambda calls: labels(fake.message(DANIEL, reminder["message_id"])) == done, 30)
        assert labels(fake.message(DANIEL, reminder["message_id"])) == done
    finally:
        out, _ = stop(process)
    assert "Scheduler running" in out
    assert len(daniels_due_tasks(runtime)) == len(due) - 1
    assert not fake.webhook_url, "long polling sets no webhook"


def test_serve_stops_promptly_while_a_reminder_is_on_its_way(runtime: Runtime, fake: FakeBotApi) -> None:
    """SIGTERM while the outbox is sending (Telegram asked it to wait 2 s): the send in flight ends,
    and the process stops within seconds, not after the scheduler's join timeout."""
    seed_demo(runtime)
    fake.fail_next("sendMessage", status=429, retry_after=2)  # the scheduler's first message waits 2 s
    process = serve(runtime, environment(fake))
    try:
        first_line(process)
        fake.wait_for(lambda calls: any(c.status == 429 for c in calls), 30, method="sendMessage")
    finally:
        started = time.monotonic()
        stop(process)
        took = time.monotonic() - started
    assert took < 8, f"SIGTERM took {took:.1f} s: a send in flight hung the scheduler's worker"


def test_serve_with_a_webhook(runtime: Runtime, fake: FakeBotApi) -> None:
    seed_demo(runtime)
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg"
    env = environment(fake, CRM_TELEGRAM_WEBHOOK_URL=url, CRM_TELEGRAM_PORT=str(port))
    process = serve(runtime, env)
    try:
        line = first_line(process)
        assert f"webhook on port {port}" in line and url in line
        [registered] = fake.calls("setWebhook")
        assert registered.params["url"] == url
        secret = registered.params.get("secret_token")
        assert secret and secret == fake.webhook_secret == derived_secret(TOKEN)
        assert TOKEN not in secret
        assert not fake.calls("getUpdates"), "a webhook bot does not poll"
        # without the secret (or with a wrong one) an update is refused and not answered
        assert post_webhook(url, fake.text_update(MARIA, MARIA, "win rate this year")).status == 403
        assert post_webhook(url, fake.text_update(MARIA, MARIA, "win rate"), "wrong").status == 403
        answer = post_webhook(url, fake.text_update(MARIA, MARIA, "win rate this year"), secret)
        assert answer.status == 200
        fake.wait_for(lambda calls: answers_to(fake, MARIA), 30)
        [reply] = answers_to(fake, MARIA)
        assert "Win rate" in reply["text"]
    finally:
        stop(process)


def test_serve_with_a_webhook_secret_of_its_own(runtime: Runtime, fake: FakeBotApi) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg"
    env = environment(
        fake,
        CRM_TELEGRAM_WEBHOOK_URL=url,
        CRM_TELEGRAM_PORT=str(port),
        CRM_TELEGRAM_WEBHOOK_SECRET="operators-own_secret",
    )
    process = serve(runtime, env)
    try:
        first_line(process)
        assert fake.webhook_url == url and fake.webhook_secret == "operators-own_secret"
        answer = post_webhook(url, fake.text_update(MARIA, MARIA, "help"), "operators-own_secret")
        assert answer.status == 200
    finally:
        _, err = stop(process)
    assert "operators-own_secret" not in err


def serve_once(runtime: Runtime, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`crm serve --telegram` that is expected to stop by itself (a refusal), within a minute."""
    command = [*CRM, "serve", "--telegram", "--db", runtime.database_url]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_serve_without_a_token_says_what_to_set(runtime: Runtime, fake: FakeBotApi) -> None:
    env = environment(fake)
    del env["TELEGRAM_BOT_TOKEN"]
    done = serve_once(runtime, env)
    assert done.returncode == 2, done.stderr
    assert "TELEGRAM_BOT_TOKEN" in done.stderr and "is not set" in done.stderr
    assert "Traceback" not in done.stderr
    assert not fake.calls(), "nothing is asked of Telegram"


def test_serve_with_a_malformed_token_says_so(runtime: Runtime, fake: FakeBotApi) -> None:
    env = environment(fake, TELEGRAM_BOT_TOKEN="not-a-token")
    done = serve_once(runtime, env)
    assert done.returncode == 2, done.stderr
    assert "TELEGRAM_BOT_TOKEN does not look like a bot token" in done.stderr
    assert "Traceback" not in done.stderr and "not-a-token" not in done.stderr
    assert not fake.calls(), "nothing is asked of Telegram"


def test_serve_with_a_token_telegram_refuses_fails_at_once(runtime: Runtime) -> None:
    with FakeBotApi(token=OTHER_TOKEN) as other:  # a Bot API that knows another bot: 401 to ours
        done = serve_once(runtime, environment(other))
        assert not other.calls(), "the fake answers 401 to another bot's token, before any method"
    assert done.returncode == 1, done.stderr
    assert "Telegram did not accept TELEGRAM_BOT_TOKEN" in done.stderr
    assert "Traceback" not in done.stderr and TOKEN not in done.stderr
    assert "Scheduler running" not in done.stdout


def test_serve_with_a_bad_webhook_url_says_so(runtime: Runtime, fake: FakeBotApi) -> None:
    env = environment(fake, CRM_TELEGRAM_WEBHOOK_URL="http://bot.example.com/tg")
    done = serve_once(runtime, env)
    assert done.returncode == 2, done.stderr
    assert "CRM_TELEGRAM_WEBHOOK_URL must be a public https URL" in done.stderr
    assert "Traceback" not in done.stderr
