"""Conversations kept as data (tests/dialogue/conversations/*.json) and how their store checks are read.

Shared by the engine's own replay (tests/dialogue) and the channels' replays (tests/slack): the same
turns, the same expected replies and store changes, whatever carries them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from assistant.runtime import Runtime
from storage.models import Account, Base, Contact, User

FILES = sorted((Path(__file__).parent / "dialogue" / "conversations").glob("*.json"))
CASES = [(f.stem, c) for f in FILES for c in json.loads(f.read_text())]
NAMED = {"account": (Account, "account_id"), "contact": (Contact, "contact_id"), "owner": (User, "owner_id"),
         "assignee": (User, "assignee_id"), "user": (User, "user_id")}  # fmt: skip


def table_named(name: str) -> Any:
    return Base.metadata.tables[name]


def where_clauses(session: Any, table: Any, where: dict[str, Any]) -> list[Any]:
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
