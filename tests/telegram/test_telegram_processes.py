"""`crm serve --telegram --processes 2`: with a webhook both processes take updates on one port and each
update is answered once; with long polling only the first polls (the Bot API gives updates to one
poller) and the second says so."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fake_bot_api import FakeBotApi, post_webhook
from seeded import seed_demo
from telegram_world import DANIEL, MARIA
from test_telegram_serve import CRM, environment, fake, free_port, stop  # noqa: F401

from assistant.runtime import Runtime

sys.path.insert(0, str(Path(__file__).parents[1] / "slack"))
from load import listening_sockets

EACH = 8  # updates from each of two chats


def serve(runtime: Runtime, env: dict[str, str]) -> subprocess.Popen[str]:
    command = [*CRM, "serve", "--telegram", "--processes", "2", "--db", runtime.database_url]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def win_rates(api: FakeBotApi, chat: int) -> list[str]:
    """The answers to "win rate this year" in `chat` (the scheduler's alerts and digests come too)."""
    return [str(m["text"]) for m in api.bot_messages(chat) if "Win rate" in str(m.get("text", ""))]


def until(ready: object, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():  # type: ignore[operator]
            return True
        time.sleep(0.1)
    return False


def test_two_webhook_processes_share_the_port_and_answer_each_update_once(
    runtime: Runtime,
    fake: FakeBotApi,  # noqa: F811
) -> None:
    seed_demo(runtime)
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg"
    process = serve(runtime, environment(fake, CRM_TELEGRAM_WEBHOOK_URL=url, CRM_TELEGRAM_PORT=str(port)))
    try:
        assert until(lambda: len(listening_sockets(port)) == 2), "both processes listen on the port"
        assert until(lambda: len(fake.calls("setWebhook")) == 2)
        secret = fake.webhook_secret
        assert secret
        updates = [fake.text_update(chat, chat, "win rate this year") for chat in (MARIA, DANIEL) * EACH]
        with ThreadPoolExecutor(max_workers=len(updates)) as pool:
            assert set(pool.map(lambda update: post_webhook(url, update, secret).status, updates)) == {200}
        assert until(lambda: all(len(win_rates(fake, chat)) >= EACH for chat in (MARIA, DANIEL)))
        time.sleep(0.5)  # a second answer to any update would arrive now
        assert not fake.calls("getUpdates"), "a webhook bot does not poll"
    finally:
        out, _ = stop(process)
    for chat in (MARIA, DANIEL):
        assert len(win_rates(fake, chat)) == EACH, "each update answered once"
    assert out.count("Telegram: @") == 2, out


def test_with_long_polling_only_the_first_process_polls(runtime: Runtime, fake: FakeBotApi) -> None:  # noqa: F811
    process = serve(runtime, environment(fake))
    try:
        said = read_until(process, ["Telegram: @", "Telegram: polled by process 1 of 2"])
    finally:
        out, _ = stop(process)
    said += out
    assert said.count("Telegram: @") == 1, said
    assert len(fake.calls("setMyCommands")) == 1, "one bot started"


def read_until(process: subprocess.Popen[str], wanted: list[str], timeout: float = 60) -> str:
    """What the process printed until every one of `wanted` showed, read a byte at a time from the pipe
    (stop()'s communicate reads the rest)."""
    assert process.stdout is not None
    data, deadline = b"", time.monotonic() + timeout
    while not all(w.encode() in data for w in wanted):
        assert time.monotonic() < deadline and process.poll() is None, data.decode()
        data += os.read(process.stdout.fileno(), 1)
    return data.decode()
