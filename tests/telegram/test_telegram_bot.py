"""The Telegram bot, spoken to as its users do: staff by text, buttons and voice notes, customers on the
support bot, a team group chat, and a stranger linking themselves with a code. The real
python-telegram-bot polls a fake Bot API on 127.0.0.1."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fake_bot_api import FakeBotApi
from sqlalchemy import select
from telegram_world import CUSTOMER, DANIEL, GROUP, MARIA, STRANGER, Telegram, labels

from adapters.telegram.channel import TelegramChannel
from assistant import linking, preferences
from assistant.channels import Registry, default_registry
from assistant.engine import Assistant
from assistant.messages import Message
from assistant.reminders import Schedule, run_due
from storage.models import Activity, ChannelIdentity, Deal, Task, Ticket, User

OGG = Path(__file__).parents[1] / "voice" / "audio" / "c01-v0-clean.opus"  # OGG/Opus, as Telegram records
TASKS_ONLY = Schedule(digest_roles=(), weekly_roles=())
NEWCOMER_EMAIL = "sofia.rossi@northwind.example"
DANIEL_EMAIL = "daniel.okafor@northwind.example"


def calls_with(telegram: Telegram, account: str) -> int:
    with telegram.runtime.sessions() as session:
        rows = session.scalars(
            select(Activity).where(
                Activity.type == "call", Activity.deleted_at.is_(None), Activity.account.has(name=account)
            )
        )
        return len(rows.all())


def stage_of(telegram: Telegram, deal: str) -> str:
    with telegram.runtime.sessions() as session:
        return str(session.scalars(select(Deal.stage).where(Deal.name == deal)).one())


def test_a_rep_logs_a_call_by_text_and_undoes_it_with_the_button(telegram: Telegram) -> None:
    before = calls_with(telegram, "Acme Corporation")
    answer = telegram.say(DANIEL, "log a call with Acme about pricing")
    assert "acme" in answer["text"].lower() and "call" in answer["text"].lower()
    assert calls_with(telegram, "Acme Corporation") == before + 1
    undone = telegram.press(DANIEL, answer, "Undo")
    assert "undone" in undone["text"].lower()
    assert calls_with(telegram, "Acme Corporation") == before
    assert labels(telegram.fake.message(DANIEL, answer["message_id"])) == ["✓ Undo"]  # shows the choice
    assert telegram.fake.calls("answerCallbackQuery"), "the button stops spinning"


def test_confirm_and_choose_buttons_run_the_same_turns(telegram: Telegram) -> None:
    asked = telegram.say(MARIA, "move globx to proposal")
    assert "Globex Inc" in asked["text"] and labels(asked) == ["Yes", "No"]
    choose = telegram.press(MARIA, asked, "Yes")
    assert "Which deal" in choose["text"]
    assert labels(choose)[0] == "Globex Pilot"
    assert len(choose["reply_markup"]["inline_keyboard"]) == len(labels(choose))  # long ones: one a row
    done = telegram.press(MARIA, choose, "Globex Pilot")
    assert "proposal" in done["text"].lower()
    assert stage_of(telegram, "Globex Pilot") == "proposal"
    # a pressed keyboard pressed again does nothing more
    telegram.fake.push_callback(MARIA, MARIA, choose["message_id"], "·")
    answered = telegram.fake.wait_for(3, method="answerCallbackQuery")
    assert "answered already" in answered[-1].params.get("text", "")
    assert stage_of(telegram, "Globex Pilot") == "proposal"


def test_a_start_link_with_a_code_links_the_chat(telegram: Telegram) -> None:
    code = linking.issue_code(telegram.runtime, NEWCOMER_EMAIL)
    assert "Sofia Rossi" in telegram.say(STRANGER, f"/start {code}")["text"]


def test_no_drops_the_write(telegram: Telegram) -> None:
    asked = telegram.say(DANIEL, "move globx to proposal")
    dropped = telegram.press(DANIEL, asked, "No")
    assert "nothing was changed" in dropped["text"].lower()


def telegram_registry(telegram: Telegram) -> Registry:
    channels = default_registry()
    channels.register(TelegramChannel(telegram.bot))
    return channels


def open_tasks(telegram: Telegram, email: str) -> dict[int, object]:
    with telegram.runtime.sessions() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        rows = session.execute(
            select(Task.id, Task.due_at).where(Task.assignee_id == user.id, Task.status == "open")
        )
        return {row[0]: row[1] for row in rows}


def daniels_reminder(telegram: Telegram) -> dict[str, object]:
    sent = run_due(telegram.runtime, channels=telegram_registry(telegram), schedule=TASKS_ONLY)
    assert sent and {s.channel for s in sent} == {"telegram"}
    telegram.fake.wait_for(len(sent))
    reminders = [m for m in telegram.fake.bot_messages(DANIEL) if "Done" in labels(m)]
    assert reminders, "the demo gives Daniel a task due today"
    # the outbox runs again: nothing is sent twice
    assert run_due(telegram.runtime, channels=telegram_registry(telegram), schedule=TASKS_ONLY) == []
    return reminders[0]


def test_done_on_a_reminder_in_the_linked_chat_completes_the_task(telegram: Telegram) -> None:
    reminder = daniels_reminder(telegram)
    before = open_tasks(telegram, DANIEL_EMAIL)
    done = telegram.press(DANIEL, reminder, "Done")
    assert len(open_tasks(telegram, DANIEL_EMAIL)) == len(before) - 1, done["text"]


def test_snooze_on_a_reminder_moves_the_task(telegram: Telegram) -> None:
    reminder = daniels_reminder(telegram)
    before = open_tasks(telegram, DANIEL_EMAIL)
    snooze = next(label for label in labels(reminder) if "tomorrow" in label.lower())
    telegram.press(DANIEL, reminder, snooze)
    moved = open_tasks(telegram, DANIEL_EMAIL)
    assert set(moved) == set(before) and moved != before


def test_a_retried_outbox_row_is_not_sent_twice(telegram: Telegram) -> None:
    channel = TelegramChannel(telegram.bot)
    sent = run_due(telegram.runtime, channels=telegram_registry(telegram), schedule=TASKS_ONLY)
    telegram.fake.wait_for(len(sent))
    count = len(telegram.fake.sent())
    from assistant.channels import Outgoing
    from assistant.messages import Reply

    row = Outgoing(1, "task:1:2026-11-23", "reminder", "telegram", str(DANIEL), None, Reply("Call Jane"))
    channel.send(row)
    channel.send(row)  # the outbox tries a row again whose "sent" mark failed
    assert len(telegram.fake.sent()) == count + 1


def test_start_and_help_say_what_the_bot_does_for_staff_and_for_customers(telegram: Telegram) -> None:
    assert "CRM up to date" in telegram.say(DANIEL, "/start")["text"]
    assert "support ticket" in telegram.say(CUSTOMER, "/start")["text"]
    assert "support ticket" in telegram.say(CUSTOMER, "/help")["text"]
    assert [c["command"] for c in telegram.fake.commands] == ["start", "help", "link", "voice"]


def test_a_customer_reaches_only_the_support_bot(telegram: Telegram) -> None:
    answer = telegram.say(CUSTOMER, "top deals this month")
    with telegram.runtime.sessions() as session:
        deals = session.scalars(select(Deal.name)).all()
    assert not any(name in answer["text"] for name in deals)
    assert "Talk to a person" in labels(answer)
    with telegram.runtime.sessions() as session:
        identity = session.scalars(
            select(ChannelIdentity).where(ChannelIdentity.external_id == str(CUSTOMER))
        ).one()
        assert identity.customer_id is not None and identity.user_id is None


def test_staff_answers_reach_a_telegram_customer_by_themselves(telegram: Telegram) -> None:
    handed = telegram.say(CUSTOMER, "I want to talk to a person")
    assert "ticket #" in handed["text"]
    with telegram.runtime.sessions() as session:
        number = session.scalars(select(Ticket.number).order_by(Ticket.id.desc())).first()
    staff = Assistant(telegram.runtime)
    reply = staff.handle(
        Message(
            "terminal",
            "maria.gonzalez@northwind.example",
            f"reply to {number}: we fixed the export",
            sender_is_email=True,
        )
    )
    if reply.buttons and reply.buttons[0].kind == "confirm":
        staff.handle(Message("terminal", "maria.gonzalez@northwind.example", "yes", sender_is_email=True))
    pushed = telegram.answers(lambda: None, CUSTOMER, timeout=15)
    assert "we fixed the export" in pushed[0]["text"]


def test_a_stranger_links_themselves_with_a_one_time_code(telegram: Telegram) -> None:
    assert "support ticket" in telegram.say(STRANGER, "/start")["text"]  # a customer, until linked
    code = linking.issue_code(telegram.runtime, NEWCOMER_EMAIL)
    linked = telegram.say(STRANGER, f"/link {code.lower()}")
    assert "Sofia Rossi" in linked["text"]
    assert "CRM up to date" in telegram.say(STRANGER, "/help")["text"]  # staff now
    reused = telegram.say(CUSTOMER, f"/link {code}")
    assert "Sofia" not in reused["text"]
    assert "support ticket" in telegram.say(CUSTOMER, "/help")["text"]


def test_an_expired_code_links_no_one(telegram: Telegram) -> None:
    code = linking.issue_code(
        telegram.runtime, NEWCOMER_EMAIL, now=telegram.runtime.now() - timedelta(minutes=16)
    )
    answer = telegram.say(STRANGER, f"/link {code}")
    assert "expired" in answer["text"].lower()
    assert "support ticket" in telegram.say(STRANGER, "/help")["text"]


def test_guessing_codes_is_cut_short(telegram: Telegram) -> None:
    for _ in range(linking.GUESSES_PER_SENDER):
        telegram.say(STRANGER, "/link AAAA-BBBB")
    code = linking.issue_code(telegram.runtime, NEWCOMER_EMAIL)
    refused = telegram.say(STRANGER, f"/link {code}")
    assert "Sofia" not in refused["text"] and "minute" in refused["text"]
    assert "support ticket" in telegram.say(STRANGER, "/help")["text"]


def test_in_a_group_the_bot_answers_only_when_addressed(telegram: Telegram, fake: FakeBotApi) -> None:
    fake.push_text(GROUP, DANIEL, "log a call with Acme", chat_type="group")
    addressed = telegram.say(DANIEL, "@crm_test_bot what's on my plate today", chat=GROUP)
    assert len(fake.bot_messages(GROUP)) == 1, "the unaddressed message got no answer"
    assert addressed["reply_to_message"]["from"]["id"] == DANIEL  # answers the message it was asked in
    answer_to_reply = telegram.answers(
        lambda: fake.push_text(
            GROUP, DANIEL, "top deals this month", reply_to_bot_message_id=addressed["message_id"]
        ),
        GROUP,
    )
    assert "deal" in answer_to_reply[0]["text"].lower()


def test_a_group_never_shows_customer_data(telegram: Telegram, fake: FakeBotApi) -> None:
    customer = telegram.say(CUSTOMER, "@crm_test_bot where is my ticket 1043?", chat=GROUP)
    assert "message me directly" in customer["text"]
    tickets = telegram.answers(
        lambda: fake.push_text(GROUP, MARIA, "@crm_test_bot new tickets"), GROUP, count=1
    )
    assert "privately" in tickets[0]["text"]
    assert "new ticket" in fake.bot_messages(MARIA)[-1]["text"]  # the list went to Maria's own chat


def test_group_buttons_answer_only_the_person_asked(telegram: Telegram, fake: FakeBotApi) -> None:
    asked = telegram.say(DANIEL, "@crm_test_bot move globx to proposal", chat=GROUP)
    before = len(fake.bot_messages(GROUP))
    fake.push_callback(GROUP, MARIA, asked["message_id"], "yes")
    alerts = fake.wait_for(1, method="answerCallbackQuery")
    assert alerts[-1].params.get("show_alert") is True
    assert len(fake.bot_messages(GROUP)) == before
    assert labels(fake.message(GROUP, asked["message_id"])) == ["Yes", "No"]  # still Daniel's to press


def test_a_voice_note_is_heard_read_back_and_saved_on_yes(telegram: Telegram, fake: FakeBotApi) -> None:
    before = calls_with(telegram, "Acme Corporation")
    answers = telegram.answers(
        lambda: fake.push_voice(DANIEL, DANIEL, OGG.read_bytes(), 4), DANIEL, timeout=90
    )
    read_back = answers[0]
    assert "acme" in read_back["text"].lower() and labels(read_back)[:2] == ["Yes", "No"]
    fake.wait_for(1, method="sendVoice", timeout=30)
    voice = fake.calls("sendVoice")[0]
    assert voice.files["voice"].data[:4] == b"OggS"  # the reply spoken, as a voice note
    assert calls_with(telegram, "Acme Corporation") == before  # nothing saved before "yes"
    saved = telegram.press(DANIEL, read_back, "Yes")
    assert "acme" in saved["text"].lower()
    assert calls_with(telegram, "Acme Corporation") == before + 1


def test_voice_replies_are_a_setting_per_person(telegram: Telegram, fake: FakeBotApi) -> None:
    assert "now off" in telegram.say(DANIEL, "/voice off")["text"]
    assert not preferences.voice_replies(telegram.runtime, "telegram", str(DANIEL))
    telegram.answers(lambda: fake.push_voice(DANIEL, DANIEL, OGG.read_bytes(), 4), DANIEL, timeout=90)
    assert fake.calls("sendVoice") == []
    assert "are off" in telegram.say(DANIEL, "/voice")["text"]


def test_bad_or_customer_voice_notes_get_a_clear_answer(telegram: Telegram, fake: FakeBotApi) -> None:
    broken = telegram.answers(lambda: fake.push_voice(DANIEL, DANIEL, b"not audio at all", 1), DANIEL, 60)
    assert "couldn't play" in broken[0]["text"]
    customer = telegram.answers(lambda: fake.push_voice(CUSTOMER, CUSTOMER, OGG.read_bytes(), 4), CUSTOMER)
    assert "type" in customer[0]["text"]
