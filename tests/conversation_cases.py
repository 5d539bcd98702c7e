"""Conversations kept as data (tests/dialogue/conversations/*.json) and how their store checks are read.

Shared by the engine's own replay (tests/dialogue) and the channels' replays (tests/slack): the same
turns, the same expected replies and store changes, whatever carries them.

**Wrong writes.** Every turn's changes are read from the audit log (records created or changed, and
changes undone; the activity time an activity moves on its account and deal is not counted). A turn
made a wrong write when it changed a record its checks rule out: in a table its checks look for rows
in (`count` of 1 or more, or `has`, with a `where`), a record none of those rows is; in a table its
checks only say `count: 0` of, any record. `"writes": [tables]` says outright
which tables may change, and then a change anywhere else is wrong too.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from assistant.messages import Reply
from assistant.runtime import Runtime
from storage.models import Account, AuditEntry, Base, Contact, User

FILES = sorted((Path(__file__).parent / "dialogue" / "conversations").glob("*.json"))
CASES = [(f.stem, c) for f in FILES for c in json.loads(f.read_text())]
NAMED = {"account": (Account, "account_id"), "contact": (Contact, "contact_id"), "owner": (User, "owner_id"),
         "assignee": (User, "assignee_id"), "user": (User, "user_id")}  # fmt: skip


def table_named(name: str) -> Any:
    return Base.metadata.tables[name]


def where_clauses(session: Any, table: Any, where: dict[str, Any], live_only: bool = True) -> list[Any]:
    live = live_only and "deleted_at" in table.c and "deleted" not in where
    clauses = [table.c.deleted_at.is_(None)] if live else []
    for key, value in where.items():
        if key == "deleted":
            clauses.append(table.c.deleted_at.is_not(None) if value else table.c.deleted_at.is_(None))
        elif key in NAMED:
            model, column = NAMED[key]
            clauses.append(table.c[column] == select(model.id).where(model.name == value).scalar_subquery())
        else:
            clauses.append(table.c[key] == value)
    return clauses


def check_store(runtime: Runtime, checks: list[dict[str, Any]], said: str) -> None:
    with runtime.sessions() as session:
        for check in checks:
            table = table_named(check["table"])
            clauses = where_clauses(session, table, check.get("where", {}))
            if "count" in check:
                n = session.scalar(select(func.count()).select_from(table).where(*clauses))
                assert n == check["count"], f"after {said!r}: {check}"
            if "has" in check:
                row = session.execute(select(table).where(*clauses)).mappings().first()
                assert row is not None, f"after {said!r}: no row for {check}"
                for key, value in check["has"].items():
                    got = row[key]
                    got = float(got) if isinstance(got, Decimal) else got
                    got = got.isoformat() if hasattr(got, "isoformat") else got
                    assert got == value, f"after {said!r}: {check['table']}.{key} is {got!r}, not {value!r}"


Changed = set[tuple[str, int]]  # (table, record id)


def audit_mark(runtime: Runtime) -> int:
    """Where the audit log stands before a turn: its last id (the log is append-only, so what a turn
    changed, undo included, is in the rows after it)."""
    with runtime.sessions() as session:
        return session.scalar(select(func.max(AuditEntry.id))) or 0


TOUCHES = {"last_activity_at", "_what"}  # logging an activity moves its account's and deal's activity time


def changed_since(runtime: Runtime, mark: int) -> Changed:
    """The records the audit log says changed after `mark`; an account or deal whose only change is
    the time of its last activity (the audit records it with the activity) is not a write of its own."""
    with runtime.sessions() as session:
        rows = session.execute(
            select(AuditEntry.entity, AuditEntry.entity_id, AuditEntry.before, AuditEntry.after).where(
                AuditEntry.id > mark
            )
        ).all()
    changed: Changed = set()
    for entity, entity_id, before, after in rows:
        before, after = before or {}, after or {}
        if before and {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)} <= TOUCHES:
            continue
        changed.add((entity, entity_id))
    return changed


def wrong_writes(runtime: Runtime, turn: dict[str, Any], changed: Changed) -> list[str]:
    """What this turn changed that its checks do not expect (see the module's docstring)."""
    checks = turn.get("store", [])
    expected = [c for c in checks if c.get("count", 1) > 0 or "has" in c]
    looked_for = {c["table"] for c in expected}
    if "writes" in turn:
        allowed = set(turn["writes"])
        wrong = [f"{table} #{record}" for table, record in sorted(changed) if table not in allowed]
    else:
        ruled_out = {c["table"] for c in checks} - looked_for
        wrong = [f"{table} #{record}" for table, record in sorted(changed) if table in ruled_out]
    with runtime.sessions() as session:
        for table_name in looked_for:
            named = [c for c in expected if c["table"] == table_name and c.get("where")]
            if not named:
                continue  # the checks name no record: any of the table's may change
            table = table_named(table_name)
            ids: set[int] = set()
            for check in named:
                clauses = where_clauses(session, table, check["where"], live_only=False)
                ids.update(session.scalars(select(table.c.id).where(*clauses)))
            wrong += [f"{t} #{r}" for t, r in sorted(changed) if t == table_name and r not in ids]
    return wrong


def reply_text(reply: Reply) -> str:
    """What a turn's expected fragments are looked for in: the plain reply and its table, row by row."""
    table = reply.table
    rows = [*table.rows, *([table.total] if table.total else [])] if table else []
    return reply.plain + "".join("\n" + " | ".join(row) for row in rows)
