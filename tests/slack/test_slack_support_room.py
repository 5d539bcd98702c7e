"""New tickets reach the staff's support channel (CRM_SLACK_SUPPORT_CHANNEL) with the conversation and
buttons; any member of staff takes one from there, and the notice is sent once."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from fake_slack import FakeSlack
from slack_world import DANIEL, Workspace
from sqlalchemy import select

from adapters.slack.channel import SlackChannel, SupportRoom
from adapters.slack.settings import SlackSettings, SlackSettingsError
from assistant.channels import Outgoing, Registry
from assistant.engine import Assistant
from assistant.messages import Message, Reply
from assistant.outbox import Dispatcher
from storage.models import Ticket, User

ROOM = "C0SUPPORT"
CUSTOMER = "jpark@globex.example"


def support_registry(workspace: Workspace) -> Registry:
    channels = Registry()
    channels.register(SupportRoom(SlackChannel(workspace.bot.client), ROOM))
    return channels


def customer_says(workspace: Workspace, text: str) -> str:
    reply = Assistant(workspace.runtime).handle(
        Message("terminal", CUSTOMER, text, customer=True, sender_is_email=True)
    )
    return reply.plain


def test_a_new_ticket_is_posted_to_the_support_channel_once(workspace: Workspace, fake: FakeSlack) -> None:
    assert "not sure" in customer_says(workspace, "what is the capital of france")
    assert "#1046" in customer_says(workspace, "please open a ticket: the csv export is missing columns")
    dispatcher = Dispatcher(workspace.runtime, support_registry(workspace))
    sent = dispatcher.run_once()
    assert [s.key for s in sent] == ["ticket:1046:opened"]
    posted = [p for p in fake.posts() if p["channel"] == ROOM]
    assert len(posted) == 1
    text = posted[0]["text"]
    assert "New ticket #1046" in text and "the csv export is missing columns" in text
    assert "what is the capital of france" in text  # the conversation comes along
    assert Dispatcher(workspace.runtime, support_registry(workspace)).run_once() == []

    assert workspace.press(DANIEL, {**posted[0], "channel": ROOM}, "Take it").status == 200
    reply = fake.wait_posts(len(fake.posts()) + 1)[-1]
    assert "assigned to you" in reply["text"]
    with workspace.runtime.sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == 1046)).one()
        daniel = session.scalars(select(User).where(User.name == "Daniel Okafor")).one()
        assert ticket.assignee_id == daniel.id


def test_a_customer_waiting_for_a_person_is_announced(workspace: Workspace, fake: FakeSlack) -> None:
    customer_says(workspace, "let me talk to a human")
    Dispatcher(workspace.runtime, support_registry(workspace)).run_once()
    posted = [p for p in fake.posts() if p["channel"] == ROOM]
    assert len(posted) == 1 and "waiting for a person" in posted[0]["text"]


def test_the_support_channel_setting_is_checked() -> None:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "CRM_SLACK_SUPPORT_CHANNEL": "#C0SUPPORT",
    }
    assert SlackSettings.from_env(env).support_channel == "C0SUPPORT"
    with pytest.raises(SlackSettingsError, match="CRM_SLACK_SUPPORT_CHANNEL"):
        SlackSettings.from_env({**env, "CRM_SLACK_SUPPORT_CHANNEL": "support desk!"})


def test_a_customer_message_is_shown_as_text_in_slack(workspace: Workspace, fake: FakeSlack) -> None:
    """A customer's words may carry mentions and markup: Slack gets them escaped, so nobody is pinged."""
    customer_says(workspace, "open a ticket: <!channel> <script>alert(1)</script> the export is broken")
    Dispatcher(workspace.runtime, support_registry(workspace)).run_once()
    posted = next(p for p in fake.posts() if p["channel"] == ROOM)
    sections = " ".join(b["text"]["text"] for b in posted["blocks"] if b["type"] == "section")
    assert "&lt;script&gt;" in sections
    assert "<" not in sections  # no mention, link or tag reaches Slack's formatting


def test_a_notice_claimed_again_after_its_post_went_out_is_not_posted_twice(
    workspace: Workspace, fake: FakeSlack
) -> None:
    """A worker killed between Slack's answer and the "sent" mark: the next claim finds the notice's key
    in the support channel (conversations.history with metadata) and posts nothing."""
    room = SupportRoom(SlackChannel(workspace.bot.client), ROOM)
    notice = Outgoing(
        outbox_id=0,
        key="ticket:1046:opened",
        kind="support",
        channel=room.name,
        recipient="",
        user_id=None,
        reply=Reply("New ticket #1046"),
        attempts=1,
        created_at=datetime.now(UTC) - timedelta(seconds=5),
    )
    room.send(notice)
    room.send(replace(notice, attempts=2))
    assert len([p for p in fake.posts() if p["channel"] == ROOM]) == 1
    [looked] = fake.called("conversations.history")
    assert looked.args["channel"] == ROOM

    room.send(replace(notice, key="ticket:1047:opened", attempts=2))  # claimed again, never out: posted
    assert len([p for p in fake.posts() if p["channel"] == ROOM]) == 2
