"""The platform-neutral message and reply every channel speaks (shared/spec/architecture.md).

Adapters turn a platform event into a `Message` and render a `Reply` their own way: Block Kit, an
inline keyboard, a terminal table, speech. Nothing here knows any platform.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DUPLICATE = "duplicate"  # the intent of the reply to a message that was handled before


@dataclass(frozen=True)
class Message:
    channel: str  # terminal, slack, telegram, voice, web
    sender: str  # the sender's identity on that channel: an e-mail at the terminal, a Slack user id, ...
    text: str
    message_id: str | None = None  # for de-duplication of platform retries
    customer: bool = False  # the support chatbot: the sender is a customer, never staff
    sender_email: str | None = None  # the e-mail the platform vouches for (Slack's users.info), if any
    sender_timezone: str | None = None  # the IANA zone the platform knows the sender by, if any


@dataclass(frozen=True)
class Button:
    label: str
    value: str  # the text this button sends as the next turn ("yes", "undo", "2", ...)
    kind: str = "choose"  # confirm, cancel, undo, choose, done, snooze


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()  # which columns to right-align
    total: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Chart:
    """A bar chart of one figure per label (pipeline by stage, by rep...); the values as people read them
    ride along, so a channel draws it without knowing money formats."""

    title: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    value_labels: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "labels": list(self.labels),
            "values": list(self.values),
            "value_labels": list(self.value_labels),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chart:
        return cls(
            data["title"],
            tuple(data["labels"]),
            tuple(float(v) for v in data["values"]),
            tuple(data.get("value_labels") or ()),
        )


@dataclass
class Reply:
    """What the assistant says: text (light markdown: *bold*), a plain fallback, a speakable form."""

    text: str
    plain: str = ""
    speech: str = ""
    buttons: list[Button] = field(default_factory=list)
    table: Table | None = None
    chart: Chart | None = None
    intent: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)

    @property
    def duplicate(self) -> bool:
        """A platform's retry of a message already answered: the adapter sends nothing."""
        return self.intent == DUPLICATE

    def __post_init__(self) -> None:
        if not self.plain:
            self.plain = self.text.replace("*", "")
        if not self.speech:
            self.speech = self.plain.split("\n")[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.plain,
            "buttons": [{"label": b.label, "value": b.value, "kind": b.kind} for b in self.buttons],
            "table": (
                {
                    "columns": list(self.table.columns),
                    "rows": [list(r) for r in self.table.rows],
                    "total": list(self.table.total) if self.table.total else None,
                }
                if self.table
                else None
            ),
            "chart": self.chart.to_json() if self.chart else None,
            "speech": self.speech,
        }
