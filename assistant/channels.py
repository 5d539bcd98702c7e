"""Outgoing channels: how a `Reply` the assistant sends on its own reaches a user.

A channel registers how it sends; the outbox (assistant/outbox.py) calls it for each row it claimed.
Two kinds of channel give two guarantees:

- A *transactional* channel writes its delivery into the store, in the same transaction that marks the
  outbox row sent: the delivery and the "sent" mark commit together or not at all, so each row is
  delivered exactly once. The terminal's inbox and the recording test channel are of this kind.
- Any other channel (Slack, Telegram: a network call) is sent first and marked after, so a worker that
  dies in between lets another worker send again once its lease ran out: at-least-once. Such a channel
  must pass `Outgoing.key` along (a Slack `client_msg_id`, a header, its own sent-keys table) so that the
  platform or the channel drops the repeat.

Routing: a user is reached on the first registered channel, in order of registration, for which they
have a chat identity (`ChannelIdentity`), else on the registry's fallback channel by e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.messages import Button, Chart, Reply, Table
from storage.coltypes import utcnow
from storage.models import ChannelIdentity, Delivery, User


class ChannelError(Exception):
    """A send that failed and should be tried again later (the outbox retries it with backoff)."""


@dataclass(frozen=True)
class Outgoing:
    """One outbox row on its way out: who gets which reply, and the key that makes a repeat detectable."""

    outbox_id: int
    key: str
    kind: str
    channel: str
    recipient: str
    user_id: int | None
    reply: Reply
    worker: str = ""


class Channel(Protocol):
    name: str
    transactional: bool  # sends by writing into `session` (exactly once), else over the network
    identity: str | None  # the ChannelIdentity.channel that addresses users here; None: their e-mail

    def send(self, message: Outgoing, session: Session | None) -> None:
        """Delivers or raises (ChannelError or anything else: the outbox retries it later)."""
        ...


# --- replies as outbox payloads -----------------------------------------------------------------------


def reply_to_payload(reply: Reply) -> dict[str, Any]:
    """Everything a channel needs to render the reply later, in another process, as JSON."""
    return {
        "text": reply.text,
        "plain": reply.plain,
        "speech": reply.speech,
        "buttons": [{"label": b.label, "value": b.value, "kind": b.kind} for b in reply.buttons],
        "table": (
            {
                "columns": list(reply.table.columns),
                "rows": [list(r) for r in reply.table.rows],
                "numeric": list(reply.table.numeric),
                "total": list(reply.table.total) if reply.table.total else None,
            }
            if reply.table
            else None
        ),
        "chart": reply.chart.to_json() if reply.chart else None,
    }


def reply_from_payload(data: dict[str, Any]) -> Reply:
    table = data.get("table")
    return Reply(
        data["text"],
        plain=data.get("plain", ""),
        speech=data.get("speech", ""),
        buttons=[Button(b["label"], b["value"], b.get("kind", "choose")) for b in data.get("buttons", [])],
        table=(
            Table(
                tuple(table["columns"]),
                tuple(tuple(r) for r in table["rows"]),
                tuple(table.get("numeric") or ()),
                tuple(table["total"]) if table.get("total") else None,
            )
            if table
            else None
        ),
        chart=Chart.from_json(data["chart"]) if data.get("chart") else None,
    )


def plain_text(reply: Reply) -> str:
    """The reply as plain lines (a table as 'a | b | c' rows): what a text-only channel shows."""
    lines = [reply.plain]
    if reply.table is not None:
        lines.append(" | ".join(reply.table.columns))
        lines += [" | ".join(row) for row in reply.table.rows]
        if reply.table.total:
            lines.append(" | ".join(reply.table.total))
    if reply.buttons:
        lines.append("  ".join(f"[{b.label}]" for b in reply.buttons))
    return "\n".join(lines)


# --- channels that deliver into the store ---------------------------------------------------------------


@dataclass
class StoreChannel:
    """Delivers by writing a `Delivery` row in the outbox's own transaction: exactly once."""

    name: str
    transactional: bool = True
    identity: str | None = None

    def send(self, message: Outgoing, session: Session | None) -> None:
        assert session is not None, "a store channel sends inside the outbox transaction"
        session.add(
            Delivery(
                outbox_id=message.outbox_id,
                idempotency_key=message.key,
                channel=self.name,
                recipient=message.recipient,
                user_id=message.user_id,
                text=plain_text(message.reply),
                payload=reply_to_payload(message.reply),
                worker=message.worker or None,
                delivered_at=utcnow(),
            )
        )


def terminal_channel() -> StoreChannel:
    """The terminal chat is not always open, so its reminders wait in an inbox it shows when it opens
    (see `take_inbox`)."""
    return StoreChannel("terminal")


def recording_channel(name: str = "recording") -> StoreChannel:
    """For tests and benchmarks: every delivery is a row in `deliveries`, countable per outbox key."""
    return StoreChannel(name)


def take_inbox(session: Session, recipient: str, channel: str = "terminal") -> list[Reply]:
    """What the terminal chat shows when it opens: the deliveries not yet seen, oldest first, marked seen."""
    rows = session.scalars(
        select(Delivery)
        .where(Delivery.channel == channel, Delivery.recipient == recipient, Delivery.seen_at.is_(None))
        .order_by(Delivery.id)
    ).all()
    if rows:
        session.execute(
            update(Delivery).where(Delivery.id.in_([r.id for r in rows])).values(seen_at=utcnow())
        )
    return [reply_from_payload(r.payload) for r in rows]


# --- the registry ---------------------------------------------------------------------------------------


@dataclass
class Registry:
    """The channels this process can send on, and how a user is routed to one of them."""

    fallback: str = "terminal"
    _channels: dict[str, Channel] = field(default_factory=dict)

    def register(self, channel: Channel) -> None:
        self._channels[channel.name] = channel

    def get(self, name: str) -> Channel | None:
        return self._channels.get(name)

    def names(self) -> list[str]:
        return list(self._channels)

    def route(self, user: User, identities: Iterable[ChannelIdentity]) -> tuple[str, str]:
        """(channel, recipient): the first registered channel the user has an identity on, else the
        fallback channel addressed by e-mail."""
        known = {i.channel: i.external_id for i in identities}
        for channel in self._channels.values():
            if channel.identity and channel.identity in known:
                return channel.name, known[channel.identity]
        return self.fallback, user.email

    def routes(self, session: Session, users: Iterable[User]) -> dict[int, tuple[str, str]]:
        """Routes for many users with one query for their identities."""
        users = list(users)
        identities: dict[int, list[ChannelIdentity]] = {}
        if any(c.identity for c in self._channels.values()) and users:
            for identity in session.scalars(
                select(ChannelIdentity).where(ChannelIdentity.user_id.in_([u.id for u in users]))
            ):
                identities.setdefault(identity.user_id or 0, []).append(identity)
        return {u.id: self.route(u, identities.get(u.id, [])) for u in users}


def default_registry() -> Registry:
    """What `crm reminders run` and `crm serve` send on until platform channels register themselves."""
    registry = Registry()
    registry.register(terminal_channel())
    return registry


def recording_registry(name: str = "recording") -> Registry:
    """Every user routed to the recording channel: what tests and the benchmark use."""
    registry = Registry(fallback=name)
    registry.register(recording_channel(name))
    return registry
