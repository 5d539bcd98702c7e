"""The audit log is complete and append-only (issue 16), on SQLite and PostgreSQL.

A seeded random session of write turns by two users goes through Assistant.handle against the demo
company. Around every turn every CRM table is read (each row as the audit stores it, assistant.audit's
snapshot), and so is the whole audit log. Then:
- every row the turn changed has the turn's audit entries for it: the first one's `before` is the row
  as it was (None, with action create, for a new row), each entry's `after` is the next one's `before`,
  and the last one's `after` is the row as it is now;
- every new audit entry is about a row the turn changed, made by the user who spoke;
- the audit rows that were there before the turn are all still there, unchanged.
The database itself refuses UPDATE and DELETE on audit_log; an undo is recorded as new rows.

The seed is printed with every failure; CRM_AUDIT_SEED replays one.
"""

from __future__ import annotations

import itertools
import os
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from assistant import admin
from assistant.audit import Recorder, snapshot
from assistant.engine import Assistant
from assistant.messages import Message
from assistant.runtime import Runtime
from assistant.undone import not_undone, undo_group
from storage.db import transaction
from storage.models import AuditEntry, Base, Deal, User

SEED = int(os.environ.get("CRM_AUDIT_SEED", "1616"))
TURNS = 60
USERS = ("daniel.okafor@northwind.example", "priya.raman@northwind.example")

# Tables whose rows are not CRM records, with the reason they are not audited.
NOT_RECORDS = {
    "audit_log": "the log itself (compared on its own: earlier rows never change)",
    "conversations": "dialogue state (pending questions, context), not a record",
    "deal_totals": "sums of deals kept by database triggers; the deals they add up are audited",
    "outbox": "messages waiting to be sent",
    "deliveries": "what was sent where",
    "channel_cursors": "a channel's place in its platform's update stream",
    "link_codes": "one-time codes to link a chat; made by `crm users link-code`, not by a turn",
}
RECORDS = {
    mapper.class_.__tablename__: mapper.class_
    for mapper in Base.registry.mappers
    if mapper.class_.__tablename__ not in NOT_RECORDS
}

# Short exchanges taken from tests/dialogue/conversations/*.json, each known to write (or to ask and
# then write); played in a random order by either user, so many land in contexts nobody scripted.
EXCHANGES: list[list[str]] = [
    ["log call w/ acme re renewal, f/u next tues"],
    ["had a meeting with Jane from Acme on friday about pricing"],
    ["log a call with Zorblax Ltd", "yes"],
    ["log call with jane", "2"],
    ["new deal for Globex, 50k, proposal, closing end of March"],
    ["new deal for zephyr robotics 40k", "yes"],
    ["move acme to negotiation", "the second one"],
    ["change the acme new platform license deal", "amount 125k"],
    ["move the acme new platform license to negotiation", "close date next friday", "make it 50k"],
    ["tell me about acme", "move the second one to negotiation"],
    ["remind me to call Bob Smith tomorrow at 10"],
    ["what's on my plate this week", "mark the first one done", "yes"],
    ["add contact Ada Lovelace at Acme, ada@acme.example, CTO", "Ada Lovelace's new number is 555 0101"],
    ["add a new account called Quillfeather Press in publishing"],
    [
        "talked to lucia ferrari at wayne, budget is signed off, move the deal to negotiation and remind me "
        "to send the contract thursday"
    ],
    ["met the brightline team, they want more seats, bump the deal to 90k and remind me to call them friday"],
    ["I'll take ticket 1045"],
    ["close 1042"],
    ["reply to 1043: we raised your API limit, the sync will run tonight"],
    ["undo"],
    ["undo"],
    ["undo"],
]

Key = tuple[str, int]  # (table, record id)
Rows = dict[Key, dict[str, Any]]


def crm_rows(runtime: Runtime) -> Rows:
    """Every row of every CRM table, as the audit log stores a record."""
    rows: Rows = {}
    with runtime.sessions() as session:
        for table, model in RECORDS.items():
            for record in session.scalars(select(model)):
                rows[(table, record.id)] = snapshot(record)  # type: ignore[attr-defined]
    return rows


def audit_rows(runtime: Runtime) -> dict[int, dict[str, Any]]:
    columns = AuditEntry.__table__.columns
    with runtime.sessions() as session:
        result = session.execute(select(*columns).order_by(AuditEntry.id)).mappings().all()
    return {row["id"]: dict(row) for row in result}


def _comparable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Values with the audit's "_what" label left out, and amounts as numbers ("5E+4" is "50000.00")."""
    if values is None:
        return None
    out = {}
    for key, value in values.items():
        if key == "_what":
            continue
        if isinstance(value, str) and key in {"amount", "probability"}:
            value = Decimal(value)
        out[key] = value
    return out


def discrepancies(before: Rows, after: Rows, entries: list[dict[str, Any]]) -> list[str]:
    """What the new audit `entries` fail to say about the change from `before` to `after`."""
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    chains: dict[Key, list[dict[str, Any]]] = defaultdict(list)
    for entry in sorted(entries, key=lambda e: e["id"]):
        chains[(entry["entity"], entry["entity_id"])].append(entry)
    problems = [
        f"{table} #{id_} changed without an audit entry" for table, id_ in sorted(changed - chains.keys())
    ]
    for (table, id_), chain in sorted(chains.items()):
        where = f"{table} #{id_}"
        if (table, id_) not in changed:
            problems.append(f"{where}: audit entries {[e['id'] for e in chain]} but no change")
            continue
        first = chain[0]
        if (table, id_) not in before and first["action"] != "create":
            problems.append(f"{where} is new but its first entry's action is {first['action']!r}")
        if (table, id_) in before and first["action"] not in ("update", "undo"):
            problems.append(f"{where} existed but its first entry's action is {first['action']!r}")
        if _comparable(first["before"]) != _comparable(before.get((table, id_))):
            problems.append(
                f"{where}: entry {first['id']} before={first['before']} != {before.get((table, id_))}"
            )
        for earlier, later in itertools.pairwise(chain):
            if _comparable(earlier["after"]) != _comparable(later["before"]):
                problems.append(f"{where}: entry {earlier['id']}'s after is not entry {later['id']}'s before")
        last = chain[-1]
        if _comparable(last["after"]) != _comparable(after.get((table, id_))):
            problems.append(f"{where}: entry {last['id']} after={last['after']} != {after.get((table, id_))}")
    return problems


def history_rewrites(before: dict[int, dict[str, Any]], after: dict[int, dict[str, Any]]) -> list[str]:
    """Audit rows that were there before a turn and are gone or different after it."""
    return [
        f"audit_log #{id_} was {row}, now {after.get(id_)}"
        for id_, row in before.items()
        if after.get(id_) != row
    ]


@dataclass
class Play:
    """A running random session: the store, the assistant, and the audit log read so far."""

    runtime: Runtime
    bot: Assistant
    users: dict[str, int]

    def turn(self, sender: str, said: str) -> tuple[Rows, Rows, list[dict[str, Any]], list[str]]:
        """One turn: (rows before, rows after, its new audit entries, rewrites of earlier audit rows)."""
        rows, log = crm_rows(self.runtime), audit_rows(self.runtime)
        self.bot.handle(Message("terminal", sender, said, sender_is_email=True))
        rows_after, log_after = crm_rows(self.runtime), audit_rows(self.runtime)
        new = [entry for id_, entry in log_after.items() if id_ not in log]
        return rows, rows_after, new, history_rewrites(log, log_after)


@pytest.fixture
def session(runtime: Runtime) -> Iterator[Play]:
    admin.seed_demo(runtime)
    with runtime.sessions() as db:
        users = {email: db.scalars(select(User.id).where(User.email == email)).one() for email in USERS}
    yield Play(runtime, Assistant(runtime), users)


def test_a_random_session_of_turns_is_audited_completely_and_append_only(session: Play) -> None:
    rng = random.Random(SEED)
    actions: set[str] = set()
    tables: set[str] = set()
    turns = 0
    while turns < TURNS:
        sender = rng.choice(USERS)
        for said in rng.choice(EXCHANGES):
            turns += 1
            before, after, entries, rewritten = session.turn(sender, said)
            context = f"seed {SEED}, turn {turns}, {sender.split('@')[0]}: {said!r}"
            assert not rewritten, f"{context}: earlier audit rows changed: {rewritten}"
            assert not (problems := discrepancies(before, after, entries)), f"{context}: {problems}"
            for entry in entries:
                assert (entry["user_id"], entry["channel"]) == (session.users[sender], "terminal"), context
            actions |= {e["action"] for e in entries}
            tables |= {e["entity"] for e in entries}
    # the session really exercised the log: new records, changes and undos, in several tables
    assert {"create", "update", "undo"} <= actions, f"seed {SEED}: only {actions}"
    assert len(tables) >= 4, f"seed {SEED}: only {tables}"


def test_the_comparison_catches_a_change_made_without_an_audit_entry(session: Play) -> None:
    """Positive control: a write straight through a session, around no Recorder, is reported."""
    before = crm_rows(session.runtime)
    with transaction(session.runtime.sessions) as db:
        deal = db.scalars(select(Deal).order_by(Deal.id).limit(1)).one()
        db.execute(update(Deal).where(Deal.id == deal.id).values(amount=Decimal("1")))
    problems = discrepancies(before, crm_rows(session.runtime), [])
    assert problems == [f"deals #{deal.id} changed without an audit entry"]


def test_the_comparison_catches_an_audit_entry_that_changed_nothing(session: Play) -> None:
    before, log = crm_rows(session.runtime), audit_rows(session.runtime)
    with transaction(session.runtime.sessions) as db:
        deal = db.scalars(select(Deal).order_by(Deal.id).limit(1)).one()
        recorder = Recorder(db, session.users[USERS[0]], "terminal")
        recorder.updated(deal, snapshot(deal), "nothing")  # the recorder itself leaves out a no-op ...
        assert recorder.changes == 0
        recorder._add("update", deal, snapshot(deal), snapshot(deal), "nothing")  # ... forced in here
    entries = [e for id_, e in audit_rows(session.runtime).items() if id_ not in log]
    assert [p.split(":")[0] for p in discrepancies(before, crm_rows(session.runtime), entries)] == [
        f"deals #{deal.id}"
    ]


def test_the_comparison_catches_a_wrong_before_value(session: Play) -> None:
    before, log = crm_rows(session.runtime), audit_rows(session.runtime)
    with transaction(session.runtime.sessions) as db:
        deal = db.scalars(select(Deal).order_by(Deal.id).limit(1)).one()
        claimed = {**snapshot(deal), "stage": "no such stage"}
        deal.amount = Decimal("2")
        Recorder(db, session.users[USERS[0]], "terminal").updated(deal, claimed, "amount")
    entries = [e for id_, e in audit_rows(session.runtime).items() if id_ not in log]
    (problem,) = discrepancies(before, crm_rows(session.runtime), entries)
    assert problem.startswith(f"deals #{deal.id}: entry") and "before=" in problem


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET channel = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_to_change_or_remove_audit_rows(session: Play, statement: str) -> None:
    session.turn(USERS[0], "log call w/ acme re renewal, f/u next tues")
    log = audit_rows(session.runtime)
    assert log
    with (
        pytest.raises(DBAPIError, match="audit_log is append-only"),
        session.runtime.engine.begin() as connection,
    ):
        connection.execute(text(statement))
    assert audit_rows(session.runtime) == log


def test_undo_appends_rows_and_undone_is_derived_from_them(session: Play) -> None:
    daniel = USERS[0]
    _, _, logged, _ = session.turn(daniel, "log call w/ acme re renewal, f/u next tues")
    _, _, undone, rewritten = session.turn(daniel, "undo")
    assert rewritten == []
    (group,) = {e["change_group"] for e in logged}
    assert {(e["action"], e["change_group"]) for e in undone} == {("undo", undo_group(group))}
    assert {(e["entity"], e["entity_id"]) for e in undone} == {(e["entity"], e["entity_id"]) for e in logged}
    with session.runtime.sessions() as db:
        live = db.scalars(select(AuditEntry.change_group).where(AuditEntry.action == "create", not_undone()))
        assert group not in set(live)
    _, _, nothing, _ = session.turn(daniel, "undo")  # the undone group is not undone twice
    assert nothing == []
