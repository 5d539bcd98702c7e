"""A channel that keeps what it is sent (errbot's `TestBackend`, Rasa's `CollectingOutputChannel`).

Every adapter's tests can use it: as the outbox's channel (reminders land in `sent`, with their keys),
or as the output side of a conversation driven by hand. It is also the smallest complete channel, the
one to copy: a name, an identity, a transport; its text comes from the shared fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.channel import OutputChannel
from assistant.messages import Reply


@dataclass(frozen=True)
class Collected:
    recipient: str
    reply: Reply
    text: str  # as a text-only platform would show it
    key: str | None = None  # the outbox delivery's key, None for the answer to a message


@dataclass
class CollectingChannel(OutputChannel):
    name: str = "collecting"
    identity: str | None = "collecting"  # users are reached here by a ChannelIdentity of this name
    sent: list[Collected] = field(default_factory=list)

    def send_reply(self, recipient: str, reply: Reply, key: str | None = None) -> None:
        self.sent.append(Collected(recipient, reply, self.render(reply), key))

    def send_text(self, recipient: str, text: str, key: str | None = None) -> None:
        self.send_reply(recipient, Reply(text), key)

    def texts(self, recipient: str | None = None) -> list[str]:
        return [c.text for c in self.sent if recipient is None or c.recipient == recipient]
