"""Limits on what reaches a turn: a message's size, and how fast one customer may send.

Customers are strangers on a public channel, so each identity (channel, sender) gets a token bucket:
a burst of a few messages, then a steady rate. Staff are not limited. `RateLimiter`'s buckets live in
the process that runs the turns, so several processes each limit what they are sent: N times the rate
for a sender whose connections the kernel spreads over N copies of `crm serve`. `SharedRateLimiter`
keeps the bucket in the store instead, one bucket for every process and machine on the database: the
assistant counts every customer's messages with it, and the web chat its stricter bucket (which also
tells a visitor how long to wait). `RateLimiter` is for a single process (and for tests).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import case, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from assistant.runtime import Runtime
from storage.coltypes import utcnow
from storage.db import transaction
from storage.models import ChannelCursor

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000  # longer messages are refused before they are parsed
BURST = 20  # messages a customer may send at once (a person types a few; a script hundreds)...
PER_SECOND = 1.0  # ...then one a second
KEPT = 10_000  # identities remembered; the least recently seen are forgotten first
SHARED_PREFIX = "rate:"  # channel_cursors rows that are shared buckets: "rate:<channel>:<sender>"
SWEEP_SECONDS = 600.0  # how often a shared limiter deletes the buckets that are full again
MICROS = 1_000_000


@dataclass
class RateLimiter:
    burst: float = BURST
    per_second: float = PER_SECOND
    clock: Callable[[], float] = time.monotonic
    _buckets: OrderedDict[tuple[str, str], tuple[float, float]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, channel: str, sender: str) -> bool:
        """True if this identity may send one more message now (and counts it)."""
        return self.wait(channel, sender) == 0.0

    def wait(self, channel: str, sender: str) -> float:
        """0, with the message counted, if this identity may send now; else the seconds until it may."""
        key, now = (channel, sender), self.clock()
        with self._lock:
            tokens, then = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.per_second)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            while len(self._buckets) > KEPT:
                self._buckets.popitem(last=False)
        if allowed:
            return 0.0
        return (1.0 - tokens) / self.per_second if self.per_second > 0 else float("inf")


def bucket_name(channel: str, sender: str) -> str:
    """The shared bucket's row name; a digest of the identity when it would not fit the column."""
    name = f"{SHARED_PREFIX}{channel}:{sender}"
    if len(name) <= 100:
        return name
    return f"{SHARED_PREFIX}{channel[:20]}:#{hashlib.sha256(name.encode()).hexdigest()}"


@dataclass
class SharedRateLimiter:
    """The same bucket as `RateLimiter`, kept in the store so that every process counts against it.

    Stored as one number per identity (the generic cell rate algorithm): the time at which the bucket
    will be full again, in microseconds of the wall clock, in a `channel_cursors` row named
    "rate:<channel>:<sender>" (a cursor on time, which only moves forward while messages are allowed).
    A message is allowed when moving that time on by one interval keeps it within `burst` intervals of
    now; the check and the move are one INSERT ... ON CONFLICT DO UPDATE ... WHERE, so two processes
    racing for a visitor's last token cannot both get it. A row whose time has passed is a full bucket,
    the same as no row, so old rows are swept now and then. The clock is the wall clock, since processes
    (and machines) must agree on it.
    """

    runtime: Runtime
    burst: float = BURST
    per_second: float = PER_SECOND
    clock: Callable[[], float] = time.time
    bucket: str = ""  # which of an identity's buckets, when there are several ("turns"; the web chat's: "")
    _swept: float = field(default=float("-inf"), init=False, repr=False)  # when this one last swept

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a shared bucket needs a positive rate and a burst of at least one message")

    def allow(self, channel: str, sender: str) -> bool:
        """True if this identity may send one more message now (and counts it)."""
        return self.wait(channel, sender) == 0.0

    def wait(self, channel: str, sender: str) -> float:
        """0, with the message counted, if this identity may send now; else the seconds until it may.
        When the store cannot be reached the message is let through: its turn says the store is busy."""
        clock = self.clock()
        now, step = round(clock * MICROS), round(MICROS / self.per_second)
        window = round(self.burst * MICROS / self.per_second)
        name = bucket_name(f"{self.bucket}/{channel}" if self.bucket else channel, sender)
        full: int | None = None
        try:
            with transaction(self.runtime.sessions) as session:
                dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
                if dialect is postgresql:  # a count lost in a crash only forgives a message: no fsync
                    session.execute(text("SET LOCAL synchronous_commit TO OFF"))
                full_at = case((ChannelCursor.value > now, ChannelCursor.value), else_=now) + step
                insert = dialect.insert(ChannelCursor).values(
                    name=name, value=now + step, updated_at=utcnow()
                )
                counted = session.execute(
                    insert.on_conflict_do_update(
                        index_elements=[ChannelCursor.name],
                        set_={"value": full_at, "updated_at": insert.excluded.updated_at},
                        where=full_at - now <= window,
                    ).returning(ChannelCursor.value)
                ).first()
                if counted is None:
                    full = session.scalar(select(ChannelCursor.value).where(ChannelCursor.name == name))
                if clock - self._swept >= SWEEP_SECONDS:
                    self._swept = clock
                    session.execute(
                        delete(ChannelCursor).where(
                            ChannelCursor.name.startswith(SHARED_PREFIX, autoescape=True),
                            ChannelCursor.value < now,
                        )
                    )
        except OperationalError:
            log.warning("the shared rate limit could not be checked: the store is unavailable")
            return 0.0
        if counted is not None:
            return 0.0
        held = full if full is not None else now
        return max(0.0, (held + step - now - window) / MICROS)
