"""A channel added without a change in assistant/: the collecting channel (adapters/collecting.py) is
registered for the outbox and used as a conversation's output side, as any new platform would be.

It also pins the shared text fallback (adapters/channel.py): what a channel does not render richly
arrives as plain text.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from adapters.collecting import CollectingChannel
from adapters.rendering import resolve_button
from assistant.channels import default_registry
from assistant.engine import Assistant
from assistant.messages import Button, Chart, Message, Reply, Table
from assistant.reminders import Schedule, run_due
from assistant.runtime import Runtime
from storage.db import transaction
from storage.models import ChannelIdentity, Task, User

TASKS_ONLY = Schedule(digest_roles=(), weekly_roles=())
SENDER = "C-0042"  # the rep's id on the new platform


def rep_on_the_new_channel(runtime: Runtime, due_in: timedelta) -> int:
    with transaction(runtime.sessions) as session:
        user = User(name="Dana Rep", email="dana@example.test", role="rep")
        session.add(user)
        session.flush()
        session.add(ChannelIdentity(channel="collecting", external_id=SENDER, user_id=user.id))
        session.add(
            Task(
                title="Call Jane about the renewal",
                due_at=runtime.now() + due_in,
                due_has_time=True,
                assignee_id=user.id,
                created_by_id=user.id,
            )
        )
        return user.id


def test_reminders_reach_users_on_a_newly_registered_channel(runtime: Runtime) -> None:
    rep_on_the_new_channel(runtime, timedelta(minutes=-1))
    channel = CollectingChannel()
    registry = default_registry()
    registry.register(channel)

    sent = run_due(runtime, channels=registry, schedule=TASKS_ONLY)

    assert [(s.channel, s.recipient) for s in sent] == [("collecting", SENDER)]
    [delivered] = channel.sent
    assert delivered.recipient == SENDER and delivered.key == sent[0].key  # the key rides along
    assert "Call Jane about the renewal" in delivered.text
    assert [b.kind for b in delivered.reply.buttons][:1] == ["done"]
    assert "[1] Done" in delivered.text  # buttons fall back to keys to type
    assert run_due(runtime, channels=registry, schedule=TASKS_ONLY) == []  # nothing twice
    assert len(channel.sent) == 1


def test_a_conversation_on_the_new_channel_runs_the_same_assistant(runtime: Runtime) -> None:
    rep_on_the_new_channel(runtime, timedelta(hours=3))
    assistant = Assistant(runtime)
    channel = CollectingChannel()

    def say(text: str) -> str:
        """One turn as the platform's input side would run it; returns what the user sees."""
        typed = resolve_button(text, channel.sent[-1].reply.buttons if channel.sent else [])
        reply = assistant.handle(Message("collecting", SENDER, typed, message_id=f"m{len(channel.sent)}"))
        channel.send_reply(SENDER, reply)
        return channel.sent[-1].text

    assert "Call Jane about the renewal" in say("what's on my plate today")
    say("done with call jane")
    with runtime.sessions() as session:
        task = session.scalars(select(Task)).one()
        assert task.status == "done"
    assert "Undo" in [b.label for b in channel.sent[-1].reply.buttons]
    say("undo")
    with runtime.sessions() as session:
        assert session.scalars(select(Task)).one().status == "open"
    # a platform's retry of a message already answered is dropped by the engine, for any channel
    assert assistant.handle(Message("collecting", SENDER, "undo", message_id="m2")).duplicate


def test_what_a_channel_does_not_render_richly_falls_back_to_text() -> None:
    table = Table(("Stage", "Amount"), (("Proposal", "$1,200"), ("Won", "$300")), numeric=(False, True))
    reply = Reply(
        "Pipeline: *$1,500*",
        table=table,
        chart=Chart("Pipeline by stage", ("Proposal", "Won"), (1200.0, 300.0)),
        buttons=[Button("Undo", "undo", "undo")],
    )
    channel = CollectingChannel()
    channel.send_reply("anyone", reply)
    assert channel.texts() == [
        "Pipeline: $1,500\nStage     Amount\n--------  ------\nProposal  $1,200\nWon         $300\n  [undo]"
    ]
