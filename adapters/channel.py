"""The outgoing side of every channel (Rasa's `OutputChannel`, errbot's backends).

A platform's adapter package has two sides: its input side turns platform events into `Message`s for
`Assistant.handle`; its output side, a subclass of `OutputChannel`, shows the neutral `Reply` that comes
back. A subclass implements one transport method, `send_text`, and overrides only the parts its
platform shows richly (the text's markup, tables, buttons, charts); every other part falls back to the
plain text below, the one place that text fallback lives. A platform whose messages are not text
(Slack's blocks) overrides `send_reply` whole.

The same object is the channel the outbox sends reminders on (assistant/channels.py `Channel`): `send`
takes no database session; exactly-once delivery into the store stays inside assistant/.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from adapters.rendering import button_hint, clean, text_table
from assistant.channels import Outgoing
from assistant.messages import Button, Chart, Reply, Table


class OutputChannel(ABC):
    name: str = ""
    identity: str | None = None  # the ChannelIdentity.channel that addresses users here; None: e-mail

    def send(self, message: Outgoing) -> None:
        """The outbox's call: a reminder, digest or alert to one recipient. Raises to be tried again."""
        self.send_reply(message.recipient, message.reply, message.key)

    def send_reply(self, recipient: str, reply: Reply, key: str | None = None) -> None:
        """Shows one reply to `recipient`; `key` names an outbox delivery, for the platform to drop a
        repeat (None for the answer to a message)."""
        self.send_text(recipient, self.render(reply), key)

    @abstractmethod
    def send_text(self, recipient: str, text: str, key: str | None = None) -> None:
        """The transport: one text message to one recipient."""

    # rendering, part by part: a platform overrides what it shows richly --------------------------------

    def render(self, reply: Reply) -> str:
        parts = [self.render_text(reply)]
        if reply.table is not None and reply.table.columns:
            parts.append(self.render_table(reply.table))
        if reply.chart is not None:
            parts.append(self.render_chart(reply.chart))
        if reply.buttons:
            parts.append(self.render_buttons(reply.buttons))
        return "\n".join(p for p in parts if p)

    def render_text(self, reply: Reply) -> str:
        return clean(reply.plain)

    def render_table(self, table: Table) -> str:
        return "\n".join(text_table(table))

    def render_chart(self, chart: Chart) -> str:
        """Nothing in text: a chart always comes with a table of the same figures."""
        return ""

    def render_buttons(self, buttons: Sequence[Button]) -> str:
        """The keys to type ("[1] Yes  [2] No  [undo]"): a text channel's input side resolves them
        with `adapters.rendering.resolve_button`."""
        return button_hint(buttons)
