"""How a synthetic store is written: Core executemany in batches, parents first, not the ORM (100,000 deals
must build in seconds and 1,000,000 in minutes), then PostgreSQL's sequences and statistics put right."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, insert, text

from storage.models import Account, Activity, Contact, Deal, Task, User

BATCH = 5_000  # rows per executemany: big enough to amortise the round trip, small enough for memory


class Writer:
    """Buffers rows per table and writes them parents first, one executemany per table and batch."""

    ORDER = (User, Account, Contact, Deal, Activity, Task)

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.rows: dict[type, list[dict[str, Any]]] = {model: [] for model in self.ORDER}

    def add(self, model: type, rows: list[dict[str, Any]]) -> None:
        self.rows[model].extend(rows)

    def pending(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def flush(self) -> None:
        for model in self.ORDER:
            rows = self.rows[model]
            for chunk in _chunks(rows, BATCH):
                self.connection.execute(insert(model), chunk)
            rows.clear()


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def after_bulk_load(connection: Connection) -> None:
    """PostgreSQL: sequences past the ids written here, and fresh planner statistics.

    Autovacuum would analyse the new rows eventually; a benchmark that starts a second later would
    otherwise measure plans made for empty tables (`db.settle` vacuums too, after the commit).
    SQLite keeps no statistics unless asked (the product never runs ANALYZE), so it is measured as a
    real SQLite store is.
    """
    if connection.dialect.name != "postgresql":
        return
    for table in ("users", "accounts", "contacts", "deals", "activities", "tasks"):
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        )
    connection.execute(text("ANALYZE"))
