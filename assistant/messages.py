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
    sender_is_email: bool = (
        False  # the sender id is a staff e-mail the operator vouches for (terminal, voice)
    )
    spoken: bool = False  # heard, not typed: every write is read back and waits for "yes" first


@dataclass(frozen=True)
class Button:
    label: str
    value: str  # the text this button sends as the next turn ("yes", "undo", "2", ...)
    kind: str = "choose"  # confirm, cancel, undo, choose, done, snooze

    def to_json(self) -> dict[str, str]:
        return {"label": self.label, "value": self.value, "kind": self.kind}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Button:
        return cls(data["label"], data["value"], data.get("kind", "choose"))


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()  # which columns to right-align
    total: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "rows": [list(r) for r in self.rows],
            "numeric": list(self.numeric),
            "total": list(self.total) if self.total else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Table:
        return cls(
            tuple(data["columns"]),
            tuple(tuple(r) for r in data["rows"]),
            tuple(data.get("numeric") or ()),
            tuple(data["total"]) if data.get("total") else None,
        )


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
        """The one serialisation of a reply: what the outbox keeps for a channel to render later, in
        another process, and what `crm chat --jsonl` shows of buttons and tables."""
        return {
            "text": self.text,
            "plain": self.plain,
            "speech": self.speech,
            "buttons": [b.to_json() for b in self.buttons],
            "table": self.table.to_json() if self.table else None,
            "chart": self.chart.to_json() if self.chart else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reply:
        return cls(
            data["text"],
            plain=data.get("plain", ""),
            speech=data.get("speech", ""),
            buttons=[Button.from_json(b) for b in data.get("buttons", [])],
            table=Table.from_json(data["table"]) if data.get("table") else None,
            chart=Chart.from_json(data["chart"]) if data.get("chart") else None,
        )


def combined(replies: list[Reply]) -> Reply:
    """Several requests' replies as one: each said in order, one undo for them all, the last question's
    buttons."""
    if len(replies) == 1:
        return replies[0]
    buttons: list[Button] = []
    for reply in replies:
        buttons += [b for b in reply.buttons if b.kind != "undo" or all(x.kind != "undo" for x in buttons)]
    return Reply(
        "\n".join(r.text for r in replies if r.text),
        plain="\n".join(r.plain for r in replies if r.plain),
        speech=" ".join(r.speech for r in replies if r.speech),
        buttons=buttons,
        table=next((r.table for r in replies if r.table), None),
        intent=replies[0].intent,
        slots=replies[0].slots,
    )
