"""Outgoing channels: how a `Reply` the assistant sends on its own reaches a user.

A channel registers how it sends; the outbox (assistant/outbox.py) calls it for each row it claimed.
Two kinds of channel give two guarantees:

- A `StoreChannel` writes its delivery into the store, in the same transaction that marks the outbox
  row sent: the delivery and the "sent" mark commit together or not at all, so each row is delivered
  exactly once. The terminal's inbox and the recording test channel are of this kind.
- A `Channel` (Slack, Telegram: a network call, an adapter's) is sent first and marked after, with no
  database session, so a worker that dies in between lets another worker send again once its lease ran
  out: at-least-once. Such a channel passes `Outgoing.key` along (message metadata, a header, its own
  sent-keys table) so that the platform or the channel drops the repeat. A channel that can read the
  conversation back (Slack) makes it effectively exactly-once: a row claimed again (`attempts` > 1)
  is looked for in the conversation since `created_at`, and marked sent instead of sent twice.

Routing: a user is reached on the first registered channel, in order of registration, for which they
have a chat identity (`ChannelIdentity`), else on the registry's fallback channel by e-mail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.messages import Reply
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
    attempts: int = 1  # this is the n-th claim of the row: above 1, an earlier send may have gone out
    created_at: datetime | None = None  # when the row was enqueued: no send of it can be older
    data: dict[str, Any] = field(default_factory=dict)  # the row's whole payload (an inbound message's)


class Channel(Protocol):
    """A platform's outgoing side, as the outbox sees it: a network send that needs no database session
    (adapters/channel.py has the base every adapter's channel derives from)."""

    @property
    def name(self) -> str: ...

    @property
    def identity(self) -> str | None:
        """The ChannelIdentity.channel that addresses users here; None: their e-mail."""
        ...

    def send(self, message: Outgoing) -> None:
        """Delivers or raises (ChannelError or anything else: the outbox retries it later)."""
        ...


# --- channels that deliver into the store ---------------------------------------------------------------


@dataclass
class StoreChannel:
    """Delivers by writing a `Delivery` row in the outbox's own transaction: exactly once. The only
    channels that touch the store, so they live here and not in adapters/."""

    name: str
    identity: str | None = None

    def deliver(self, message: Outgoing, session: Session) -> None:
        session.add(
            Delivery(
                outbox_id=message.outbox_id,
                idempotency_key=message.key,
                channel=self.name,
                recipient=message.recipient,
                user_id=message.user_id,
                text=message.reply.plain,
                payload=message.reply.to_json(),
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
    return [Reply.from_json(r.payload) for r in rows]


# --- the registry ---------------------------------------------------------------------------------------


@dataclass
class Registry:
    """The channels this process can send on, and how a user is routed to one of them."""

    fallback: str = "terminal"
    _channels: dict[str, Channel | StoreChannel] = field(default_factory=dict)

    def register(self, channel: Channel | StoreChannel) -> None:
        self._channels[channel.name] = channel

    def get(self, name: str) -> Channel | StoreChannel | None:
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
