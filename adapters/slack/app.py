"""slack-bolt listeners -> one assistant turn each -> a Block Kit reply.

Every request is acknowledged before the turn runs: events are acknowledged by Bolt itself and handled
on its thread pool; the slash command and the buttons acknowledge in `ack` and run the turn in a lazy
listener. A retried event (Slack retries when it saw no acknowledgement in 3 s) carries the same
channel and timestamp, which is the message id the assistant remembers per conversation, so it is
answered once even when the retry reaches another process; a per-process list drops it sooner.

Slack never sends an acknowledged event again, so a message (a DM, a mention) is written into the inbox
(assistant/inbox.py) by a listener middleware, before Bolt acknowledges it; if the store cannot take
it, it is not acknowledged and Slack retries. A process killed after the acknowledgement leaves the
inbox row pending, and `InboundRecovery` (the outbox channel "slack-inbound") finishes it on any
process: runs the turn if none was applied, and posts the reply unless the conversation shows it (each
answer carries the message id as metadata). So each message gets exactly one reply.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltRequest
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from adapters.recent import RecentKeys
from adapters.slack.blocks import ACTION_PREFIX, answered_blocks, button_owner, render
from adapters.slack.channel import REPLY_EVENT, SlackChannel
from adapters.slack.keepalive import KeepAliveWebClient
from adapters.slack.people import SlackPeople
from adapters.slack.settings import SlackSettings
from adapters.slack.text import unformat
from assistant import inbox
from assistant.channels import Outgoing
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


class _TokenFromClient(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN goes unused when it is given a client: ours carries that token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


BOLT_LOG = logging.getLogger("slack_bolt")
BOLT_LOG.addFilter(_TokenFromClient())


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
        self.inbox = inbox.Inbox(assistant.runtime, CHANNEL)
        self.turns = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack-turn")
        self.app = App(
            client=self.client,  # carries the bot token
            signing_secret=settings.signing_secret or "",
            request_verification_enabled=not settings.socket_mode,
            listener_executor=self.turns,
            logger=BOLT_LOG,
        )
        self.app.event("message", middleware=[self.receive])(self.on_message)
        self.app.event("app_mention", middleware=[self.receive])(self.on_mention)
        self.app.command("/crm")(ack=self.acknowledge, lazy=[self.on_command])
        self.app.action(re.compile(f"^{ACTION_PREFIX}"))(ack=self.acknowledge, lazy=[self.on_button])
        self.app.error(self.on_error)

    def close(self) -> None:
        """Once no new request comes: the turns under way finish, those still queued are left to the
        inbox's recovery (their rows are pending), and the "done" marks waiting are written."""
        self.turns.shutdown(wait=True, cancel_futures=True)
        self.inbox.flush()

    # --- listeners ------------------------------------------------------------------------------------

    def receive(self, event: dict[str, Any], context: dict[str, Any], next: Callable[[], None]) -> None:
        """Before the acknowledgement: a message this app answers is written into the inbox (with the
        app's own user id, which a recovered turn needs to read "<@bot> ..."). If the store cannot take
        it the listener is not run, Slack gets no 200 and sends the event again."""
        asked = _asked(event)
        if asked is not None:
            bot = context.get("bot_user_id")
            try:
                self.inbox.receive(
                    _message_id(event), {**asked, "bot": bot} if isinstance(bot, str) else asked
                )
            except Exception:
                log.exception("could not record a Slack message; Slack will send it again")
                return
        next()

    def on_message(self, event: dict[str, Any], context: dict[str, Any], request: BoltRequest) -> None:
        """A direct message to the app; channel messages reach it only as mentions."""
        asked = _asked(event)
        if asked is None or event.get("type") != "message":
            return
        self._note_retry(request)
        where = Where(channel=asked["channel"], thread_ts=asked.get("thread_ts"))
        self._answer(asked["user"], asked["text"], _message_id(event), where, context, inbound=True)

    def on_mention(self, event: dict[str, Any], context: dict[str, Any], request: BoltRequest) -> None:
        """@crm in a channel: answered in a thread under the message."""
        asked = _asked(event)
        if asked is None or event.get("type") != "app_mention":
            return  # not a message a person wrote (or not one this app can read)
        self._note_retry(request)
        where = Where(channel=asked["channel"], thread_ts=asked.get("thread_ts"))
        self._answer(asked["user"], asked["text"], _message_id(event), where, context, inbound=True)

    def recover(self, message: Outgoing) -> None:
        """An inbox row whose process died before its reply was out (the outbox hands it over once due):
        the turn runs unless it was applied, and its reply is posted unless the conversation shows it.
        Raises when Slack refuses, so that the outbox tries again later."""
        asked = message.data.get("message") or {}
        user, channel, text = asked.get("user"), asked.get("channel"), asked.get("text")
        message_id = message.key.removeprefix(f"{inbox.KIND}:{CHANNEL}:")
        if not isinstance(user, str) or not isinstance(channel, str) or not isinstance(text, str):
            log.warning("dropped an inbox row with no message in it: %s", message.key)
            return
        runtime = self.assistant.runtime
        reply = inbox.stored_reply(runtime, CHANNEL, message_id)
        thread_ts = asked.get("thread_ts") if isinstance(asked.get("thread_ts"), str) else None
        if reply is None:
            log.info("running the turn of %s, whose process died before it was applied", message_id)
            reply = self._turn(user, text, message_id, {"bot_user_id": asked.get("bot")})
            if reply.duplicate:  # another process applied it meanwhile
                reply = inbox.stored_reply(runtime, CHANNEL, message_id)
        if reply is None or reply.duplicate:
            return
        if self.channel.in_history(channel, REPLY_EVENT, message_id, message.created_at, thread_ts):
            log.info("%s was answered before its process died: not answered again", message_id)
            return
        self.channel.post(reply, channel, thread_ts, owner=user, metadata=_reply_metadata(message_id))

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
        self,
        user: str,
        text: str,
        key: str | None,
        where: Where,
        context: dict[str, Any],
        inbound: bool = False,
    ) -> Reply | None:
        """One turn and its reply; `inbound`: the message has an inbox row, settled once the reply is out."""
        if key is not None and not self.recent.add(key):
            log.info("dropped a repeat of %s", key)
            return None
        reply = self._turn(user, text, key, context)
        if reply.duplicate:
            log.info("dropped a repeat of %s (answered by another worker)", key)
            return None
        posted = self._send(reply, where, user, key if inbound else None)
        if inbound and key is not None and posted:  # unposted, the row stays for recovery to post it
            self.inbox.done(key)
        return reply

    def _turn(self, user: str, text: str, key: str | None, context: dict[str, Any]) -> Reply:
        if len(text) > MAX_RAW_CHARS:
            return Reply(say("message_too_long", limit=MAX_MESSAGE_CHARS), intent=REFUSED)
        typed = unformat(text, context.get("bot_user_id"), self.people.name)
        person = self.people.person(user)
        message = Message(
            CHANNEL, user, typed, message_id=key, sender_email=person.email, sender_timezone=person.timezone
        )
        return self.assistant.handle(message)

    def _send(self, reply: Reply, where: Where, user: str, key: str | None = None) -> bool:
        """Posts the reply where the request came from (with the message id `key` as metadata); a chart
        follows as an image, except in a private (ephemeral) answer, which cannot carry a file. False
        when it could not be posted: the turn is done, the answer is not out."""
        extra = {"metadata": _reply_metadata(key)} if key else {}
        try:
            if where.respond is not None:
                where.respond(response_type="ephemeral", replace_original=False, **render(reply, owner=user))
            elif where.channel is not None:
                self.channel.post(reply, where.channel, where.thread_ts, owner=user, **extra)
        except SlackApiError as error:
            log.error("could not post a reply: %s", error.response.get("error"))
            return False
        except Exception:  # a response URL or an upload that failed
            log.exception("could not post a reply")
            return False
        return True

    @staticmethod
    def _note_retry(request: BoltRequest) -> None:
        retry = request.headers.get("x-slack-retry-num")
        if retry and retry[0] != "0":  # Socket Mode marks a first delivery retry_attempt 0
            reason = request.headers.get("x-slack-retry-reason", ["?"])[0]
            log.info("Slack retry #%s (%s)", retry[0], reason)


def web_client(settings: SlackSettings) -> WebClient:
    """The Web API client, over kept-alive connections: on a 429 it waits as long as Slack's Retry-After
    says and tries again (twice)."""
    client = KeepAliveWebClient(token=settings.bot_token, base_url=settings.api_url)
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    return client


def _text(payload: object, key: str) -> str | None:
    """A non-empty string field of a payload; None when the payload or the field is anything else."""
    value = payload.get(key) if isinstance(payload, dict) else None
    return value if isinstance(value, str) and value else None


def _asked(event: dict[str, Any]) -> dict[str, str] | None:
    """What a person asked the app in a DM message or a channel mention event: user, channel, text and
    the thread the answer goes to; None for any other event (a bot's, an edit, a mention in a DM)."""
    user, channel, text = _text(event, "user"), _text(event, "channel"), event.get("text") or ""
    if event.get("bot_id") or user is None or channel is None or not isinstance(text, str):
        return None
    if event.get("type") == "message":
        if event.get("channel_type") != "im" or event.get("subtype") not in HANDLED_SUBTYPES:
            return None
        thread = _text(event, "thread_ts")
    elif event.get("type") == "app_mention":
        thread = _text(event, "thread_ts") or _text(event, "ts")
        if thread is None or channel.startswith("D"):
            return None  # a mention inside a DM is also a DM message, answered there
    else:
        return None
    asked = {"user": user, "channel": channel, "text": text}
    if thread:
        asked["thread_ts"] = thread
    return asked


def _reply_metadata(message_id: str) -> dict[str, Any]:
    return {"event_type": REPLY_EVENT, "event_payload": {"key": message_id}}


@dataclass
class InboundRecovery:
    """The outbox channel "slack-inbound": hands the inbox rows of messages whose process died to
    `SlackBot.recover` (registered by `crm serve --slack`)."""

    bot: SlackBot
    name: str = inbox.channel_of(CHANNEL)
    identity: str | None = None

    def send(self, message: Outgoing) -> None:
        self.bot.recover(message)


def _message_id(event: dict[str, Any]) -> str:
    """The same message arrives as an event and its retries (and as message + app_mention): one key."""
    return f"{event.get('channel')}:{event.get('ts')}"
