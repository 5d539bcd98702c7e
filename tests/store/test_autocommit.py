"""A statement run in autocommit is kept on either engine. The inbox writes each message's row so, before
the acknowledgement; on SQLite the BEGIN IMMEDIATE every transaction opens with (storage/db.py) once
wrapped it in a transaction that was rolled back when the connection went back to the pool, and the
row was lost."""

from __future__ import annotations

from sqlalchemy import select

from assistant import inbox
from assistant.runtime import Runtime
from storage.models import OutboxMessage


def test_a_message_the_inbox_receives_is_in_the_store_once_receive_returns(runtime: Runtime) -> None:
    box = inbox.Inbox(runtime, "slack")
    box.receive("C1:1.0", {"user": "U1", "channel": "C1", "text": "top deals this month"})
    inbox.receive(runtime, "slack", "C1:2.0", {"user": "U1", "channel": "C1", "text": "win rate"})
    runtime.engine.dispose()  # nothing left open that could still hold the rows uncommitted
    with runtime.sessions() as session:
        rows = session.execute(select(OutboxMessage.idempotency_key, OutboxMessage.status)).all()
    assert sorted(rows) == [
        (inbox.key_of("slack", "C1:1.0"), "pending"),
        (inbox.key_of("slack", "C1:2.0"), "pending"),
    ]
