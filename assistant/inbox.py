"""The inbox: a platform message is written down before it is acknowledged, so a process killed after
the acknowledgement and before the reply loses nothing.

Slack stops retrying an event once it was acknowledged, and acknowledges come before the turn runs
(within Slack's 3 s). So an adapter first records the message (`receive`), then acknowledges, then runs
the turn. The record is a row of the outbox (assistant/outbox.py), of the kind "inbound", on the channel
"<platform>-inbound", keyed by the platform's message id, due `recover_after` from now (by the real
clock, not the business one a fixed `--now` sets):

1. the turn stores its reply on the row in the turn's own transaction (`answered`, called by the
   engine), so the row knows whether the turn was applied, and what it said;
2. once the reply is posted the adapter marks the row sent (`done`);
3. a process killed anywhere in between leaves the row pending; when it falls due a scheduler worker
   claims it like any outbox row and hands it to the platform's recovery channel, which runs the turn
   if no reply is stored (the engine's seen-ids make a second run impossible) and posts the reply
   unless the conversation holds it already.

No schema change: the outbox's key, lease, retries and SKIP LOCKED claims serve both directions.

`Inbox` keeps the cost off the acknowledgement: messages arriving together are written in one
transaction (group commit: the first caller writes everyone's rows queued by then, the others wait for
it), and the "done" marks are written by a background thread a moment later, many at once. A mark a
kill loses costs only a look at the conversation when the row falls due.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from assistant.messages import Reply
from assistant.outbox import INBOUND, seconds_from_env
from assistant.runtime import Runtime
from storage.db import insert_or_skip, transaction
from storage.models import OutboxMessage

log = logging.getLogger(__name__)
KIND = INBOUND
SETTLE_SECONDS = 0.25  # how long "done" marks gather before they are written together
RECOVER_ENV = "CRM_INBOX_RECOVER_SECONDS"
RECOVER_AFTER = timedelta(minutes=5)


def recover_after_from_env() -> timedelta:
    """How long a message stays with the process that took it before any other may finish it:
    CRM_INBOX_RECOVER_SECONDS, else five minutes. It must outlast the longest a turn waits in a live
    process's queue (an overloaded one lags by seconds, not minutes), or a slow turn's message would be
    answered by its own process and by the recovery too."""
    return seconds_from_env(RECOVER_ENV, RECOVER_AFTER)


def channel_of(platform: str) -> str:
    """The outbox channel a platform's recovery registers under."""
    return f"{platform}-inbound"


def key_of(platform: str, message_id: str) -> str:
    return f"{KIND}:{platform}:{message_id}"


def _row(platform: str, message_id: str, data: dict[str, Any], recover_after: timedelta) -> dict[str, Any]:
    return {
        "idempotency_key": key_of(platform, message_id),
        "kind": KIND,
        "user_id": None,
        "channel": channel_of(platform),
        "payload": {"message": data},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": datetime.now(UTC) + recover_after,
    }


def _insert(runtime: Runtime, rows: list[dict[str, Any]]) -> None:
    """On a plain connection, not a session's unit of work (this runs before every acknowledgement). One
    row is one autocommitted statement, with no BEGIN and COMMIT round trips; several (a burst's group
    commit) go in one transaction, since executemany in autocommit would commit row by row."""
    if len(rows) == 1:
        with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(insert_or_skip(connection, OutboxMessage, ["idempotency_key"]), rows[0])
        return
    with runtime.engine.begin() as connection:
        connection.execute(insert_or_skip(connection, OutboxMessage, ["idempotency_key"]), rows)


def receive(
    runtime: Runtime,
    platform: str,
    message_id: str,
    data: dict[str, Any],
    recover_after: timedelta | None = None,
) -> None:
    """Records one message before it is acknowledged (a retry's row is there already: left as it is).
    Raises when the store cannot take it: then the message must not be acknowledged."""
    _insert(runtime, [_row(platform, message_id, data, recover_after or recover_after_from_env())])


@dataclass
class _Waiting:
    row: dict[str, Any]
    written: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class Inbox:
    """A platform's inbox in one process: group-committed receipts, and "done" marks written behind."""

    def __init__(self, runtime: Runtime, platform: str, recover_after: timedelta | None = None) -> None:
        self.runtime = runtime
        self.platform = platform
        self.recover_after = recover_after or recover_after_from_env()
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._writing = False
        self._done: list[str] = []
        self._settler: threading.Thread | None = None
        self._wake = threading.Event()

    def receive(self, message_id: str, data: dict[str, Any]) -> None:
        """Returns once the message's row is committed (with those of messages that came meanwhile)."""
        mine = _Waiting(_row(self.platform, message_id, data, self.recover_after))
        with self._lock:
            self._queue.append(mine)
            lead = not self._writing
            self._writing = True
        if lead:
            self._write_queued()
        mine.written.wait()
        if mine.error is not None:
            raise mine.error

    def _write_queued(self) -> None:
        while True:
            with self._lock:
                batch, self._queue = self._queue, []
                if not batch:
                    self._writing = False
                    return
            error: BaseException | None = None
            try:
                _insert(self.runtime, [w.row for w in batch])
            except BaseException as failed:  # each waiting request answers Slack with a failure
                error = failed
            for waiting in batch:
                waiting.error = error
                waiting.written.set()

    def done(self, message_id: str) -> None:
        """The reply is out: the row is marked sent a moment later, with others."""
        with self._lock:
            self._done.append(message_id)
            if self._settler is None:
                self._settler = threading.Thread(target=self._settle, name="inbox-settle", daemon=True)
                self._settler.start()
        self._wake.set()

    def flush(self) -> None:
        """Writes the "done" marks waiting now."""
        with self._lock:
            ids, self._done = self._done, []
        if ids:
            try:
                done_many(self.runtime, self.platform, ids)
            except Exception:  # the rows fall due later; their recovery finds the replies posted
                log.exception("could not mark %d answered messages", len(ids))

    def _settle(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            threading.Event().wait(SETTLE_SECONDS)
            self.flush()


def answered(session: Session, platform: str, message_id: str, reply: Reply) -> None:
    """Inside a turn's transaction: the reply the turn made, kept on the message's inbound row (if it
    has one), so that it commits with the turn or not at all. Read, then written whole: merging it in
    the UPDATE would need PostgreSQL's jsonb, which refuses a NUL (\\u0000) that a message may hold."""
    row = session.execute(_PENDING_ROW, {"key": key_of(platform, message_id)}).first()
    if row is not None:
        session.execute(_SET_PAYLOAD, {"row": row.id, "payload": {**row.payload, "reply": reply.to_json()}})


# built once, as plain statements (no object to load and flush): every turn runs them
_PENDING_ROW = select(OutboxMessage.id, OutboxMessage.payload).where(
    OutboxMessage.idempotency_key == bindparam("key"), OutboxMessage.status == "pending"
)
_SET_PAYLOAD = (
    update(OutboxMessage)
    .where(OutboxMessage.id == bindparam("row"))
    .values(payload=bindparam("payload"))
    .execution_options(synchronize_session=False)
)


def stored_reply(runtime: Runtime, platform: str, message_id: str) -> Reply | None:
    """The reply a committed turn left on the message's inbound row; None if no turn was applied."""
    with runtime.sessions() as session:
        payload = session.scalar(
            select(OutboxMessage.payload).where(OutboxMessage.idempotency_key == key_of(platform, message_id))
        )
    if not payload or "reply" not in payload:
        return None
    return Reply.from_json(payload["reply"])


def done_many(runtime: Runtime, platform: str, message_ids: list[str]) -> None:
    """The replies are out: the rows are settled, unless a recovering worker holds one (it settles it)."""
    with transaction(runtime.sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.idempotency_key.in_([key_of(platform, m) for m in message_ids]),
                OutboxMessage.status == "pending",
                OutboxMessage.lease_until.is_(None),
            )
            .values(status="sent", sent_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )
