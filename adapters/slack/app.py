"""slack-bolt listeners -> one assistant turn each -> a Block Kit reply.

Every request is acknowledged before the turn runs: events are acknowledged by Bolt itself and handled
on its thread pool; the slash command and the buttons acknowledge in `ack` and run the turn in a lazy
listener. A retried event (Slack retries when it saw no acknowledgement in 3 s) carries the same
channel and timestamp, which is the message id the assistant remembers per conversation, so it is
answered once even when the retry reaches another process; a per-process list drops it sooner.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from adapters.recent import RecentKeys
from adapters.slack.blocks import ACTION_PREFIX, answered_blocks, button_owner, render
from adapters.slack.channel import SlackChannel
from adapters.slack.people import SlackPeople
from adapters.slack.settings import SlackSettings
from adapters.slack.text import unformat
from assistant.engine import REFUSED, Assistant
from assistant.limits import MAX_MESSAGE_CHARS
from assistant.messages import Message, Reply
from assistant.replies import say

log = logging.getLogger(__name__)
CHANNEL = "slack"
# Turns at once: turns are CPU-bound Python under one GIL, so more threads only starve the acknowledgements
# (200 events at once on PostgreSQL: ack p99 2.0 s with 8 threads, 0.9 s with 2). Scale with processes.
WORKERS = 2
RATE_LIMIT_RETRIES = 2
HANDLED_SUBTYPES = (None, "file_share")  # a typed message, with or without an attachment
# Slack's markup (<@U123>, <mailto:a@b.c|a@b.c>) at most doubles what was typed: longer raw text is refused
# before it is unformatted, which may look up a name for every mention
MAX_RAW_CHARS = 2 * MAX_MESSAGE_CHARS


@dataclass(frozen=True)
class Where:
    """Where the answer to one request goes: a channel (and thread), or the slash command's response URL."""

    channel: str | None = None
    thread_ts: str | None = None
    respond: Callable[..., Any] | None = None


class SlackBot:
    """The Slack app: a bolt `App` whose listeners ask `assistant` and post what it replies."""

    def __init__(
        self,
        assistant: Assistant,
        settings: SlackSettings,
        client: WebClient | None = None,
        workers: int = WORKERS,
    ) -> None:
        self.assistant = assistant
        self.client = client or web_client(settings)
        self.channel = SlackChannel(self.client)
        self.people = SlackPeople(self.client)
        self.recent = RecentKeys()
        self.app = App(
            client=self.client,  # carries the bot token
            signing_secret=settings.signing_secret or "",
            request_verification_enabled=not settings.socket_mode,
            listener_executor=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-turn"),
            logger=logging.getLogger("slack_bolt"),
        )
        self.app.event("message")(self.on_message)
        self.app.event("app_mention")(self.on_mention)
        self.app.command("/crm")(ack=self.acknowledge, lazy=[self.on_command])
        self.app.action(re.compile(f"^{ACTION_PREFIX}"))(ack=self.acknowledge, lazy=[self.on_button])
        self.app.error(self.on_error)

    # --- listeners ------------------------------------------------------------------------------------

    def on_message(self, event: dict[str, Any], context: dict[str, Any], request: BoltRequest) -> None:
        """A direct message to the app; channel messages reach it only as mentions."""
        if event.get("channel_type") != "im" or event.get("subtype") not in HANDLED_SUBTYPES:
            return
        user, channel, text = _text(event, "user"), _text(event, "channel"), event.get("text") or ""
        if event.get("bot_id") or user is None or channel is None or not isinstance(text, str):
            return
        self._note_retry(request)
        where = Where(channel=channel, thread_ts=_text(event, "thread_ts"))
        self._answer(user, text, _message_id(event), where, context)

    def on_mention(self, event: dict[str, Any], context: dict[str, Any], request: BoltRequest) -> None:
        """@crm in a channel: answered in a thread under the message."""
        user, channel, text = _text(event, "user"), _text(event, "channel"), event.get("text") or ""
        thread = _text(event, "thread_ts") or _text(event, "ts")
        if user is None or channel is None or thread is None or not isinstance(text, str):
            return  # not a message a person wrote (or not one this app can read)
        if channel.startswith("D") or event.get("bot_id"):
            return  # a mention inside a DM is also a DM message, answered there
        self._note_retry(request)
        self._answer(user, text, _message_id(event), Where(channel=channel, thread_ts=thread), context)

    @staticmethod
    def acknowledge(ack: Callable[..., Any]) -> None:
        ack()

    def on_command(
        self, command: dict[str, Any], respond: Callable[..., Any], context: dict[str, Any]
    ) -> None:
        """/crm <words>: answered privately (ephemeral), since a channel may hold people outside sales."""
        user, text = _text(command, "user_id"), command.get("text") or ""
        if user is None or not isinstance(text, str):
            return
        key = f"command:{command.get('trigger_id')}" if command.get("trigger_id") else None
        self._answer(user, text.strip() or "help", key, Where(respond=respond), context)

    def on_button(
        self,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Callable[..., Any],
        context: dict[str, Any],
    ) -> None:
        """A button sends its value as the person's next turn; only the person it was offered to may press."""
        user, value = _text(body.get("user"), "id"), action.get("value") or ""
        block, label = action.get("block_id") or "", (action.get("text") or {}).get("text") or value
        if (
            user is None
            or not isinstance(value, str)
            or not isinstance(block, str)
            or not isinstance(label, str)
        ):
            return
        owner = button_owner(block)
        if owner is not None and owner != user:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=say("slack_not_your_button", owner=owner),
            )
            return
        message, channel = body.get("message"), _text(body.get("channel"), "id")
        if isinstance(message, dict) and channel and not (body.get("container") or {}).get("is_ephemeral"):
            try:
                self.client.chat_update(
                    channel=channel,
                    ts=message["ts"],
                    text=message.get("text", ""),
                    blocks=answered_blocks(message.get("blocks") or [], user, label),
                )
            except SlackApiError as error:
                log.warning("could not take the buttons off a message: %s", error.response.get("error"))
            where = Where(channel=channel, thread_ts=message.get("thread_ts"))
        else:
            where = Where(respond=respond)
        key = f"action:{action.get('action_ts') or body.get('trigger_id')}"
        self._answer(user, value, key, where, context)

    @staticmethod
    def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("a Slack request failed (%s): %s", body.get("type"), error, exc_info=error)

    # --- one turn -------------------------------------------------------------------------------------

    def _answer(
        self, user: str, text: str, key: str | None, where: Where, context: dict[str, Any]
    ) -> Reply | None:
        if key is not None and not self.recent.add(key):
            log.info("dropped a repeat of %s", key)
            return None
        if len(text) > MAX_RAW_CHARS:
            self._send(Reply(say("message_too_long", limit=MAX_MESSAGE_CHARS), intent=REFUSED), where, user)
            return None
        typed = unformat(text, context.get("bot_user_id"), self.people.name)
        person = self.people.person(user)
        message = Message(
            CHANNEL, user, typed, message_id=key, sender_email=person.email, sender_timezone=person.timezone
        )
        reply = self.assistant.handle(message)
        if reply.duplicate:
            log.info("dropped a repeat of %s (answered by another worker)", key)
            return None
        self._send(reply, where, user)
        return reply

    def _send(self, reply: Reply, where: Where, user: str) -> None:
        """Posts the reply where the request came from; a chart follows as an image, except in a private
        (ephemeral) answer, which cannot carry a file."""
        try:
            if where.respond is not None:
                where.respond(response_type="ephemeral", replace_original=False, **render(reply, owner=user))
            elif where.channel is not None:
                self.channel.post(reply, where.channel, where.thread_ts, owner=user)
        except SlackApiError as error:
            log.error("could not post a reply: %s", error.response.get("error"))
        except (
            Exception
        ):  # a response URL or an upload that failed: the turn is done, only the answer is lost
            log.exception("could not post a reply")

    @staticmethod
    def _note_retry(request: BoltRequest) -> None:
        retry = request.headers.get("x-slack-retry-num")
        if retry:
            reason = request.headers.get("x-slack-retry-reason", ["?"])[0]
            log.info("Slack retry #%s (%s)", retry[0], reason)


def web_client(settings: SlackSettings) -> WebClient:
    """The Web API client: on a 429 it waits as long as Slack's Retry-After says and tries again (twice)."""
    client = WebClient(token=settings.bot_token, base_url=settings.api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return client


def _text(payload: object, key: str) -> str | None:
    """A non-empty string field of a payload; None when the payload or the field is anything else."""
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, str) and value else None


def _message_id(event: dict[str, Any]) -> str:
    """The same message arrives as an event and its retries (and as message + app_mention): one key."""
    return f"{event.get('channel')}:{event.get('ts')}"
