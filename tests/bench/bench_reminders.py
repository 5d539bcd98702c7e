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
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scratch import scratch_database
from sqlalchemy import func, insert, select

from assistant.channels import recording_registry
from assistant.outbox import Dispatcher
from assistant.reminders import Schedule, enqueue_due
from assistant.runtime import Runtime
from storage.models import Delivery, Task, User

USERS = 20


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
                with scratch_database(engine, Path(tmp), args.postgres) as url:
                    enqueued, dispatched = one_run(url, args.reminders, args.batch)
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
