"""An activity moves its account's "last activity" forward, never back: when a colleague's later
activity landed after this turn read the account, the turn changes nothing there and audits nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from seeded import seed_demo
from sqlalchemy import select, update

from assistant.runtime import Runtime
from assistant.skills.activities import _touch
from storage.db import transaction
from storage.models import Account

EARLIER = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)


def account_named(session, name: str) -> Account:  # type: ignore[no-untyped-def]
    return session.scalars(select(Account).where(Account.name == name)).one()


def test_a_later_activity_logged_meanwhile_is_kept(runtime: Runtime) -> None:
    seed_demo(runtime)
    with transaction(runtime.sessions) as session:
        account = account_named(session, "Globex Inc")  # what the turn read...
        account.last_activity_at  # noqa: B018 (loaded now)
        session.execute(  # ...and what a colleague's activity made of the row since, unseen by the object
            update(Account).where(Account.id == account.id).values(last_activity_at=LATER),
            execution_options={"synchronize_session": False},
        )
        turn = SimpleNamespace(session=session)

        assert _touch(turn, account, EARLIER) is False, "nothing moved: the record is newer"
        assert account.last_activity_at.replace(tzinfo=UTC) == LATER, "and the turn sees what is there"
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
