"""Telegram's output side for the outbox: reminders, digests and alerts to a linked person's chat.

A person's private chat with the bot has their Telegram user id, so the outbox's recipient (the
`telegram` identity's external id) is the chat to send to. The send is a network call made on the
bot's event loop. The outbox's key is kept: a row this process sent whose "sent" mark then failed is
recognised when the outbox tries it again, and not sent twice. A send that failed is forgotten, so
that its retry goes out (at-least-once, as assistant/channels.py says of network channels).

Unlike Slack's, this channel cannot make a repeat after a crash exactly-once: the Bot API gives a bot
no way to read a chat's history (there is no getHistory; a bot sees only updates sent to it, and its
own messages never come back as updates), so a process killed between Telegram's answer and the
outbox's "sent" mark cannot find out whether the message went out, and the row is sent again after
its lease. The in-process `sent` keys only cover a mark that failed while the process lived on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram.error import TelegramError

from adapters.channel import OutputChannel
from adapters.recent import RecentKeys
from adapters.telegram.bot import TelegramBot
from assistant.channels import ChannelError, Outgoing
from assistant.messages import Reply


@dataclass
class TelegramChannel(OutputChannel):
    bot: TelegramBot
    name: str = "telegram"
    identity: str | None = "telegram"
    sent: RecentKeys = field(default_factory=RecentKeys)

    def send(self, message: Outgoing) -> None:
        if not self.sent.add(message.key):
            return  # this process sent it already: the outbox retried a row whose mark failed
        try:
            self.send_reply(message.recipient, message.reply, message.key)
        except BaseException:
            self.sent.discard(message.key)
            raise

    def send_reply(self, recipient: str, reply: Reply, key: str | None = None) -> None:
        if not recipient.lstrip("-").isdigit():
            raise ChannelError(f"not a Telegram chat id: {recipient!r}")
        try:
            self.bot.call(self.bot.deliver(int(recipient), reply))
        except TelegramError as error:
            raise ChannelError(f"Telegram refused the message: {error}") from error

    def send_text(self, recipient: str, text: str, key: str | None = None) -> None:
        self.send_reply(recipient, Reply(text), key)
