"""Platform payloads as a fuzzer makes them: the keys a platform sends, each missing, of the wrong type,
or holding huge text; and a store whose row counts show whether anything was written."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from sqlalchemy import func, select

from assistant.runtime import Runtime
from storage.models import Base

JUNK: st.SearchStrategy[Any] = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.lists(st.integers(), max_size=3)
    | st.dictionaries(st.text(max_size=5), st.integers(), max_size=3)
)
HUGE = st.integers(4_001, 200_000).map(lambda n: ("log a call with acme " * (n // 20 + 1))[:n])
TEXT = st.text(max_size=300) | HUGE | JUNK
WRITTEN = ("accounts", "contacts", "deals", "activities", "tasks", "audit_log", "tickets", "users")


def row_counts(runtime: Runtime) -> dict[str, int]:
    """Rows per table: compared before and after a payload to see what it wrote."""
    with runtime.sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def records(runtime: Runtime) -> dict[str, int]:
    """The CRM records' row counts, not the conversations' (a message seen is remembered)."""
    counts = row_counts(runtime)
    return {name: counts[name] for name in WRITTEN if name in counts}


def payload(shape: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict with each key of `shape` present (with a value from its strategy, or junk) or missing."""
    return st.fixed_dictionaries({}, optional={key: value | JUNK for key, value in shape.items()})
