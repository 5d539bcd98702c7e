"""A neutral `Reply` as the widget's JSON: text (the table below it, aligned, shown monospaced) and real
buttons that send their value. The parts come from the shared text rendering (adapters/channel.py); the
widget puts every string in with `textContent`, so nothing here escapes HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from adapters.channel import OutputChannel
from adapters.rendering import clean
from assistant.channels import ChannelError
from assistant.messages import Button, Reply

HANDED_OFF = "handed_off"  # the intent of the bot's silence while a person handles the conversation


def quiet(reply: Reply) -> bool:
    """Nothing to show: a person handles the conversation, or a retry of a message already answered."""
    return reply.duplicate or (reply.intent == HANDED_OFF and not reply.plain.strip())


class WebChannel(OutputChannel):
    """The web chat's output side. `frame` is what the server sends for one reply; `send_reply` pushes
    one to a connected visitor through `push` (the server's), and raises when they are not connected."""

    name = "web"
    identity = "web"

    def __init__(self, push: Callable[[str, dict[str, Any]], bool] | None = None) -> None:
        self._push = push

    def frame(self, reply: Reply, who: str = "assistant") -> dict[str, Any]:
        table = self.render_table(reply.table) if reply.table is not None and reply.table.columns else None
        return {
            "who": who,
            "text": self.render_text(reply),
            "table": table,
            "buttons": self.buttons(reply.buttons),
        }

    def buttons(self, buttons: Sequence[Button]) -> list[dict[str, str]]:
        return [
            {"label": clean(b.label).replace("\n", " "), "value": b.value, "kind": b.kind}
            for b in buttons
            if b.value.strip()
        ]

    def frames(self, replies: Sequence[Reply], who: str = "assistant") -> list[dict[str, Any]]:
        return [self.frame(r, who) for r in replies if not quiet(r)]

    def send_reply(self, recipient: str, reply: Reply, key: str | None = None) -> None:
        if quiet(reply):
            return
        if self._push is None or not self._push(recipient, {"type": "news", "replies": [self.frame(reply)]}):
            raise ChannelError(f"web visitor {recipient} is not connected")

    def send_text(self, recipient: str, text: str, key: str | None = None) -> None:
        self.send_reply(recipient, Reply(text), key)
