"""The inbox: a platform message is written down before it is acknowledged, so a process killed after
the acknowledgement and before the reply loses nothing.

Slack stops retrying an event once it was acknowledged, and acknowledges come before the turn runs
(within Slack's 3 s). So an adapter first records the message (`receive`), then acknowledges, then runs
the turn. The record is a row of the outbox (assistant/outbox.py), of the kind "inbound", on the channel
"<platform>-inbound", keyed by the platform's message id, due `recover_after` from now:

1. the turn stores its reply on the row in the turn's own transaction (`answered`, called by the
   engine), so the row knows whether the turn was applied, and what it said;
2. once the reply is posted the adapter marks the row sent (`done`);
3. a process killed anywhere in between leaves the row pending; when it falls due a scheduler worker
   claims it like any outbox row and hands it to the platform's recovery channel, which runs the turn
   if no reply is stored (the engine's seen-ids make a second run impossible) and posts the reply
   unless the conversation holds it already.

No schema change: the outbox's key, lease, retries and SKIP LOCKED claims serve both directions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from assistant.messages import Reply
from assistant.outbox import lease_from_env
from assistant.runtime import Runtime
from storage.db import insert_or_skip, transaction
from storage.models import OutboxMessage

KIND = "inbound"


def channel_of(platform: str) -> str:
    """The outbox channel a platform's recovery registers under."""
    return f"{platform}-inbound"


def key_of(platform: str, message_id: str) -> str:
    return f"{KIND}:{platform}:{message_id}"


def receive(
    runtime: Runtime,
    platform: str,
    message_id: str,
    data: dict[str, Any],
    recover_after: timedelta | None = None,
) -> bool:
    """Records a message before it is acknowledged; False when it was recorded before (a retry). Raises
    when the store cannot take it: then the message must not be acknowledged."""
    due = datetime.now(UTC) + (recover_after or lease_from_env())
    row = {
        "idempotency_key": key_of(platform, message_id),
        "kind": KIND,
        "user_id": None,
        "channel": channel_of(platform),
        "payload": {"message": data},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": due,
    }
    with transaction(runtime.sessions) as session:
        stmt = insert_or_skip(session, OutboxMessage, ["idempotency_key"]).returning(OutboxMessage.id)
        return session.execute(stmt, [row]).first() is not None


def answered(session: Session, platform: str, message_id: str, reply: Reply) -> None:
    """Inside a turn's transaction: the reply the turn made, kept on the message's inbound row (if it
    has one), so that it commits with the turn or not at all."""
    row = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.idempotency_key == key_of(platform, message_id))
        .execution_options(populate_existing=True)
    ).first()
    if row is not None and row.status == "pending":
        row.payload = {**row.payload, "reply": reply.to_json()}


def stored_reply(runtime: Runtime, platform: str, message_id: str) -> Reply | None:
    """The reply a committed turn left on the message's inbound row; None if no turn was applied."""
    with runtime.sessions() as session:
        payload = session.scalar(
            select(OutboxMessage.payload).where(OutboxMessage.idempotency_key == key_of(platform, message_id))
        )
    if not payload or "reply" not in payload:
        return None
    return Reply.from_json(payload["reply"])


def done(runtime: Runtime, platform: str, message_id: str) -> None:
    """The reply is out: the row is settled, unless a recovering worker holds it (it settles it then)."""
    with transaction(runtime.sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.idempotency_key == key_of(platform, message_id),
                OutboxMessage.status == "pending",
                OutboxMessage.lease_until.is_(None),
            )
            .values(status="sent", sent_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )
