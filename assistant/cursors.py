"""How far a polling channel has read: the last platform update it handled, kept in the store.

A channel that polls (Telegram's getUpdates) asks for updates after `last_handled` and records each one
it handled with `advance`. The cursor only ever moves forward, in one statement, so a restarted process
or a second one racing the first never moves it back and never hands an update out twice.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from assistant.runtime import Runtime
from storage.coltypes import utcnow
from storage.db import transaction
from storage.models import ChannelCursor


def last_handled(runtime: Runtime, name: str) -> int | None:
    """The cursor's value, or None when this channel has handled nothing yet."""
    with runtime.sessions() as session:
        return session.scalar(select(ChannelCursor.value).where(ChannelCursor.name == name))


def advance(runtime: Runtime, name: str, value: int) -> None:
    """Moves the cursor to `value` if that is further on; a smaller or equal value changes nothing.

    One INSERT ... ON CONFLICT DO UPDATE ... WHERE value < new: the database decides under the row's
    lock, so concurrent callers on PostgreSQL end at the largest value whatever their order.
    """
    with transaction(runtime.sessions) as session:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        insert = dialect.insert(ChannelCursor).values(name=name, value=value, updated_at=utcnow())
        session.execute(
            insert.on_conflict_do_update(
                index_elements=[ChannelCursor.name],
                set_={"value": insert.excluded.value, "updated_at": insert.excluded.updated_at},
                where=ChannelCursor.value < insert.excluded.value,
            )
        )


def restart(runtime: Runtime, name: str, value: int) -> None:
    """Sets the cursor back to `value`: the platform began numbering again lower down (Telegram picks
    a new starting id after a week without updates), so the old value would hide every new update."""
    with transaction(runtime.sessions) as session:
        found = session.get(ChannelCursor, name, with_for_update=True)
        if found is None:
            session.add(ChannelCursor(name=name, value=value, updated_at=utcnow()))
        else:
            found.value, found.updated_at = value, utcnow()
