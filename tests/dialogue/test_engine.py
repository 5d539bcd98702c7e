"""The engine's promises: exact pipeline figures, one conversation across processes, failed turns that
roll back whole, and a clear reply when the database is gone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from psycopg.errors import DeadlockDetected
from seeded import seed_demo
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from assistant.engine import Assistant
from assistant.messages import Message
from assistant.replies import money
from assistant.runtime import Runtime
from assistant.skills import SKILLS
from storage.models import Activity, Deal, Task, User

MANAGER = "maria.gonzalez@northwind.example"
REP = "daniel.okafor@northwind.example"


@pytest.fixture
def bot(runtime: Runtime) -> Iterator[Assistant]:
    seed_demo(runtime)
    yield Assistant(runtime)


def say(bot: Assistant, text: str, who: str = MANAGER) -> str:
    return bot.handle(Message("terminal", who, text, sender_is_email=True)).plain


def test_pipeline_figures_are_exact(bot: Assistant, runtime: Runtime) -> None:
    q4 = (date(2026, 10, 1), date(2026, 12, 31))
    year = (date(2026, 1, 1), date(2026, 12, 31))
    with runtime.sessions() as session:
        deals = session.scalars(select(Deal).where(Deal.deleted_at.is_(None))).all()
    open_q4 = [
        d for d in deals if d.stage not in ("won", "lost") and d.close_date and q4[0] <= d.close_date <= q4[1]
    ]
    forecast = sum((d.amount or 0) * d.probability for d in open_q4) / Decimal(100)
    assert f"Forecast {money(forecast)} from {len(open_q4)} open deals" in say(bot, "forecast this quarter")

    q3 = (date(2026, 7, 1), date(2026, 9, 30))
    won = [d for d in deals if d.stage == "won" and q3[0] <= d.closed_on <= q3[1]]
    assert f"Won {money(sum(d.amount for d in won))} in {len(won)} deals" in say(
        bot, "how much did we close last quarter"
    )

    closed = [d for d in deals if d.stage in ("won", "lost") and year[0] <= d.closed_on <= year[1]]
    wins = sum(d.stage == "won" for d in closed)
    rate = f"{wins / len(closed) * 100:.0f}%"
    assert f"Win rate {rate} ({wins} won of {len(closed)} closed)" in say(bot, "win rate this year")

    pipeline = sum((d.amount or 0) for d in deals if d.stage not in ("won", "lost"))
    assert f"Pipeline {money(pipeline)}" in say(bot, "pipeline by stage")


def test_two_processes_continue_one_conversation(bot: Assistant, runtime: Runtime) -> None:
    other = Assistant(Runtime(runtime.database_url, runtime.tz, runtime.fixed_now))
    assert "Which deal" in say(bot, "move acme to negotiation", REP)
    assert "Updated Acme New Platform License" in say(other, "2", REP)
    other.runtime.close()


def test_a_failing_turn_rolls_back_whole(
    bot: Assistant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = SKILLS["log_activity"]

    def log_then_fail(turn, slots):  # type: ignore[no-untyped-def]
        real(turn, slots)
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(SKILLS, "log_activity", log_then_fail)
    with runtime.sessions() as session:
        before = session.scalar(select(func.count()).select_from(Activity))
    assert "nothing was changed" in say(bot, "log a call with acme", REP)
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Activity)) == before
    monkeypatch.setitem(SKILLS, "log_activity", real)
    assert "Logged a call" in say(bot, "log a call with acme", REP)  # the conversation goes on


def test_a_database_that_is_gone_gets_a_clear_reply(bot: Assistant) -> None:
    bot.runtime._engine = None
    bot.runtime.database_url = "postgresql+psycopg://nobody@127.0.0.1:1/gone"
    bot.runtime.__dict__.pop("sessions", None)
    bot._names_checked = float("-inf")
    reply = bot.handle(Message("terminal", REP, "top deals this month", sender_is_email=True)).plain
    assert "database is busy or unreachable" in reply and "nothing was changed" in reply


def test_one_conversation_is_handled_one_turn_at_a_time(bot: Assistant, runtime: Runtime) -> None:
    """Two workers take turns of the same conversation at once: every turn lands, none is lost."""
    import threading

    from storage.models import Conversation

    others = [Assistant(Runtime(runtime.database_url, runtime.tz, runtime.fixed_now)) for _ in range(2)]
    replies: list[str] = []

    def talk(worker: Assistant) -> None:
        for _ in range(4):
            replies.append(say(worker, "log a call with acme about the renewal", REP))

    threads = [threading.Thread(target=talk, args=(w,)) for w in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(replies) == 8 and all("Logged a call" in r for r in replies), replies
    with runtime.sessions() as session:
        notes = select(func.count()).select_from(Activity).where(Activity.notes == "the renewal")
        assert session.scalar(notes) == 8
        conversation = session.scalars(select(Conversation).where(Conversation.external_id == REP)).one()
        assert conversation.version == 8
    for worker in others:
        worker.runtime.close()


def test_dates_are_the_speakers_own(bot: Assistant, runtime: Runtime) -> None:
    """At 03:00 UTC on Monday it is still Sunday evening in New York: "tomorrow" there is Monday, and a
    reminder without a time goes off at 09:00 New York time."""
    with runtime.sessions() as session, session.begin():
        session.execute(update(User).where(User.email == REP).values(timezone="America/New_York"))
    early = Assistant(Runtime(runtime.database_url, runtime.tz, datetime(2026, 11, 23, 3, 0, tzinfo=UTC)))
    reply = early.handle(Message("terminal", REP, "remind me to call acme tomorrow", sender_is_email=True))
    assert reply.plain == "Task for you: call acme, tomorrow.", reply.plain  # tomorrow in New York
    with runtime.sessions() as session:
        task = session.scalars(
            select(Task).where(Task.title.like("%acme%") | Task.title.like("%Acme%"))
        ).one()
    assert task.due_at == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 09:00 in New York


def test_a_turn_chosen_as_a_deadlock_victim_runs_again(
    bot: Assistant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL rolls a deadlock's victim back whole; the engine runs the turn again, once more at most."""
    real = Assistant._turn
    failures = iter([True])

    def deadlocked_once(self: Assistant, session: Any, message: Message) -> Any:
        result = real(self, session, message)
        if next(failures, False):
            raise OperationalError("UPDATE deal_totals ...", {}, DeadlockDetected("deadlock detected"))
        return result

    monkeypatch.setattr(Assistant, "_turn", deadlocked_once)
    reply = bot.handle(Message("terminal", REP, "log a call with globex", sender_is_email=True))
    assert reply.plain.startswith("Logged a call with Globex Inc"), reply.plain
    with runtime.sessions() as session:
        calls = session.scalars(select(Activity).where(Activity.channel == "terminal")).all()
    assert len(calls) == 1  # the first try left nothing behind
