"""Optimistic locking at the engine: a turn whose UPDATE finds the record changed since it read it
(someone else's commit in between) is rolled back whole and run again once on fresh data; nothing is
overwritten and the user sees a normal reply, not an error.

The race is made deterministic by a hook where the skill has read the deal and not yet written it:
- on both engines, another writer's change is made on the turn's own connection (a Core UPDATE that
  bumps the version the ORM read): on SQLite that is the only place it can come from, since every
  transaction takes the write lock first (storage/db.py) and turns never interleave;
- on PostgreSQL, also as it happens in production: a second user's whole turn, on another thread and
  connection, commits between the first turn's read and write.
The conversations of two people (what changed since a question, undo over a colleague's change) are
data: conversations/concurrent_edits.json.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from assistant import admin, records
from assistant.engine import Assistant
from assistant.messages import Message
from assistant.runtime import Runtime
from assistant.turn import Turn
from storage.models import AuditEntry, Deal, User

REP = "daniel.okafor@northwind.example"
MANAGER = "maria.gonzalez@northwind.example"
DEAL = "Acme Custom Dashboard Services"
MOVE = f"move {DEAL} to negotiation"


@pytest.fixture
def bot(runtime: Runtime) -> Iterator[Assistant]:
    admin.seed_demo(runtime)
    yield Assistant(runtime)


def say(bot: Assistant, text: str, who: str) -> str:
    return bot.handle(Message("terminal", who, text, sender_is_email=True)).plain


def deal_row(runtime: Runtime) -> Deal:
    with runtime.sessions() as session:
        return session.scalars(select(Deal).where(Deal.name == DEAL)).one()


def updates_by(runtime: Runtime, email: str) -> list[AuditEntry]:
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .join(User, User.id == AuditEntry.user_id)
                .where(User.email == email, AuditEntry.action == "update", AuditEntry.entity == "deals")
            )
        )


def after_reading_the_deal(
    monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[Turn, Deal, int], None]
) -> list[int]:
    """Runs `meanwhile(turn, deal, call)` each time update_deal has read its deal; the calls are counted."""
    read = records.deal
    calls: list[int] = []

    def deal(turn: Turn, slots: dict[str, Any]) -> Deal:
        found = read(turn, slots)
        calls.append(found.id)
        meanwhile(turn, found, len(calls))
        return found

    monkeypatch.setattr(records, "deal", deal)
    return calls


def bump_amount(turn: Turn, deal: Deal) -> None:
    """Another writer's committed change, as the turn's UPDATE will find it: amount and version."""
    table = Deal.__table__  # Core, not ORM: the turn's loaded deal keeps the version it read
    turn.session.execute(
        update(table).where(table.c.id == deal.id).values(amount=Decimal(90000), version=table.c.version + 1)
    )


def test_a_write_that_lost_the_race_runs_again_and_says_nothing_of_it(
    bot: Assistant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = deal_row(runtime).version
    calls = after_reading_the_deal(
        monkeypatch, lambda turn, deal, n: bump_amount(turn, deal) if n == 1 else None
    )

    reply = say(bot, MOVE, REP)

    assert "Updated" in reply and "negotiation (75%)" in reply
    assert len(calls) == 2  # the turn ran twice: the first try's UPDATE matched no row of its version
    now = deal_row(runtime)
    assert (now.stage, now.version) == ("negotiation", version + 1)  # the first try left nothing behind
    assert len(updates_by(runtime, REP)) == 1  # one change, audited once


def test_a_write_that_loses_the_race_twice_is_refused_and_nothing_is_written(
    bot: Assistant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = deal_row(runtime)
    calls = after_reading_the_deal(monkeypatch, lambda turn, deal, n: bump_amount(turn, deal))

    reply = say(bot, MOVE, REP)

    assert "Someone else is changing the same record" in reply and "nothing was changed" in reply
    assert len(calls) == 2  # run once more, not forever
    now = deal_row(runtime)
    assert (now.stage, now.amount, now.version) == (before.stage, before.amount, before.version)
    assert updates_by(runtime, REP) == []


def test_two_people_change_one_deal_at_once_and_both_changes_stand(
    bot: Assistant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Daniel's turn reads the deal, then Maria changes its amount in a whole turn of her own.

    On PostgreSQL her turn commits at once; Daniel's UPDATE then matches no row of the version it read,
    and his turn runs again on the deal as Maria left it. On SQLite her turn waits for his write lock
    and runs after it: no retry is needed. Either way both changes stand."""
    postgres = runtime.engine.dialect.name == "postgresql"
    replies: dict[str, str] = {}
    maria_done = threading.Event()

    def maria() -> None:
        replies["maria"] = say(bot, f"{DEAL} is now 90k", MANAGER)
        maria_done.set()

    maria_turn = threading.Thread(target=maria)

    def let_maria_in(turn: Turn, deal: Deal, n: int) -> None:
        if turn.user is not None and turn.user.email == REP and n == 1:
            maria_turn.start()
            assert maria_done.wait(30 if postgres else 0.5) == postgres

    calls = after_reading_the_deal(monkeypatch, let_maria_in)

    daniel = say(bot, MOVE, REP)
    maria_turn.join(30)

    assert "amount $90,000" in replies["maria"]
    assert "Updated" in daniel and "negotiation (75%)" in daniel
    # PostgreSQL: Daniel's try, Maria's turn, Daniel's second try; SQLite: Daniel's turn, then Maria's
    assert len(calls) == (3 if postgres else 2)
    now = deal_row(runtime)
    assert (now.stage, now.amount) == ("negotiation", Decimal(90000))
    if postgres:
        [mine] = updates_by(runtime, REP)
        assert (
            mine.before is not None and Decimal(mine.before["amount"]) == 90000
        )  # read fresh: undo is exact
