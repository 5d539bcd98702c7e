"""Limits on what reaches a turn: a message's size, and how fast one customer may send.

Customers are strangers on a public channel, so each identity (channel, sender) gets a token bucket:
a burst of a few messages, then a steady rate. Staff are not limited. The buckets live in the process
that runs the turns; several processes each limit what they are sent. A channel may keep a stricter
bucket of its own (the web chat does, to tell a visitor how long to wait).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_MESSAGE_CHARS = 4000  # longer messages are refused before they are parsed
BURST = 20  # messages a customer may send at once (a person types a few; a script hundreds)...
PER_SECOND = 1.0  # ...then one a second
KEPT = 10_000  # identities remembered; the least recently seen are forgotten first


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
