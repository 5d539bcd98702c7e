"""The Slack app end to end: signed HTTP requests in, the real slack-bolt and slack_sdk code, replies out to
a fake Slack Web API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from fake_slack import BOT_TOKEN, BOT_USER, SIGNING_SECRET, dm, event_body, mention, post
from slack_world import DANIEL, MARIA, NEWCOMER, NEWCOMER_EMAIL, STRANGER, Workspace, settings_for
from sqlalchemy import func, select

from adapters.slack.app import SlackBot
from adapters.slack.server import HttpServer
from assistant.engine import Assistant
from storage.models import Account, Activity, ChannelIdentity, Deal, Task, User

ACK_SECONDS = 3.0  # Slack's limit for an acknowledgement


def text_of(posted: dict[str, Any]) -> str:
    """Everything a person reads in a posted message: the sections' text (blocks), else the fallback."""
    parts = [b["text"]["text"] for b in posted.get("blocks", []) if b.get("type") == "section"]
    return ("\n".join(parts) or posted.get("text", "")).replace("*", "")


def labels(posted: dict[str, Any]) -> list[str]:
    return [
        e["text"]["text"]
        for b in posted.get("blocks", [])
        if b.get("type") == "actions"
        for e in b["elements"]
    ]


def count(workspace: Workspace, model: Any, *where: Any) -> int:
    with workspace.runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def converse(workspace: Workspace, user: str, text: str, replies_before: int) -> dict[str, Any]:
    """A DM and the one reply it gets."""
    answer = workspace.event(dm(user, text, workspace.next_ts()))
    assert answer.status == 200 and answer.seconds < ACK_SECONDS
    posts = workspace.fake.wait_posts(replies_before + 1)
    assert len(posts) == replies_before + 1, f"no reply to {text!r}"
    return posts[-1]


def test_a_direct_message_is_answered_in_the_dm_with_a_table(workspace: Workspace) -> None:
    reply = converse(workspace, MARIA, "top deals this month", 0)
    assert reply["channel"] == "D0DM" and "thread_ts" not in reply
    assert "deals worth" in reply["text"]
    assert "```Deal" in text_of(reply) and "Total" in text_of(reply)
    assert all(c.token == BOT_TOKEN for c in workspace.fake.calls)


def test_a_mention_is_answered_in_a_thread_without_the_mention(workspace: Workspace) -> None:
    ts = workspace.next_ts()
    assert workspace.event(mention(DANIEL, "tell me about gringotts", ts)).status == 200
    [reply] = workspace.fake.wait_posts(1)
    assert reply["channel"] == "C0SALES" and reply["thread_ts"] == ts
    assert "Gringotts Bank" in text_of(reply) and "open deals" in text_of(reply)


def test_a_mention_inside_a_thread_stays_in_that_thread(workspace: Workspace) -> None:
    ts = workspace.next_ts()
    workspace.event(mention(DANIEL, "win rate this year", workspace.next_ts(), thread_ts=ts))
    [reply] = workspace.fake.wait_posts(1)
    assert reply["thread_ts"] == ts and "Win rate" in text_of(reply)


def test_the_slash_command_is_acknowledged_at_once_and_answered_privately(workspace: Workspace) -> None:
    answer = workspace.command(MARIA, "pipeline by stage")
    assert answer.status == 200 and answer.body == "" and answer.seconds < ACK_SECONDS
    [reply] = workspace.fake.wait_posts(1)
    assert reply["response_type"] == "ephemeral" and "Pipeline" in text_of(reply)
    [call] = [c for c in workspace.fake.calls if c.method.startswith("respond/")]
    assert call.method == "respond/cmd1"


def test_an_empty_slash_command_gets_the_help(workspace: Workspace) -> None:
    workspace.command(DANIEL, "")
    [reply] = workspace.fake.wait_posts(1)
    assert "log a call with Acme" in text_of(reply)


def test_confirm_then_undo_by_buttons(workspace: Workspace) -> None:
    ask = converse(workspace, DANIEL, "log a call with Zyxel Robotics", 0)
    assert "Create it?" in text_of(ask) and labels(ask) == ["Yes", "No"]
    assert workspace.press(DANIEL, ask, "Yes").status == 200
    done = workspace.fake.wait_posts(2)[-1]
    assert "Logged a call with Zyxel Robotics" in text_of(done) and labels(done) == ["Undo"]
    assert count(workspace, Account, Account.name == "Zyxel Robotics", Account.deleted_at.is_(None)) == 1
    # the pressed message loses its buttons and says who chose what
    [update] = workspace.fake.called("chat.update")
    assert not [b for b in update.args["blocks"] if b["type"] == "actions"]
    assert f"<@{DANIEL}> chose *Yes*" in str(update.args["blocks"])

    workspace.press(DANIEL, done, "Undo")
    undone = workspace.fake.wait_posts(3)[-1]
    assert "Undone" in text_of(undone)
    assert count(workspace, Account, Account.name == "Zyxel Robotics", Account.deleted_at.is_(None)) == 0


def test_no_button_changes_nothing(workspace: Workspace) -> None:
    ask = converse(workspace, DANIEL, "log a call with Zyxel Robotics", 0)
    workspace.press(DANIEL, ask, "No")
    workspace.fake.wait_posts(2)
    assert count(workspace, Account, Account.name == "Zyxel Robotics") == 0


def test_choose_by_button(workspace: Workspace) -> None:
    ask = converse(workspace, MARIA, "move the gringotts deal to negotiation", 0)
    assert labels(ask) == ["Gringotts Bank Training Package", "Gringotts Bank Premium Support"]
    workspace.press(MARIA, ask, "Gringotts Bank Premium Support")
    done = workspace.fake.wait_posts(2)[-1]
    assert "Updated Gringotts Bank Premium Support: stage negotiation" in text_of(done)
    assert (
        count(workspace, Deal, Deal.name == "Gringotts Bank Premium Support", Deal.stage == "negotiation")
        == 1
    )


def test_someone_elses_buttons_do_nothing(workspace: Workspace) -> None:
    ask = converse(workspace, DANIEL, "log a call with Zyxel Robotics", 0)
    workspace.press(MARIA, ask, "Yes")
    refusal = workspace.fake.wait_posts(2)[-1]
    assert refusal["response_type"] == "ephemeral" and "belong to" in refusal["text"]
    time.sleep(0.3)
    assert count(workspace, Account, Account.name == "Zyxel Robotics") == 0
    assert not workspace.fake.called("chat.update")


def test_a_retried_event_is_answered_once(workspace: Workspace) -> None:
    event = dm(DANIEL, "log a call with Globex", workspace.next_ts())
    assert workspace.event(event, event_id="EvRETRY").status == 200
    retry = workspace.event(
        event, event_id="EvRETRY", headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    )
    assert retry.status == 200
    workspace.fake.wait_posts(1)
    time.sleep(0.5)
    assert len(workspace.fake.posts()) == 1
    assert count(workspace, Activity, Activity.channel == "slack") == 1


def test_a_retry_that_reaches_another_worker_is_answered_once(workspace: Workspace) -> None:
    """Two processes behind a load balancer share the store; the second one finds the message answered."""
    other = SlackBot(Assistant(workspace.runtime), settings_for(workspace.fake))
    server = HttpServer(other, settings_for(workspace.fake), host="127.0.0.1", port=0).start()
    try:
        event = dm(DANIEL, "log a call with Globex", workspace.next_ts())
        workspace.event(event, event_id="EvTWICE")
        workspace.fake.wait_posts(1)
        body = event_body(event, "EvTWICE")
        headers = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        assert (
            post(
                f"http://127.0.0.1:{server.port}/slack/events", body, "application/json", headers=headers
            ).status
            == 200
        )
        time.sleep(1.0)
    finally:
        server.close()
    assert len(workspace.fake.posts()) == 1
    assert count(workspace, Activity, Activity.channel == "slack") == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"secret": "not-the-signing-secret"}, id="bad-signature"),
        pytest.param({"timestamp": int(time.time()) - 10 * 60}, id="stale-timestamp"),
    ],
)
def test_a_request_slack_did_not_sign_gets_401_and_no_turn(
    workspace: Workspace, change: dict[str, Any]
) -> None:
    answer = workspace.event(dm(DANIEL, "log a call with Zyxel Robotics", workspace.next_ts()), **change)
    assert answer.status == 401
    time.sleep(0.5)
    assert workspace.fake.posts() == [] and not workspace.fake.called("users.info")


def test_an_unknown_slack_user_is_sent_to_an_admin_and_learns_nothing(workspace: Workspace) -> None:
    reply = converse(workspace, STRANGER, "top deals this month", 0)
    assert "I don't know you yet" in text_of(reply) and "Ask an admin" in text_of(reply)
    assert "$" not in text_of(reply) and "deal" not in text_of(reply).lower()
    assert count(workspace, ChannelIdentity, ChannelIdentity.external_id == STRANGER) == 0


def test_a_slack_user_is_linked_to_staff_by_email(workspace: Workspace) -> None:
    reply = converse(workspace, NEWCOMER, "what's on my plate today", 0)
    assert "I don't know you" not in text_of(reply)
    assert (
        count(
            workspace,
            ChannelIdentity,
            ChannelIdentity.channel == "slack",
            ChannelIdentity.external_id == NEWCOMER,
        )
        == 1
    )


def test_a_slack_users_dates_are_in_their_slack_time_zone(workspace: Workspace) -> None:
    converse(workspace, NEWCOMER, "remind me to call acme tomorrow", 0)
    with workspace.runtime.sessions() as session:
        lena = session.scalars(select(User).where(User.email == NEWCOMER_EMAIL)).one()
        task = session.scalars(select(Task).where(Task.assignee_id == lena.id)).one()
    assert lena.timezone == "Asia/Tokyo"
    assert task.due_at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # Tuesday 09:00 in Tokyo


def test_a_mention_of_a_colleague_reads_as_their_name(workspace: Workspace) -> None:
    reply = converse(workspace, MARIA, f"open deals for <@{DANIEL}>", 0)
    assert text_of(reply).startswith("11 deals")
    rows = [line for line in text_of(reply).split("\n")[1:] if "$" in line and "Total" not in line]
    assert rows and all(line.rstrip().endswith("Daniel Okafor") for line in rows)


def test_slack_checks_the_request_url_with_a_challenge(workspace: Workspace) -> None:
    body = json.dumps(
        {
            "token": "unused",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    answer = post(workspace.url, body, "application/json")
    assert answer.status == 200 and "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in answer.body


def test_a_reply_slack_rate_limits_is_sent_after_the_wait(workspace: Workspace) -> None:
    workspace.fake.rate_limit["chat.postMessage"] = 1
    reply = converse(workspace, MARIA, "win rate this year", 0)
    assert "Win rate" in text_of(reply)
    assert [c.method for c in workspace.fake.calls if "chat.postMessage" in c.method] == [
        "429 chat.postMessage",
        "chat.postMessage",
    ]


def test_a_bots_own_messages_are_ignored(workspace: Workspace) -> None:
    event = dm(BOT_USER, "top deals", workspace.next_ts())
    event["bot_id"] = "BCRMBOT"
    workspace.event(event)
    time.sleep(0.5)
    assert workspace.fake.posts() == []


def test_a_refused_change_says_why_and_changes_nothing(workspace: Workspace) -> None:
    ask = converse(workspace, DANIEL, "move the gringotts deal to negotiation", 0)
    workspace.press(DANIEL, ask, "Gringotts Bank Premium Support")
    refusal = workspace.fake.wait_posts(2)[-1]
    assert "belongs to Tom Fischer" in text_of(refusal) and "Nothing was changed" in text_of(refusal)
    assert count(workspace, Deal, Deal.name.like("Gringotts%"), Deal.stage == "negotiation") == 0


def test_tokens_are_never_logged(workspace: Workspace, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    converse(workspace, MARIA, "top deals this month", 0)
    workspace.command(MARIA, "win rate this year")
    workspace.fake.wait_posts(2)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert BOT_TOKEN not in logged and SIGNING_SECRET not in logged
    assert BOT_TOKEN not in repr(settings_for(workspace.fake))
