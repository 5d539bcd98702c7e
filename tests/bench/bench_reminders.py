"""Benchmark: dispatch N due reminders (default 10,000) through the outbox on PostgreSQL (and SQLite).

Run with `python tests/bench/bench_reminders.py --reminders 10000 --runs 3`. Each run builds a fresh
store with N open tasks already due, times the enqueue pass (what is due -> outbox rows) and then the
dispatch (claim 100 rows per transaction, send on the recording channel, mark sent), checks that each
reminder was delivered exactly once, and prints the median of the runs. Target: dispatch under 10 s
on PostgreSQL.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

from assistant.channels import recording_registry
from assistant.outbox import Dispatcher
from assistant.reminders import Schedule, enqueue_due
from assistant.runtime import Runtime
from storage.models import Delivery, Task, User

USERS = 20


def fresh_url(engine: str, folder: Path, postgres: str) -> tuple[str, tuple[object, str] | None]:
    if engine == "sqlite":
        return f"sqlite:///{folder / f'{uuid.uuid4().hex}.sqlite3'}", None
    name = f"crm_bench_{uuid.uuid4().hex[:8]}"
    admin_engine = create_engine(make_url(postgres), isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    return make_url(postgres).set(database=name).render_as_string(hide_password=False), (admin_engine, name)


def seed(runtime: Runtime, reminders: int) -> None:
    now = runtime.now()
    with runtime.engine.begin() as connection:
        connection.execute(
            insert(User),
            [{"name": f"Rep {i}", "email": f"rep{i}@bench.example", "role": "rep"} for i in range(USERS)],
        )
        ids = list(connection.scalars(select(User.id).order_by(User.id)))
        connection.execute(
            insert(Task),
            [
                {
                    "title": f"Follow up {i}",
                    "due_at": now - timedelta(minutes=1 + i % 600),
                    "due_has_time": True,
                    "status": "open",
                    "assignee_id": ids[i % USERS],
                }
                for i in range(reminders)
            ],
        )


def one_run(url: str, reminders: int, batch: int) -> tuple[float, float]:
    runtime = Runtime(url, ZoneInfo("UTC"))
    runtime.ensure_schema()
    seed(runtime, reminders)
    channels = recording_registry()
    quiet = Schedule(digest_roles=(), weekly_roles=())
    began = time.perf_counter()
    due = enqueue_due(runtime, runtime.now(), quiet, channels)
    enqueued = time.perf_counter() - began
    assert due.enqueued == reminders, due.enqueued
    began = time.perf_counter()
    sent = Dispatcher(runtime, channels, batch=batch).run_once()
    dispatched = time.perf_counter() - began
    with runtime.sessions() as session:
        distinct = session.scalar(select(func.count(func.distinct(Delivery.idempotency_key))))
        total = session.scalar(select(func.count()).select_from(Delivery))
    assert len(sent) == total == distinct == reminders, (len(sent), total, distinct)
    runtime.close()
    return enqueued, dispatched


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=100, help="rows claimed per transaction")
    parser.add_argument("--engines", default="postgresql")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for engine in args.engines.split(","):
            enqueue_times, dispatch_times = [], []
            for _ in range(args.runs):
                url, cleanup = fresh_url(engine, Path(tmp), args.postgres)
                try:
                    enqueued, dispatched = one_run(url, args.reminders, args.batch)
                finally:
                    if cleanup:
                        admin_engine, name = cleanup
                        with admin_engine.connect() as c:  # type: ignore[attr-defined]
                            c.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                        admin_engine.dispose()  # type: ignore[attr-defined]
                enqueue_times.append(enqueued)
                dispatch_times.append(dispatched)
            runs = ", ".join(f"{t:.2f}" for t in dispatch_times)
            print(
                f"dispatch {args.reminders:,} due reminders on {engine} ({args.batch} per claim): "
                f"median {statistics.median(dispatch_times):.2f} s (runs: {runs}); "
                f"enqueue median {statistics.median(enqueue_times):.2f} s"
            )


if __name__ == "__main__":
    main()
