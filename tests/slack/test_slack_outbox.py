"""Reminders, digests and alerts reach staff as Slack DMs, and their buttons run the same turns."""

from __future__ import annotations

from fake_slack import FakeSlack
from slack_world import DANIEL, Workspace
from sqlalchemy import select

from adapters.slack.channel import SlackChannel
from assistant.channels import Registry, default_registry
from assistant.reminders import Schedule, run_due
from storage.models import OutboxMessage, Task, User

TASKS_ONLY = Schedule(digest_roles=(), weekly_roles=())


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
