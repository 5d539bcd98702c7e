"""Every staff conversation of tests/dialogue/conversations, replayed through Telegram: each turn a private
text message from the person's Telegram id, and an answer that is one of the last reply's inline-keyboard
buttons (yes, 2, undo...) pressed as that button. The same reply fragments must show in the HTML text of
the turn's messages (a long reply comes as several) and the same changes land in the store (with
"telegram" as the channel where the data says "terminal"), with no wrong write."""

from __future__ import annotations

import csv
import html
import re
import time
from pathlib import Path
from typing import Any

import pytest
from conversation_cases import CASES, audit_mark, changed_since, check_store, wrong_writes
from telegram_world import DEMO_STAFF, Telegram, labels

USERS = Path(__file__).parents[2] / "storage" / "demo" / "users.csv"
TELEGRAM_IDS = {
    row["email"].lower(): int(row["telegram_id"])
    for row in csv.DictReader(USERS.open(encoding="utf-8"))
    if row.get("telegram_id")
}
# the spoken ones are the voice channel's (tests/voice: a voice note is heard, and every write is read
# back first); those with a turn said by someone else (a customer) are the terminal's, which plays
# both sides of one store; people with no Telegram id (customers, strangers) are not staff here
STAFF_CASES = [
    (name, case)
    for name, case in CASES
    if case["as"].lower() in TELEGRAM_IDS
    and not case.get("spoken")
    and not any("as" in t for t in case["turns"])
]
TAGS = re.compile(r"</?(?:b|pre)>")
MESSAGE_LIMIT = 4096


def test_the_demo_staff_have_the_telegram_ids_the_world_uses() -> None:
    assert {i: e for e, i in TELEGRAM_IDS.items()} == DEMO_STAFF
    assert len(STAFF_CASES) >= 60, "the replay lost most of the conversations"


def shown(messages: list[dict[str, Any]]) -> str:
    """What a person reads: the messages of one turn, without the HTML's <b> and <pre> tags."""
    return "\n".join(html.unescape(TAGS.sub("", str(m.get("text", "")))) for m in messages)


def button_for(telegram: Telegram, last: dict[str, Any] | None, said: str) -> str | None:
    """The callback data of the button a typed answer stands for, if the last reply offered one."""
    for row in ((last or {}).get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            value = telegram.bot.values.value(button["callback_data"]) or ""
            if said.strip().lower() in (value.lower(), button["text"].lower()):
                return str(button["callback_data"])
    return None


def handled(telegram: Telegram, update_id: int, timeout: float = 20) -> None:
    """Waits until the bot finished the update: its turn ran and every message of its answer was sent."""
    deadline = time.monotonic() + timeout
    while telegram.bot.lanes.done_through < update_id:
        assert time.monotonic() < deadline, f"update {update_id} not handled in {timeout}s"
        time.sleep(0.005)


def on_telegram(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def swap(check: dict[str, Any]) -> dict[str, Any]:
        where = {
            k: ("telegram" if k == "channel" and v == "terminal" else v)
            for k, v in check.get("where", {}).items()
        }
        return {**check, "where": where}

    return [swap(check) for check in checks]


# On SQLite only: the same turns run on PostgreSQL through the Slack replay and the terminal's, and the
# Telegram paths that differ by database (handling once, two processes, the flood) are tested on both.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name,case", STAFF_CASES, ids=[f"{n}: {c['name']}" for n, c in STAFF_CASES])
def test_conversation_over_telegram(telegram: Telegram, name: str, case: dict[str, Any]) -> None:
    user = TELEGRAM_IDS[case["as"].lower()]
    fake = telegram.fake
    last: dict[str, Any] | None = None
    for turn in case["turns"]:
        said = turn["say"]
        mark = audit_mark(telegram.runtime)
        before = len(fake.bot_messages(user))
        data = button_for(telegram, last, said)
        if data is not None and last is not None:
            label = next(
                b["text"]
                for r in last["reply_markup"]["inline_keyboard"]
                for b in r
                if b["callback_data"] == data
            )
            update = fake.push_callback(user, user, last["message_id"], data)
        else:
            update = fake.push_text(user, user, said)
        handled(telegram, update)
        if data is not None and last is not None:  # the pressed keyboard says what was chosen
            assert labels(fake.message(user, last["message_id"])) == [f"✓ {label}"]
        messages = fake.bot_messages(user)[before:]
        if turn.get("reply"):
            assert messages, f"no answer to {said!r}"
        # a turn the data expects nothing of may be answered by nothing: no message is sent then
        assert all(len(str(m.get("text", ""))) <= MESSAGE_LIMIT for m in messages)
        assert all(m.get("reply_markup") is None for m in messages[:-1]), "a keyboard not under the last"
        last = messages[-1] if messages else None
        text = shown(messages)
        for fragment in turn.get("reply", []):
            assert fragment.lower() in text.lower(), f"{said!r} -> {text!r} lacks {fragment!r}"
        for fragment in turn.get("not", []):
            assert fragment.lower() not in text.lower(), f"{said!r} -> {text!r} has {fragment!r}"
        check_store(telegram.runtime, on_telegram(turn.get("store", [])), said)
        changed = changed_since(telegram.runtime, mark)
        wrong = wrong_writes(telegram.runtime, {**turn, "store": on_telegram(turn.get("store", []))}, changed)
        assert not wrong, f"{said!r} made wrong writes: {wrong}"
    refused = [c for c in fake.calls() if c.status != 200 and c.method != "getUpdates"]
    assert not refused, f"the Bot API refused: {[(c.method, c.status, c.params) for c in refused]}"
