"""A Slack message is written down before it is acknowledged, so a process killed after the acknowledgement
loses nothing: whichever process takes the message's inbox row once it falls due runs the turn if it was
not applied, and posts the reply unless the DM shows it. One message, one turn, one reply."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fake_slack import BOT_USER, FakeSlack, dm
from slack_world import DANIEL, Workspace
from sqlalchemy import func, select

from adapters.slack.app import InboundRecovery
from adapters.slack.channel import REPLY_EVENT
from assistant import inbox
from assistant.channels import Registry
from assistant.messages import Message
from assistant.outbox import Dispatcher
from assistant.runtime import Runtime
from storage.models import Activity, OutboxMessage

DM = "D0DANIEL"
CHANNEL = "C0SALES"
EMAIL = "daniel.okafor@northwind.example"


def received(workspace: Workspace, ts: str, text: str) -> str:
    """What the middleware does before the acknowledgement; the process then dies."""
    message_id = f"{DM}:{ts}"
    inbox.receive(workspace.runtime, "slack", message_id, {"user": DANIEL, "channel": DM, "text": text})
    return message_id


def recover(workspace: Workspace) -> None:
    """A scheduler worker, once the dead process's inbox rows fell due."""
    registry = inbox_registry(workspace)
    later = datetime.now(UTC) + inbox.RECOVER_AFTER + timedelta(seconds=1)
    Dispatcher(workspace.runtime, registry, clock=lambda: later).run_once()


def inbox_registry(workspace: Workspace) -> Registry:
    registry = Registry(fallback="terminal")
    registry.register(InboundRecovery(workspace.bot))
    return registry


def thread(fake: FakeSlack, ts: str) -> list[dict[str, object]]:
    """The app's posts in the thread under `ts` in the sales channel."""
    return [p for p in fake.posts() if p.get("channel") == CHANNEL and p.get("thread_ts") == ts]


def answers(fake: FakeSlack) -> list[str]:
    return [str(p["text"]) for p in fake.posts() if p.get("channel") == DM]


def calls_logged(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        count = session.scalar(
            select(func.count()).select_from(Activity).where(Activity.notes == "inbox drill")
        )
    return int(count or 0)


def settled(runtime: Runtime) -> bool:
    with runtime.sessions() as session:
        statuses = set(session.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == "inbound")))
    return statuses == {"sent"}


def test_a_dm_is_recorded_before_its_ack_and_settled_by_its_reply(
    workspace: Workspace, fake: FakeSlack
) -> None:
    assert workspace.event(dm(DANIEL, "log a call with Globex: inbox drill", "1.1", channel=DM)).status == 200
    [reply] = fake.wait_posts(1)
    assert reply["metadata"] == {"event_type": REPLY_EVENT, "event_payload": {"key": f"{DM}:1.1"}}
    deadline = time.monotonic() + 5
    while not settled(workspace.runtime) and time.monotonic() < deadline:
        time.sleep(0.05)  # the reply is out: the row is settled just after
    assert settled(workspace.runtime)
    recover(workspace)
    assert len(answers(fake)) == 1 and calls_logged(workspace.runtime) == 1


def test_a_dm_acknowledged_by_a_process_killed_before_its_turn_is_answered_by_another(
    workspace: Workspace, fake: FakeSlack
) -> None:
    received(workspace, "2.1", "log a call with Globex: inbox drill")
    assert answers(fake) == []
    recover(workspace)
    assert calls_logged(workspace.runtime) == 1
    [answer] = answers(fake)
    assert "Logged a call with Globex" in answer
    assert settled(workspace.runtime)


def test_a_dm_whose_turn_was_applied_but_not_answered_gets_the_stored_reply_and_no_second_turn(
    workspace: Workspace, fake: FakeSlack
) -> None:
    message_id = received(workspace, "3.1", "log a call with Globex: inbox drill")
    applied = workspace.bot.assistant.handle(
        Message(
            "slack", DANIEL, "log a call with Globex: inbox drill", message_id=message_id, sender_email=EMAIL
        )
    )
    recover(workspace)
    assert calls_logged(workspace.runtime) == 1
    [answer] = answers(fake)
    assert applied.intent == "log_activity" and "Logged a call with Globex" in answer  # the stored one
    assert settled(workspace.runtime)


def test_a_dm_answered_before_its_process_died_is_not_answered_again(
    workspace: Workspace, fake: FakeSlack
) -> None:
    message_id = received(workspace, "4.1", "log a call with Globex: inbox drill")
    reply = workspace.bot.assistant.handle(
        Message(
            "slack", DANIEL, "log a call with Globex: inbox drill", message_id=message_id, sender_email=EMAIL
        )
    )
    metadata = {"event_type": REPLY_EVENT, "event_payload": {"key": message_id}}
    workspace.bot.channel.post(reply, DM, owner=DANIEL, metadata=metadata)  # then killed: never settled
    recover(workspace)
    assert len(answers(fake)) == 1 and calls_logged(workspace.runtime) == 1
    assert len(fake.called("conversations.history")) == 1
    assert settled(workspace.runtime)


def test_a_mention_answered_in_its_thread_before_its_process_died_is_not_answered_again(
    workspace: Workspace, fake: FakeSlack
) -> None:
    """A mention's answer goes in a thread, which the channel's history does not show: the thread is read."""
    message_id = f"{CHANNEL}:5.1"
    asked = {"user": DANIEL, "channel": CHANNEL, "text": f"<@{BOT_USER}> log a call with Globex: inbox drill"}
    inbox.receive(workspace.runtime, "slack", message_id, {**asked, "thread_ts": "5.1", "bot": BOT_USER})
    reply = workspace.bot.assistant.handle(
        Message(
            "slack", DANIEL, "log a call with Globex: inbox drill", message_id=message_id, sender_email=EMAIL
        )
    )
    metadata = {"event_type": REPLY_EVENT, "event_payload": {"key": message_id}}
    workspace.bot.channel.post(reply, CHANNEL, "5.1", owner=DANIEL, metadata=metadata)  # then killed
    recover(workspace)
    assert len(thread(fake, "5.1")) == 1 and calls_logged(workspace.runtime) == 1
    assert [c.args.get("ts") for c in fake.called("conversations.replies")] == ["5.1"]
    assert settled(workspace.runtime)


def test_a_mention_whose_process_died_before_its_turn_is_read_without_the_apps_name(
    workspace: Workspace, fake: FakeSlack
) -> None:
    asked = {"user": DANIEL, "channel": CHANNEL, "text": f"<@{BOT_USER}> log a call with Globex: inbox drill"}
    inbox.receive(
        workspace.runtime, "slack", f"{CHANNEL}:6.1", {**asked, "thread_ts": "6.1", "bot": BOT_USER}
    )
    recover(workspace)
    [answer] = thread(fake, "6.1")
    assert "Logged a call with Globex" in str(answer["text"]) and calls_logged(workspace.runtime) == 1
    assert settled(workspace.runtime)


def test_a_dm_with_a_nul_in_it_is_answered_and_settled(workspace: Workspace, fake: FakeSlack) -> None:
    """The inbox row keeps the text as sent; PostgreSQL's jsonb would refuse its \\u0000, json does not."""
    event = dm(DANIEL, "log a call with Globex: inbox drill\x00", "7.1", channel=DM)
    assert workspace.event(event).status == 200
    [reply] = fake.wait_posts(1)
    assert "Logged a call with Globex" in str(reply["text"])
    deadline = time.monotonic() + 5
    while not settled(workspace.runtime) and time.monotonic() < deadline:
        time.sleep(0.05)  # the reply is out: the row is settled just after
    assert settled(workspace.runtime)


def test_a_bot_that_stops_finishes_its_turns_and_settles_their_rows(
    workspace: Workspace, fake: FakeSlack
) -> None:
    """SIGTERM (a deploy, a restart): once its server takes no more requests (HttpServer.close, SocketMode
    .close), the turn under way is answered and its row marked at once, not left for another process to
    look at after CRM_INBOX_RECOVER_SECONDS."""
    assert workspace.event(dm(DANIEL, "log a call with Globex: inbox drill", "8.1", channel=DM)).status == 200
    workspace.bot.close()  # at once: the turn may still be running, its "done" mark not yet written
    assert len(answers(fake)) == 1 and calls_logged(workspace.runtime) == 1
    assert settled(workspace.runtime)
