"""News between the processes of one service: PostgreSQL's LISTEN/NOTIFY.

A staff answer is taken for a web visitor by whichever process looks first, and marked seen, so the
widgets the visitor has open on other processes (two tabs, after `crm serve --processes N`) would see it
only on their next reload. The process that takes it also publishes it, in the same transaction (a
NOTIFY is delivered when the transaction commits, and not at all if it rolls back); every other process
listens on one connection of its own and hands what arrives to its sockets.

On SQLite there is no NOTIFY and no second process to tell: publishing does nothing and no one listens.
A payload over PostgreSQL's limit is not published: the other widgets see that answer when they reload.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from assistant.runtime import Runtime

log = logging.getLogger(__name__)
NEWS = "crm_news"  # the channel staff answers to customers go out on
MAX_PAYLOAD = 7900  # bytes: PostgreSQL refuses a NOTIFY payload of 8000 or more
ORIGIN = uuid.uuid4().hex  # this process: what it published it has handed to its own sockets already
RECONNECT_SECONDS = (1.0, 30.0)  # after a lost connection: the first wait, doubled up to the last


def publish(session: Session, topic: str, data: dict[str, Any]) -> bool:
    """Sent to the other processes when the session's transaction commits; False when it was not (SQLite,
    or too big to send)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    payload = json.dumps({"origin": ORIGIN, "data": data}, separators=(",", ":"))
    size = len(payload.encode())
    if size > MAX_PAYLOAD:
        log.info("news of %d bytes not sent to the other processes (the limit is %d)", size, MAX_PAYLOAD)
        return False
    session.execute(text("SELECT pg_notify(:topic, :payload)"), {"topic": topic, "payload": payload})
    return True


class Listener:
    """One connection in LISTEN on `topic`, on a thread: what other processes publish goes to `deliver`
    (on that thread). It reconnects after a lost connection; nothing published meanwhile is replayed."""

    def __init__(self, runtime: Runtime, topic: str, deliver: Callable[[dict[str, Any]], None]) -> None:
        self.runtime = runtime
        self.topic = topic
        self.deliver = deliver
        self.listening = threading.Event()  # set while the LISTEN is in place
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"listen-{topic}", daemon=True)

    def start(self) -> Listener:
        if self.runtime.engine.dialect.name == "postgresql":
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        wait = RECONNECT_SECONDS[0]
        while not self._stop.is_set():
            try:
                self._listen()
                wait = RECONNECT_SECONDS[0]
            except Exception as error:
                self.listening.clear()
                log.warning("listening for %s failed (%s); again in %.0f s", self.topic, error, wait)
                self._stop.wait(wait)
                wait = min(wait * 2, RECONNECT_SECONDS[1])

    def _listen(self) -> None:
        pooled = self.runtime.engine.raw_connection()
        connection: Any = pooled.driver_connection  # psycopg's own (read before it leaves the pool)
        pooled.detach()  # held for good: not the pool's to hand out
        try:
            connection.autocommit = True
            connection.execute(f'LISTEN "{self.topic}"')
            self.listening.set()
            while not self._stop.is_set():
                for notice in connection.notifies(timeout=1.0):
                    self._hand_over(notice.payload)
        finally:
            self.listening.clear()
            pooled.close()

    def _hand_over(self, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("dropped news on %s that is not JSON", self.topic)
            return
        if not isinstance(message, dict) or message.get("origin") == ORIGIN:
            return  # published here: already handed to this process's own sockets
        data = message.get("data")
        if isinstance(data, dict):
            try:
                self.deliver(data)
            except Exception:
                log.exception("handing over news from another process failed")
