"""Updates handled in order within each chat and side by side across chats, with the highest update
id below which every update is done (the cursor a restart resumes after).

Telegram numbers updates in the order it received them. A chat's updates must be answered in that
order ("yes" after the question it answers), but another chat need not wait for them.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)
BACKLOG = 1_000  # updates taken but not done before the poller waits (memory stays bounded)
# An update this far below the cursor is no repeat: Telegram numbered afresh (it picks a new starting id
# after a week without updates). Repeats come from the last few batches, never this far back.
RENUMBERED = 100_000
TAKEN_KEPT = 100_000  # update ids remembered against a repeat delivered to this process


class Lanes:
    def __init__(self, after: int = 0, backlog: int = BACKLOG) -> None:
        self._tails: dict[int, asyncio.Future[None]] = {}
        self._open: list[int] = []  # update ids taken, not done: a heap
        self._done: set[int] = set()
        self._taken: OrderedDict[int, None] = OrderedDict()  # ids this process took, the latest kept
        self._room = asyncio.Semaphore(backlog)
        self.resumed_after = after  # the stored cursor at start: a previous run handled up to here
        self.done_through = after  # every update up to this id is handled

    def seen(self, update_id: int) -> bool:
        """Taken before: in this process, or at or below the cursor a previous run stored. An id
        below an id handled here is not enough: a webhook can bring an older update late."""
        if update_id in self._taken:
            return True
        return self.resumed_after - RENUMBERED < update_id <= self.resumed_after

    def renumbered(self, update_id: int) -> bool:
        """Whether Telegram started numbering again far below what was handled; the cursor follows."""
        if update_id > max(self.resumed_after, self.done_through) - RENUMBERED or self._open:
            return False
        self.resumed_after = 0
        self.done_through = update_id - 1
        return True

    def _take(self, update_id: int) -> None:
        heapq.heappush(self._open, update_id)
        self._taken[update_id] = None
        if len(self._taken) > TAKEN_KEPT:
            self._taken.popitem(last=False)

    async def submit(self, chat: int, update_id: int, work: Callable[[], Awaitable[None]]) -> None:
        """Runs `work` after every earlier update of `chat`; returns once it is queued."""
        await self._room.acquire()
        self._take(update_id)
        before = self._tails.get(chat)
        task = asyncio.ensure_future(self._run(before, work, update_id))
        self._tails[chat] = task
        task.add_done_callback(lambda t: self._tails.pop(chat, None) if self._tails.get(chat) is t else None)

    async def _run(
        self, before: asyncio.Future[None] | None, work: Callable[[], Awaitable[None]], update_id: int
    ) -> None:
        try:
            if before is not None:
                await asyncio.wait([before])  # its failure is its own; this update still runs
            await work()
        except Exception:
            log.exception("Telegram update %s failed", update_id)
        finally:
            self._finish(update_id)

    def skip(self, update_id: int) -> None:
        """An update with nothing to do (a group message not for the bot): done at once, in order."""
        self._take(update_id)
        self._done.add(update_id)
        self._advance()

    def _finish(self, update_id: int) -> None:
        self._done.add(update_id)
        self._room.release()
        self._advance()

    def _advance(self) -> None:
        while self._open and self._open[0] in self._done:
            finished = heapq.heappop(self._open)
            self._done.discard(finished)
            self.done_through = max(self.done_through, finished)

    async def drain(self) -> None:
        """Waits for every queued update (on shutdown)."""
        while self._tails:
            await asyncio.wait(list(self._tails.values()))
