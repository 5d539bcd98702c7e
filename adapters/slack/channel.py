"""Slack's output side: a `Reply` as one Block Kit message, with a chart uploaded under it.

Slack shows every part of a reply richly (mrkdwn, monospaced tables, buttons, images), so this channel
overrides `send_reply` whole. The same post serves the answer to a message (in its channel or thread)
and the outbox's reminders, digests and alerts, which go to a user id: Slack opens (or reuses) the
app's DM with that person.

The outbox is at-least-once for network channels (assistant/channels.py): a worker killed between
Slack's answer and the "sent" mark leaves the row to be claimed again. Slack DMs are made effectively
exactly-once: every outbox post carries its key as message metadata, and a row claimed a second time
is first looked for in the DM's history since the row was enqueued (conversations.history with
include_all_metadata; the im:history scope); found, it is not posted again and the outbox marks it sent.
The support channel's notices are looked for the same way in that channel (channels:history, or
groups:history for a private one).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.channel import OutputChannel
from adapters.charts import render_png
from adapters.slack.blocks import render
from assistant.channels import ChannelError, Outgoing
from assistant.messages import Chart, Reply
from assistant.support_notices import SUPPORT_CHANNEL

log = logging.getLogger(__name__)
METADATA_EVENT = "crm_outbox"
REPLY_EVENT = "crm_reply"  # the metadata of an answer to a message: its key is the message's id
HISTORY_PAGE = 200  # messages per conversations.history call (Slack allows up to 999)
HISTORY_PAGES = 10  # a DM with more bot posts than this since the row was enqueued is not searched further
CLOCK_SKEW = timedelta(minutes=5)  # the store's clock and Slack's may differ: look a little further back


@dataclass
class SlackChannel(OutputChannel):
    client: WebClient
    name: str = "slack"
    identity: str | None = "slack"  # users reached here are those with a Slack identity

    def post(
        self, reply: Reply, channel: str, thread_ts: str | None = None, owner: str | None = None, **extra: Any
    ) -> None:
        """The reply as one message in `channel` (a thread when `thread_ts`), its buttons `owner`'s, its
        chart as an image after it."""
        posted = self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, **render(reply, owner=owner), **extra
        )
        if reply.chart is not None:
            try:  # the message is out: a failed chart is logged, never sent again with the message
                upload_chart(self.client, reply.chart, posted["channel"], thread_ts)
            except Exception:
                log.exception("could not upload the chart under a reply")

    def send(self, message: Outgoing) -> None:
        """A reminder, digest or alert as a DM, its outbox key and kind in the message metadata; not
        posted again when an earlier claim of the row already did (then this returns as if it sent)."""
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": message.key, "kind": message.kind}}
        try:
            if message.attempts > 1 and self.posted_before(message):
                log.info("%s is in the DM already (an earlier attempt sent it): not sent again", message.key)
                return
            self.post(message.reply, message.recipient, owner=message.recipient, metadata=metadata)
        except SlackApiError as error:
            raise ChannelError(f"Slack refused the DM: {error.response.get('error')}") from error

    def posted_before(self, message: Outgoing) -> bool:
        """Whether the DM holds a post carrying `message.key`, made since the row was enqueued."""
        return self.in_history(message.recipient, METADATA_EVENT, message.key, message.created_at)

    def in_history(
        self, where: str, event_type: str, key: str, since: datetime | None, thread_ts: str | None = None
    ) -> bool:
        """Whether a conversation (a channel id, or a user id for the app's DM with them) holds a post
        of this app's whose metadata is `event_type` with this key, posted since `since`; in the thread
        under `thread_ts` when given (a thread's replies are not in the channel's history)."""
        channel = where
        if not channel.startswith(("D", "C", "G")):  # a user id: the app's DM with them
            channel = self.client.conversations_open(users=where)["channel"]["id"]
        oldest = f"{(since - CLOCK_SKEW).timestamp():.6f}" if since is not None else "0"
        cursor: str | None = None
        read = (
            partial(self.client.conversations_replies, ts=thread_ts)
            if thread_ts
            else self.client.conversations_history
        )
        for _ in range(HISTORY_PAGES):
            page = read(
                channel=channel, oldest=oldest, limit=HISTORY_PAGE, include_all_metadata=True, cursor=cursor
            )
            for posted in page.get("messages") or []:
                data = posted.get("metadata") or {}
                if (
                    data.get("event_type") == event_type
                    and (data.get("event_payload") or {}).get("key") == key
                ):
                    return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or not cursor:
                return False
        log.warning("%s: gave up searching %s after %d pages", key, channel, HISTORY_PAGES)
        return False

    def send_reply(self, recipient: str, reply: Reply, key: str | None = None) -> None:
        self.post(reply, recipient, owner=recipient)

    def send_text(self, recipient: str, text: str, key: str | None = None) -> None:
        self.send_reply(recipient, Reply(text), key)


def upload_chart(client: WebClient, chart: Chart, channel: str, thread_ts: str | None) -> None:
    """The chart as a PNG file in the conversation (files.uploadV2: needs the files:write scope)."""
    client.files_upload_v2(
        channel=channel,
        thread_ts=thread_ts,
        content=render_png(chart),
        filename="chart.png",
        title=chart.title,
        alt_txt=chart.title,
    )


@dataclass
class SupportRoom:
    """The staff's support channel: the outbox's ticket notices (assistant/support_notices.py), posted
    with the transcript and buttons any member of staff may press."""

    slack: SlackChannel
    room: str  # the channel id
    name: str = SUPPORT_CHANNEL
    identity: str | None = None

    def send(self, message: Outgoing) -> None:
        """A notice in the support channel; a row claimed again is first looked for there, as DMs are."""
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": message.key, "kind": message.kind}}
        try:
            if message.attempts > 1 and self.slack.in_history(
                self.room, METADATA_EVENT, message.key, message.created_at
            ):
                log.info("%s is in the support channel already (an earlier attempt sent it)", message.key)
                return
            self.slack.post(message.reply, self.room, metadata=metadata)
        except SlackApiError as error:
            raise ChannelError(
                f"Slack refused the support channel post: {error.response.get('error')}"
            ) from error
