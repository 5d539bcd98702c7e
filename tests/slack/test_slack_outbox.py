"""Reminders, digests and alerts reach staff as Slack DMs, and their buttons run the same turns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fake_slack import FakeSlack, posted_keys
from slack_world import DANIEL, Workspace
from sqlalchemy import select

from adapters.slack.channel import SlackChannel
from assistant.channels import Outgoing, Registry, default_registry
from assistant.messages import Reply
from assistant.outbox import LEASE, Dispatcher, Item, enqueue
from assistant.reminders import Schedule, run_due
from storage.db import transaction
from storage.models import ChannelIdentity, OutboxMessage, Task, User

TASKS_ONLY = Schedule(digest_roles=(), weekly_roles=())
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def slack_registry(workspace: Workspace) -> Registry:
    channels = default_registry()
    channels.register(SlackChannel(workspace.bot.client))
    return channels


def test_reminders_are_slack_dms_to_staff_with_a_slack_id(workspace: Workspace) -> None:
    sent = run_due(workspace.runtime, channels=slack_registry(workspace), schedule=TASKS_ONLY)
    assert sent and {s.channel for s in sent} == {"slack"}
    posts = workspace.fake.posts()
    assert len(posts) == len(sent)
    assert {p["channel"] for p in posts} == {s.recipient for s in sent}
    assert all(p["channel"].startswith("U0DEMO") for p in posts)
    keys = [p["metadata"]["event_payload"]["key"] for p in posts]
    assert sorted(keys) == sorted(s.key for s in sent)  # the outbox key rides along
    # running again sends nothing twice
    assert run_due(workspace.runtime, channels=slack_registry(workspace), schedule=TASKS_ONLY) == []
    assert len(workspace.fake.posts()) == len(posts)


def test_a_dm_slack_refuses_is_kept_for_the_next_round(workspace: Workspace, fake: FakeSlack) -> None:
    fake.fail["chat.postMessage"] = "ratelimited"
    assert run_due(workspace.runtime, channels=slack_registry(workspace), schedule=TASKS_ONLY) == []
    with workspace.runtime.sessions() as session:
        waiting = session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).all()
    assert waiting and all(row.attempts == 1 for row in waiting)


def test_done_on_a_reminder_completes_the_task(workspace: Workspace) -> None:
    run_due(workspace.runtime, channels=slack_registry(workspace), schedule=TASKS_ONLY)
    reminders = [p for p in workspace.fake.posts() if p["channel"] == DANIEL]
    assert reminders, "the demo gives Daniel a task due today"
    reminder = {**reminders[0], "channel": "D0DANIEL"}  # a press comes from the DM the post opened
    with workspace.runtime.sessions() as session:
        daniel = session.scalars(select(User).where(User.name == "Daniel Okafor")).one()
        open_before = set(
            session.scalars(select(Task.id).where(Task.assignee_id == daniel.id, Task.status == "open"))
        )
    assert workspace.press(DANIEL, reminder, "Done").status == 200
    reply = workspace.fake.wait_posts(len(workspace.fake.posts()) + 1)[-1]
    with workspace.runtime.sessions() as session:
        open_after = set(
            session.scalars(select(Task.id).where(Task.assignee_id == daniel.id, Task.status == "open"))
        )
    assert len(open_before - open_after) == 1, reply["text"]


def test_snooze_on_a_reminder_moves_the_task(workspace: Workspace) -> None:
    run_due(workspace.runtime, channels=slack_registry(workspace), schedule=TASKS_ONLY)
    reminder = {**next(p for p in workspace.fake.posts() if p["channel"] == DANIEL), "channel": "D0DANIEL"}
    labels = [e["text"]["text"] for b in reminder["blocks"] if b["type"] == "actions" for e in b["elements"]]
    snooze = next(label for label in labels if "tomorrow" in label.lower())
    with workspace.runtime.sessions() as session:
        due_before = {
            row[0]: row[1]
            for row in session.execute(select(Task.id, Task.due_at).where(Task.status == "open")).all()
        }
    workspace.press(DANIEL, reminder, snooze)
    reply = workspace.fake.wait_posts(len(workspace.fake.posts()) + 1)[-1]
    with workspace.runtime.sessions() as session:
        due_after = {
            row[0]: row[1]
            for row in session.execute(select(Task.id, Task.due_at).where(Task.status == "open")).all()
        }
    moved = [task for task, due in due_before.items() if due_after.get(task) != due]
    assert len(moved) == 1, reply["text"]
    assert due_after[moved[0]] > due_before[moved[0]]


# --- a worker killed mid-send: the DM is looked for before it is sent again ---------------------------------


@dataclass
class Dies:
    """Slack's channel in a worker that is killed right after (or right before) its post reaches Slack:
    the outbox never hears back, so the row stays claimed until its lease runs out."""

    slack: SlackChannel
    after_post: bool
    name: str = "slack"
    identity: str | None = "slack"

    def send(self, message: Outgoing) -> None:
        if self.after_post:
            self.slack.send(message)
        raise KeyboardInterrupt("killed")  # not an Exception: the outbox records nothing, as under kill -9


def reminder_to(workspace: Workspace, who: str, key: str) -> None:
    with transaction(workspace.runtime.sessions) as session:
        user = session.scalars(
            select(ChannelIdentity.user_id).where(ChannelIdentity.external_id == who)
        ).one()
        enqueue(session, [Item(key, "reminder", user, "slack", who, Reply(f"reminder {key}"), T0)])


def dispatch(workspace: Workspace, channel: SlackChannel | Dies, at: datetime) -> None:
    registry = Registry(fallback="slack")
    registry.register(channel)
    Dispatcher(workspace.runtime, registry, clock=lambda: at).run_once()


@pytest.mark.parametrize("after_post", [True, False], ids=["killed after the post", "killed before it"])
def test_a_dm_claimed_again_after_a_kill_is_in_the_dm_exactly_once(
    workspace: Workspace, fake: FakeSlack, after_post: bool
) -> None:
    reminder_to(workspace, DANIEL, "task:1:fault")
    slack = SlackChannel(workspace.bot.client)
    with pytest.raises(KeyboardInterrupt):
        dispatch(workspace, Dies(slack, after_post), T0)
    dispatch(workspace, slack, T0 + LEASE / 2)  # still leased to the dead worker: nobody takes it
    assert posted_keys(fake) == (["task:1:fault"] if after_post else [])

    dispatch(workspace, slack, T0 + LEASE + timedelta(seconds=1))
    assert posted_keys(fake) == ["task:1:fault"]  # in the DM once, whether the dead worker posted it or not
    assert len(fake.called("conversations.history")) == 1  # looked for it before posting again
    with workspace.runtime.sessions() as session:
        row = session.scalars(select(OutboxMessage)).one()
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_first_attempt_does_not_read_the_history(workspace: Workspace, fake: FakeSlack) -> None:
    reminder_to(workspace, DANIEL, "task:2:fault")
    dispatch(workspace, SlackChannel(workspace.bot.client), T0)
    assert posted_keys(fake) == ["task:2:fault"]
    assert fake.called("conversations.history") == [] and fake.called("conversations.open") == []


def test_the_history_is_searched_page_by_page_from_the_rows_creation(
    workspace: Workspace, fake: FakeSlack
) -> None:
    slack = SlackChannel(workspace.bot.client)
    for n in range(5):  # older posts in the DM, each with metadata of another row
        slack.send(outgoing(f"other:{n}", DANIEL))
    slack.send(outgoing("task:3:fault", DANIEL))
    for n in range(450):
        slack.post(Reply(f"a later answer {n}"), DANIEL)
    again = outgoing("task:3:fault", DANIEL, attempts=2)
    slack.send(again)
    assert posted_keys(fake).count("task:3:fault") == 1
    pages = fake.called("conversations.history")
    assert len(pages) == 3 and all(p.args["include_all_metadata"] in (True, "true", "1") for p in pages)
    assert float(pages[0].args["oldest"]) <= again.created_at.timestamp() if again.created_at else False

    slack.send(outgoing("task:4:fault", DANIEL, attempts=2))  # not there: posted
    assert posted_keys(fake).count("task:4:fault") == 1


def outgoing(key: str, recipient: str, attempts: int = 1) -> Outgoing:
    return Outgoing(
        outbox_id=0,
        key=key,
        kind="reminder",
        channel="slack",
        recipient=recipient,
        user_id=None,
        reply=Reply(f"reminder {key}"),
        attempts=attempts,
        created_at=datetime.now(UTC) - timedelta(seconds=5),
    )
