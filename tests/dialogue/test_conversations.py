"""Conversations as data: each file in conversations/ is turns -> expected reply fragments and store
changes, played against the demo company on SQLite and PostgreSQL (said on Monday 2026-11-23 09:00 UTC).

A turn: {"say": text, "reply": [fragments], "not": [fragments], "intent": name,
         "store": [{"table", "where": {column: value}, "count": n} | {..., "has": {column: value}}]}.
`where` may use "account" / "contact" / "assignee" / "owner" / "user" with a name instead of an id.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from assistant import admin
from assistant.engine import Assistant
from assistant.messages import Message
from assistant.runtime import Runtime
from storage.models import Account, Base, Contact, User

FILES = sorted(Path(__file__).with_name("conversations").glob("*.json"))
CASES = [(f.stem, c) for f in FILES for c in json.loads(f.read_text())]
NAMED = {"account": (Account, "account_id"), "contact": (Contact, "contact_id"), "owner": (User, "owner_id"),
         "assignee": (User, "assignee_id"), "user": (User, "user_id")}  # fmt: skip


@pytest.fixture
def assistant(runtime: Runtime) -> Iterator[Assistant]:
    admin.seed_demo(runtime)
    bot = Assistant(runtime)
    yield bot


def _table(name: str) -> Any:
    return Base.metadata.tables[name]


def _where(session: Any, table: Any, where: dict[str, Any]) -> list[Any]:
    clauses = [table.c.deleted_at.is_(None)] if "deleted_at" in table.c and "deleted" not in where else []
    for key, value in where.items():
        if key == "deleted":
            clauses.append(table.c.deleted_at.is_not(None) if value else table.c.deleted_at.is_(None))
        elif key in NAMED:
            model, column = NAMED[key]
            clauses.append(table.c[column] == select(model.id).where(model.name == value).scalar_subquery())
        else:
            clauses.append(table.c[key] == value)
    return clauses


def _check_store(runtime: Runtime, checks: list[dict[str, Any]], said: str) -> None:
    with runtime.sessions() as session:
        for check in checks:
            table = _table(check["table"])
            clauses = _where(session, table, check.get("where", {}))
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


@pytest.mark.parametrize("name,case", CASES, ids=[f"{n}: {c['name']}" for n, c in CASES])
def test_conversation(assistant: Assistant, runtime: Runtime, name: str, case: dict[str, Any]) -> None:
    customer = case.get("customer", False)
    for turn in case["turns"]:
        reply = assistant.handle(Message("terminal", case["as"], turn["say"], customer=customer))
        rows = [*reply.table.rows, *([reply.table.total] if reply.table.total else [])] if reply.table else []
        text = reply.plain + "".join("\n" + " | ".join(row) for row in rows)
        for fragment in turn.get("reply", []):
            assert fragment.lower() in text.lower(), f"{turn['say']!r} -> {text!r} lacks {fragment!r}"
        for fragment in turn.get("not", []):
            assert fragment.lower() not in text.lower(), f"{turn['say']!r} -> {text!r} has {fragment!r}"
        if "intent" in turn:
            assert reply.intent == turn["intent"], f"{turn['say']!r}: {reply.intent}"
        _check_store(runtime, turn.get("store", []), turn["say"])
