"""The reminder's buttons speak the dialogue's language: pressing Done in the conversation the reminder
went to completes that very task; the reminder is noted in that conversation without disturbing it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from reminder_world import NOW, World
from seeded import seed_demo
from sqlalchemy import select

from assistant.channels import default_registry
from assistant.engine import Assistant
from assistant.messages import Message
from assistant.reminders import Schedule
from assistant.runtime import Runtime
from storage.db import transaction
from storage.models import Conversation, OutboxMessage, Task

TASKS_ONLY = Schedule(digest_roles=(), weekly_roles=())


@pytest.fixture
def bot(runtime: Runtime) -> Iterator[Assistant]:
    seed_demo(runtime)
    yield Assistant(runtime)


def test_pressing_done_completes_the_reminded_task(bot: Assistant, runtime: Runtime) -> None:
    world = World(runtime, default_registry())
    sent = world.run(NOW, TASKS_ONLY)
    assert sent and {s.channel for s in sent} == {"terminal"}
    with runtime.sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).all()
        pressed = [
            (
                row.payload["recipient"],
                row.payload["reply"]["buttons"][0]["value"],
                row.payload["context"]["task_id"],
            )
            for row in rows
        ]
    asked = []
    for recipient, value, task_id in pressed:
        reply = bot.handle(Message("terminal", recipient, value, sender_is_email=True))
        assert reply.intent == "complete_task", (value, reply.plain)
        if reply.buttons and reply.buttons[0].kind == "choose":
            # "Call Jane about the Pilot": complete_task resolves the contact in the title before the
            # title itself (see the report); answering with the task's contact completes it
            with runtime.sessions() as session:
                task = session.get(Task, task_id)
                assert task is not None and task.contact is not None
                contact = task.contact.name
            asked.append(value)
            reply = bot.handle(Message("terminal", recipient, contact, sender_is_email=True))
        with runtime.sessions() as session:
            assert session.get(Task, task_id).status == "done", (value, reply.plain)  # type: ignore[union-attr]
    assert len(asked) <= 1, asked


PENDING = {
    "kind": "ask",
    "intent": "update_deal",
    "slots": {"amount": 50000},
    "slot": "deal",
    "question": "Which deal?",
}


def test_a_reminder_keeps_the_conversation_it_lands_in(world: World) -> None:
    dana = world.user("Dana Rep")
    task = world.task("Call Jane", dana, NOW)
    with transaction(world.runtime.sessions) as session:
        session.add(
            Conversation(
                channel="recording",
                external_id="dana.rep@example.test",
                user_id=dana,
                state={"pending": PENDING, "context": {"account_id": 7}},
                version=3,
            )
        )
    assert len(world.run(NOW, TASKS_ONLY)) == 1
    with world.runtime.sessions() as session:
        conversation = session.scalars(select(Conversation)).one()
    assert conversation.version == 4
    assert conversation.state == {
        "pending": PENDING,
        "context": {"account_id": 7, "task_id": task},
    }
