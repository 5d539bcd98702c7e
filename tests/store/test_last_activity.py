"""An activity moves its account's "last activity" forward, never back: when a colleague's later
activity landed after this turn read the account, the turn changes nothing there and audits nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from seeded import seed_demo
from sqlalchemy import select

from assistant.runtime import Runtime
from assistant.skills.activities import _touch
from storage.db import transaction
from storage.models import Account

EARLIER = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)


def account_named(session, name: str) -> Account:  # type: ignore[no-untyped-def]
    return session.scalars(select(Account).where(Account.name == name)).one()


def test_a_later_activity_logged_meanwhile_is_kept(runtime: Runtime) -> None:
    if runtime.database_url.startswith("sqlite"):
        pytest.skip(
            "SQLite's turns take the write lock at BEGIN: nobody writes between the read and the touch"
        )
    seed_demo(runtime)
    with runtime.sessions() as reading:
        account = account_named(reading, "Globex Inc")  # what the turn read, before the colleague wrote
        account.last_activity_at  # noqa: B018 (loaded now)
        with transaction(runtime.sessions) as colleague:
            account_named(colleague, "Globex Inc").last_activity_at = LATER
        turn = SimpleNamespace(session=reading)

        assert _touch(turn, account, EARLIER) is False, "nothing moved: the record is newer"
        assert account.last_activity_at.replace(tzinfo=UTC) == LATER, "and the turn sees what is there"
        reading.commit()
    with runtime.sessions() as after:
        assert account_named(after, "Globex Inc").last_activity_at.replace(tzinfo=UTC) == LATER


def test_an_activity_after_the_last_one_moves_it_forward(runtime: Runtime) -> None:
    seed_demo(runtime)
    with transaction(runtime.sessions) as session:
        account = account_named(session, "Globex Inc")
        account.last_activity_at = EARLIER
    with transaction(runtime.sessions) as session:
        account = account_named(session, "Globex Inc")
        assert _touch(SimpleNamespace(session=session), account, LATER) is True
        assert account.last_activity_at == LATER
    with runtime.sessions() as after:
        assert account_named(after, "Globex Inc").last_activity_at.replace(tzinfo=UTC) == LATER
