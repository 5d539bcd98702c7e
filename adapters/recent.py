"""Keys a process handled lately (message ids, outbox keys): a platform's repeat that reaches the same
process stops here, before any database work."""

from __future__ import annotations

import threading
from collections import OrderedDict

RECENT_KEYS = 10_000


class RecentKeys:
    """The keys this process took lately, oldest forgotten first."""

    def __init__(self, size: int = RECENT_KEYS) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add(self, key: str) -> bool:
        """True if the key is new."""
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = None
            if len(self._keys) > self._size:
                self._keys.popitem(last=False)
            return True

    def discard(self, key: str) -> None:
        """Forgets a key whose handling failed, so that a retry is handled."""
        with self._lock:
            self._keys.pop(key, None)
