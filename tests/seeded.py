"""The demo company, seeded once per engine and clock in a test run and copied into each test's store.

`admin.seed_demo` takes from a third of a second to a second a store; hundreds of tests start from the
demo company. `seed_demo(runtime)` seeds the first store of each engine (and `now`) with it, keeps a copy
and copies it into every later store: the same rows, ids and sequences, in a few milliseconds. Only the
wall-clock times the import stamps (`created_at` of users, accounts, contacts, articles) are those of the
first seeding, minutes earlier at most.

SQLite: the seeded file itself, copied over the test's file. PostgreSQL: each table's rows in COPY's
binary format and each sequence's position, written back into the run's emptied database.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from assistant import admin
from assistant.runtime import Runtime
from storage import demo_seed
from storage.models import Base


@dataclass(frozen=True)
class _PostgresSnapshot:
    tables: list[tuple[str, bytes]]  # (table, its rows as COPY ... (FORMAT binary) wrote them)
    triggered: list[str]  # tables with triggers of ours (deals keeps deal_totals): off while copying
    sequences: list[tuple[str, int, bool]]  # (sequence, last_value, is_called)


_sqlite_files: dict[str, Path] = {}
_postgres_snapshots: dict[tuple[str, str], _PostgresSnapshot] = {}
_folder: Path | None = None


def seed_demo(runtime: Runtime) -> None:
    """Fills the runtime's empty store with the demo company, exactly as `admin.seed_demo` does."""
    runtime.ensure_schema()
    with runtime.sessions() as session:
        assert demo_seed.is_empty(session), "seed_demo fills an empty store only"
    if runtime.fixed_now is None:  # a running clock: no two seedings are alike
        assert admin.seed_demo(runtime) is not None
        return
    backend = make_url(runtime.database_url).get_backend_name()
    clock = f"{runtime.now().isoformat()} {runtime.tz}"  # the demo's dates are drawn around now, in tz
    if backend == "sqlite":
        _seed_sqlite(runtime, clock)
    elif backend == "postgresql":
        _seed_postgres(runtime, clock)
    else:
        raise AssertionError(f"no demo copy for {backend}")


def _seed_sqlite(runtime: Runtime, clock: str) -> None:
    database = make_url(runtime.database_url).database
    assert database, runtime.database_url
    path = Path(database)
    runtime.close()  # the last connection to close checkpoints the WAL: the file is the whole store
    for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        extra.unlink(missing_ok=True)
    seeded = _sqlite_files.get(clock)
    if seeded is None:
        seeded = _temporary_folder() / f"demo-{len(_sqlite_files)}.sqlite3"
        shutil.copyfile(path, seeded)
        first = Runtime(f"sqlite:///{seeded}", runtime.tz, runtime.fixed_now)
        assert admin.seed_demo(first) is not None
        first.close()
        _sqlite_files[clock] = seeded
    shutil.copyfile(seeded, path)


def _seed_postgres(runtime: Runtime, clock: str) -> None:
    key = (runtime.database_url, clock)
    snapshot = _postgres_snapshots.get(key)
    if snapshot is None:
        assert admin.seed_demo(runtime) is not None
        _postgres_snapshots[key] = _take_snapshot(runtime)
        return
    raw = runtime.engine.raw_connection()
    try:
        cursor: Any = raw.cursor()
        for table in snapshot.triggered:
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        for table, rows in snapshot.tables:
            with cursor.copy(f'COPY "{table}" FROM STDIN (FORMAT binary)') as copy:
                copy.write(rows)
        for table in snapshot.triggered:
            cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
        for sequence, last_value, is_called in snapshot.sequences:
            cursor.execute("SELECT setval(%s::regclass, %s, %s)", (sequence, last_value, is_called))
        raw.commit()
    finally:
        raw.close()


def _take_snapshot(runtime: Runtime) -> _PostgresSnapshot:
    tables: list[tuple[str, bytes]] = []
    raw = runtime.engine.raw_connection()
    try:
        cursor: Any = raw.cursor()
        for table in Base.metadata.sorted_tables:
            with cursor.copy(f'COPY "{table.name}" TO STDOUT (FORMAT binary)') as copy:
                rows = b"".join(bytes(block) for block in copy)
            tables.append((table.name, rows))
        raw.commit()
    finally:
        raw.close()
    with runtime.engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT format('%I.%I', schemaname, sequencename), last_value, start_value FROM pg_sequences"
                " WHERE schemaname = current_schema() ORDER BY 1"
            )
        ).all()
        triggered = connection.scalars(
            text(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
                " WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace ORDER BY 1"
            )
        ).all()
    sequences = [  # a sequence never used since the emptying restarted it stays at its start
        (name, last, True) if last is not None else (name, start, False) for name, last, start in found
    ]
    return _PostgresSnapshot(tables, list(triggered), sequences)


def _temporary_folder() -> Path:
    global _folder
    if _folder is None:
        _folder = Path(tempfile.mkdtemp(prefix="crm-demo-"))
        atexit.register(shutil.rmtree, _folder, True)
    return _folder
