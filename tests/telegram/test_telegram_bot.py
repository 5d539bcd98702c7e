"""The Telegram bot, spoken to as its users do: staff by text, buttons and voice notes, customers on the
support bot, a team group chat. The real python-telegram-bot polls a fake Bot API on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from telegram_world import DANIEL, Telegram, labels

from assistant.reminders import Schedule
from storage.models import Activity

OGG = Path(__file__).parents[1] / "voice" / "audio" / "c01-v0-clean.opus"  # "log a call with acme ..."
TASKS_ONLY = Schedule(digest_roles=(), weekly_roles=())


def calls_with(telegram: Telegram, account: str) -> int:
    with telegram.runtime.sessions() as session:
        return len(
            session.scalars(
                select(Activity).where(
                    Activity.type == "call",
                    Activity.deleted_at.is_(None),
                    Activity.account.has(name=account),
                )
            ).all()
        )


def test_a_rep_logs_a_call_by_text_and_undoes_it(telegram: Telegram) -> None:
    before = calls_with(telegram, "Acme Corporation")
    answer = telegram.say(DANIEL, "log a call with Acme about pricing")
    assert "acme" in answer["text"].lower() and "call" in answer["text"].lower()
    assert calls_with(telegram, "Acme Corporation") == before + 1
    assert "Undo" in labels(answer)
    undone = telegram.press(DANIEL, answer, "Undo")
    assert "undone" in undone["text"].lower()
    assert calls_with(telegram, "Acme Corporation") == before
    pressed = telegram.fake.message(DANIEL, answer["message_id"])
    assert labels(pressed) == ["✓ Undo"]  # the keyboard shows what was chosen
    assert telegram.fake.calls("answerCallbackQuery"), "the button stops spinning"
