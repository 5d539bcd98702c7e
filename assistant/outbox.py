"""The outbox: what the assistant sends on its own, delivered by whichever worker claims it.

A due item becomes an `OutboxMessage` row whose idempotency key names the occurrence
(`task:<id>:<due>`, `digest:<user>:<local date>`...); the insert does nothing when the key exists, so
enqueueing the same moment twice changes nothing. Workers then:

1. claim a batch: `UPDATE outbox SET claimed_by, lease_until, attempts+1 WHERE id IN (SELECT ... FOR
   UPDATE SKIP LOCKED LIMIT n)` on PostgreSQL, so concurrent workers never wait for or share a row; on
   SQLite every transaction holds the write lock (storage/db.py), so there is one writer at a time;
2. send: for a store channel the row is marked sent, only if this worker still holds it, in
   the same transaction that writes the delivery (exactly once); any other channel is sent first and
   marked after (at-least-once, the key passed along for de-duplication: assistant/channels.py; Slack
   looks for the key in the DM before sending a row claimed again, which makes it exactly-once);
3. a failed send keeps the row pending with `next_attempt_at` pushed out exponentially and the error in
   `last_error`: never dropped. A worker that dies after claiming leaves its rows leased; once
   `lease_until` has passed any worker claims them again.

Settled rows are pruned (`Dispatcher.prune`), a batch per transaction, once nothing can need them: a
key is what keeps an occurrence from being sent twice only while some pass could work it out again, and
the passes say for how long (assistant/reminders.py `rederived_for`); inbound rows, keyed by a platform's
message id, are needed only while the platform may retry, which is minutes. Pending rows (failing ones
too) are never pruned, nor rows whose store delivery refers to them (the terminal's inbox).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, text, update
from sqlalchemy.orm import Session

from assistant.channels import Channel, Outgoing, Registry, StoreChannel, default_registry
from assistant.conversation import Key, load_state, lock_conversations, save_state
from assistant.messages import Reply
from assistant.runtime import Runtime
from storage.db import insert_or_skip, transaction
from storage.models import Delivery, OutboxMessage

log = logging.getLogger(__name__)

BATCH = 100
BURST = 1000  # enqueued at once: time to refresh the planner's statistics (PostgreSQL)
LEASE = timedelta(seconds=60)
LEASE_ENV = "CRM_OUTBOX_LEASE_SECONDS"  # how long a killed worker's rows wait before another takes them
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)
ERROR_CHARS = 2000
INBOUND = "inbound"  # the kind of the inbox's rows (assistant/inbox.py): due by the real clock, as leases are
KEEP_ENV = "CRM_OUTBOX_KEEP_DAYS"  # how long a sent row stays in the outbox before it is pruned
KEEP = timedelta(days=7)
PRUNE_BATCH = 1000  # rows deleted per transaction: a backlog never holds a long lock
PRUNE_ROUND = 10  # batches a scheduler round prunes at most: a backlog is caught up round by round
PRUNE_EVERY = timedelta(minutes=5)  # between a worker's prunes, once it has caught up


@dataclass(frozen=True)
class Item:
    """Something due, ready for the outbox: the occurrence's key, who gets it, where, and what."""

    key: str
    kind: str  # reminder, digest, weekly, alert
    user_id: int | None
    channel: str
    recipient: str
    reply: Reply
    due: datetime
    context: dict[str, Any] = field(default_factory=dict)  # remembered in the recipient's conversation


@dataclass(frozen=True)
class Sent:
    """One delivery this worker made: what `crm reminders run` prints."""

    key: str
    channel: str
    recipient: str
    text: str


def existing_keys(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of these occurrences are in the outbox already, so their content is not even built."""
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        found.update(
            session.scalars(
                select(OutboxMessage.idempotency_key).where(OutboxMessage.idempotency_key.in_(chunk))
            )
        )
    return found


def enqueue(session: Session, items: Sequence[Item]) -> int:
    """Adds the items whose key is new; returns how many were new. Safe to call again and concurrently."""
    if not items:
        return 0
    rows = [
        {
            "idempotency_key": item.key,
            "kind": item.kind,
            "user_id": item.user_id,
            "channel": item.channel,
            "payload": {
                "recipient": item.recipient,
                "reply": item.reply.to_json(),
                "context": item.context,
            },
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": item.due,
        }
        for item in items
    ]
    stmt = insert_or_skip(session, OutboxMessage, ["idempotency_key"]).returning(OutboxMessage.id)
    added = 0
    for start in range(0, len(rows), 1000):
        added += len(session.execute(stmt, rows[start : start + 1000]).all())
    return added


def analyze_after_burst(runtime: Runtime, added: int) -> None:
    """After a burst of new rows, refreshes PostgreSQL's statistics of the outbox: with stale ones the
    planner sorts the whole queue on every claim instead of walking the (status, next_attempt_at) index
    and stopping after a batch, until autovacuum comes by (measured with 5,000 rows pending: 6.0 ms
    against 1.9 ms per claim)."""
    if added >= BURST and runtime.engine.dialect.name == "postgresql":
        with runtime.engine.begin() as connection:
            connection.execute(text("ANALYZE outbox"))


def backoff(attempts: int, base: timedelta = BACKOFF_BASE, cap: timedelta = BACKOFF_MAX) -> timedelta:
    """30 s, 1 min, 2 min, ... up to an hour: a platform that is down is not hammered, and is retried."""
    delay: timedelta = base * (2 ** min(max(attempts - 1, 0), 30))
    return min(delay, cap)


def lease_from_env() -> timedelta:
    """The lease `CRM_OUTBOX_LEASE_SECONDS` sets (a positive number), else a minute. It must outlast the
    slowest send: a shorter one lets another worker take a row whose send is still under way."""
    return seconds_from_env(LEASE_ENV, LEASE)


def keep_from_env() -> timedelta:
    """How long sent rows are kept: `CRM_OUTBOX_KEEP_DAYS` (a positive number), else a week, which
    outlasts any platform's retries many times over and leaves a week of history to look into."""
    return positive_from_env(KEEP_ENV, KEEP, "days")


def seconds_from_env(name: str, default: timedelta) -> timedelta:
    return positive_from_env(name, default, "seconds")


def positive_from_env(name: str, default: timedelta, unit: str) -> timedelta:
    """A positive number of `unit`s ("seconds", "days") from the environment variable `name`; `default`
    when it is unset or is not one (said in the log)."""
    value = os.environ.get(name, "").strip()
    try:
        amount = float(value) if value else 0.0
    except ValueError:
        amount = 0.0
    if amount <= 0:
        if value:
            log.warning("%s=%r is not a positive number of %s; using %s", name, value, unit, default)
        return default
    return timedelta(**{unit: amount})


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    kind: str
    user_id: int | None
    channel: str
    attempts: int
    payload: dict[str, Any]
    created_at: datetime | None = None


@dataclass
class Dispatcher:
    """One worker: claims batches of due outbox rows with a lease and sends them on their channels."""

    runtime: Runtime
    channels: Registry = field(default_factory=default_registry)
    worker: str = field(default_factory=worker_name)
    batch: int = BATCH
    lease: timedelta = field(default_factory=lease_from_env)
    backoff_base: timedelta = BACKOFF_BASE
    backoff_max: timedelta = BACKOFF_MAX
    clock: Callable[[], datetime] | None = None
    keep: timedelta = field(default_factory=keep_from_env)
    prune_batch: int = PRUNE_BATCH
    pruned_until: datetime | None = field(default=None, init=False)  # real clock: no prune before then

    def now(self) -> datetime:
        """The business clock: when a reminder falls due (fixed under `--now`)."""
        return self.clock() if self.clock else self.runtime.now()

    def real_now(self) -> datetime:
        """The clock of leases and of the inbox's recovery: how long a process has been silent, which
        passes even when the business clock is fixed (`--now`, CRM_NOW); they are one clock otherwise."""
        return self.clock() if self.clock else datetime.now(UTC)

    def claim(self) -> list[Claimed]:
        """Takes up to `batch` due rows that nobody holds (or whose holder's lease ran out)."""
        names = self.channels.names()
        if not names:
            return []
        now, real_now = self.now(), self.real_now()
        inbound = OutboxMessage.kind == INBOUND
        with transaction(self.runtime.sessions) as session:
            due = (
                select(OutboxMessage.id)
                .where(
                    OutboxMessage.status == "pending",
                    or_(
                        and_(~inbound, OutboxMessage.next_attempt_at <= now),
                        and_(inbound, OutboxMessage.next_attempt_at <= real_now),
                    ),
                    or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until <= real_now),
                    OutboxMessage.channel.in_(names),
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(self.batch)
            )
            if session.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            stmt = (
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(due.scalar_subquery()))
                .values(
                    claimed_by=self.worker,
                    lease_until=real_now + self.lease,
                    attempts=OutboxMessage.attempts + 1,
                )
                .returning(
                    OutboxMessage.id,
                    OutboxMessage.idempotency_key,
                    OutboxMessage.kind,
                    OutboxMessage.user_id,
                    OutboxMessage.channel,
                    OutboxMessage.attempts,
                    OutboxMessage.payload,
                    OutboxMessage.created_at,
                )
                .execution_options(synchronize_session=False)
            )
            rows = session.execute(stmt).all()
        return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)

    def send(self, claimed: Sequence[Claimed]) -> list[Sent]:
        """Sends what this worker claimed; returns what it delivered. Failures are recorded, not raised."""
        together: list[Claimed] = []
        sent: list[Sent] = []
        for row in claimed:
            channel = self._channel(row)
            if isinstance(channel, StoreChannel):
                together.append(row)
            else:
                sent += self._send_alone(channel, row)
        while together:  # a row whose send fails is set aside and the rest of the batch goes again
            try:
                return sent + self._send_together(together)
            except _SendFailed as failed:
                self._failed(failed.row, failed.error)
                together = [r for r in together if r.id != failed.row.id]
        return sent

    def run_once(self, stop: Callable[[], bool] | None = None) -> list[Sent]:
        """Claims and sends batch after batch until nothing is due (or `stop()` says so)."""
        sent: list[Sent] = []
        while not (stop and stop()):
            claimed = self.claim()
            if not claimed:
                break
            sent += self.send(claimed)
        return sent

    # pruning -----------------------------------------------------------------------------------------

    def prune(self, rederived: timedelta, batches: int, stop: Callable[[], bool] | None = None) -> int:
        """Deletes up to `batches` batches of sent rows that are kept `keep` and no longer needed, one
        transaction each, stopping early when none is left (or `stop()` says so); returns how many. An
        inbound row goes `keep` after it was received, by the real clock its times are on; any other row
        `keep` after it fell due, but never before the passes stopped working its key out again
        (`rederived`), by the business clock its times are on."""
        now, real_now = self.now(), self.real_now()
        inbound = OutboxMessage.kind == INBOUND
        pruned = 0
        for _ in range(batches):
            if stop and stop():
                break
            with transaction(self.runtime.sessions) as session:
                settled = (
                    select(OutboxMessage.id)
                    .where(
                        OutboxMessage.status == "sent",
                        or_(
                            and_(inbound, OutboxMessage.created_at < real_now - self.keep),
                            and_(~inbound, OutboxMessage.next_attempt_at < now - max(self.keep, rederived)),
                        ),
                        ~exists().where(Delivery.outbox_id == OutboxMessage.id),
                    )
                    .limit(self.prune_batch)
                )
                if session.get_bind().dialect.name == "postgresql":
                    settled = settled.with_for_update(skip_locked=True)  # a second pruner takes others
                deleted = len(
                    session.execute(
                        delete(OutboxMessage)
                        .where(OutboxMessage.id.in_(settled.scalar_subquery()))
                        .returning(OutboxMessage.id)
                        .execution_options(synchronize_session=False)
                    ).all()
                )
            pruned += deleted
            if deleted < self.prune_batch:
                break
        return pruned

    def prune_now_and_then(self, rederived: timedelta, stop: Callable[[], bool] | None = None) -> int:
        """What a scheduler round prunes: a few batches, then again next round while a backlog is left,
        else not before PRUNE_EVERY has passed (by the real clock)."""
        real_now = self.real_now()
        if self.pruned_until is not None and real_now < self.pruned_until:
            return 0
        pruned = self.prune(rederived, PRUNE_ROUND, stop)
        caught_up = pruned < PRUNE_ROUND * self.prune_batch
        self.pruned_until = real_now + PRUNE_EVERY if caught_up else None
        if pruned:
            log.info("pruned %d sent outbox rows", pruned)
        return pruned

    # sending -----------------------------------------------------------------------------------------

    def _outgoing(self, row: Claimed) -> Outgoing:
        return Outgoing(
            outbox_id=row.id,
            key=row.key,
            kind=row.kind,
            channel=row.channel,
            recipient=str(row.payload.get("recipient", "")),
            user_id=row.user_id,
            reply=Reply.from_json(row.payload["reply"]) if "reply" in row.payload else Reply(""),
            worker=self.worker,
            attempts=row.attempts,
            created_at=row.created_at,
            data=row.payload,
        )

    def _mark_sent(self, session: Session, ids: Sequence[int]) -> set[int]:
        """Marks sent the rows this worker still holds; a row another worker reclaimed is left alone."""
        stmt = (
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.claimed_by == self.worker,
                OutboxMessage.status == "pending",
                OutboxMessage.lease_until.is_not(None),
            )
            .values(status="sent", sent_at=self.now(), lease_until=None, last_error=None)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        return set(session.scalars(stmt))

    def _send_together(self, rows: Sequence[Claimed]) -> list[Sent]:
        """Store channels: one transaction marks the batch sent and writes its deliveries, so both happen
        or neither does. A failing send rolls the whole transaction back and names its row."""
        sent: list[Sent] = []
        with transaction(self.runtime.sessions) as session:
            mine = self._mark_sent(session, [r.id for r in rows])
            rows = [r for r in rows if r.id in mine]
            for row in rows:
                message = self._outgoing(row)
                channel = self._channel(row)
                assert isinstance(channel, StoreChannel)  # send() set the others apart
                try:
                    channel.deliver(message, session)
                except Exception as error:
                    raise _SendFailed(row, error) from error
                sent.append(_sent(message))
            remember(session, rows)
        return sent

    def _send_alone(self, channel: Channel, row: Claimed) -> list[Sent]:
        """Network channels: send, then mark. A worker that dies in between leaves the row to be sent again
        after its lease (at-least-once); the channel passes `message.key` on so the repeat is dropped."""
        message = self._outgoing(row)
        try:
            channel.send(message)
        except Exception as error:
            self._failed(row, error)
            return []
        with transaction(self.runtime.sessions) as session:
            if not self._mark_sent(session, [row.id]):
                log.warning("%s was sent after its lease ran out; another worker may send it again", row.key)
                return []
            remember(session, [row])
        return [_sent(message)]

    def _failed(self, row: Claimed, error: Exception) -> None:
        """Keeps the row, pushes its next attempt out and says why; only if this worker still holds it."""
        delay = backoff(row.attempts, self.backoff_base, self.backoff_max)
        log.warning(
            "sending %s on %s failed (attempt %d, next in %s): %s",
            row.key,
            row.channel,
            row.attempts,
            delay,
            error,
        )
        with transaction(self.runtime.sessions) as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row.id,
                    OutboxMessage.claimed_by == self.worker,
                    OutboxMessage.status == "pending",
                )
                .values(
                    lease_until=None,
                    next_attempt_at=(self.real_now() if row.kind == INBOUND else self.now()) + delay,
                    last_error=f"{type(error).__name__}: {error}"[:ERROR_CHARS],
                )
                .execution_options(synchronize_session=False)
            )

    def _channel(self, row: Claimed) -> Channel | StoreChannel:
        channel = self.channels.get(row.channel)
        if channel is None:  # claim() only takes rows of registered channels
            raise LookupError(f"no channel {row.channel!r} registered")
        return channel


class _SendFailed(Exception):
    def __init__(self, row: Claimed, error: Exception) -> None:
        super().__init__(str(error))
        self.row = row
        self.error = error


def _sent(message: Outgoing) -> Sent:
    return Sent(message.key, message.channel, message.recipient, message.reply.plain)


def remember(session: Session, rows: Iterable[Claimed]) -> None:
    """Under the conversations' lock (the one turns take: assistant/conversation.py), notes what was just
    sent to each, so "remind me again in an hour" knows which task."""
    contexts: dict[Key, tuple[int | None, dict[str, int]]] = {}
    for row in rows:
        context = row.payload.get("context") or {}
        if context:
            where = (row.channel, str(row.payload.get("recipient", "")))
            contexts.setdefault(where, (row.user_id, {}))[1].update(context)
    if not contexts:
        return
    locked = lock_conversations(session, contexts, {key: user for key, (user, _) in contexts.items()})
    for key, conversation in locked.items():
        user_id, context = contexts[key]
        state = load_state(conversation)
        state.context.remember(**context)
        save_state(conversation, state)
        if conversation.user_id is None:
            conversation.user_id = user_id
    session.flush()
