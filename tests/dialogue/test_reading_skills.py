"""Skills that only read run without a savepoint (assistant/skills READS); one listed there that writes
after all is a bug the turn does not survive: it rolls back whole instead of keeping a write nothing
could take back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select

from assistant import admin, dialogue
from assistant.engine import Assistant
from assistant.messages import Message
from assistant.replies import say
from assistant.runtime import Runtime
from assistant.skills import READS, SKILLS
from storage.models import Account, AuditEntry

REP = "daniel.okafor@northwind.example"


@pytest.fixture
def bot(runtime: Runtime) -> Iterator[Assistant]:
    admin.seed_demo(runtime)
    yield Assistant(runtime)


def counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.sessions() as session:
        accounts = session.scalar(select(func.count()).select_from(Account))
        audited = session.scalar(select(func.count()).select_from(AuditEntry))
    return int(accounts or 0), int(audited or 0)


def test_every_reading_skill_is_a_skill() -> None:
    assert set(READS) - set(SKILLS) == set()


def test_a_question_runs_without_a_savepoint_and_a_write_with_one(bot: Assistant, runtime: Runtime) -> None:
    statements: list[str] = []
    event.listen(runtime.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    before = counts(runtime)
    reply = bot.handle(Message("terminal", REP, "top deals this month", sender_is_email=True))
    assert reply.intent == "query_deals" and reply.table is not None
    assert counts(runtime) == before
    assert not any(s.startswith("SAVEPOINT") for s in statements)
    bot.handle(Message("terminal", REP, "log a call with Globex", sender_is_email=True))
    assert any(s.startswith("SAVEPOINT") for s in statements)


def test_a_reading_skill_that_writes_rolls_the_turn_back(
    bot: Assistant, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dialogue, "READS", READS | {"create_account"})
    before = counts(runtime)
    bot.handle(Message("terminal", REP, "create account Zeta Widgets", sender_is_email=True))  # asks first
    reply = bot.handle(Message("terminal", REP, "yes", sender_is_email=True))
    assert reply.plain == say("error")
    assert counts(runtime) == before
