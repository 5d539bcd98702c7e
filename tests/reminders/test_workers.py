"""Exactly once with real processes: two workers run the dispatch loop against PostgreSQL over 1,000 due
reminders, one is killed with SIGKILL mid-run, and every reminder is delivered exactly once (the rows
the dead worker held are taken over after its 2-second lease)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from assistant.channels import recording_registry
from assistant.reminders import Schedule, enqueue_due
from assistant.runtime import Runtime
from storage.db import transaction
from storage.models import Base, Delivery, OutboxMessage, Task, User

REMINDERS = 1000
WORKER = Path(__file__).with_name("worker_process.py")
ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 90.0


@pytest.fixture
def store(postgres_url: str) -> Iterator[Runtime]:
    """The run's PostgreSQL database, emptied, on the real clock (the workers run on it too)."""
    runtime = Runtime(postgres_url, ZoneInfo("UTC"))
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with runtime.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield runtime
    runtime.close()


def start(url: str, worker: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(WORKER), url, worker, "--lease", "2", "--batch", "20", "--delay", "0.004"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def scalar(runtime: Runtime, query: object) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_one_killed_deliver_every_reminder_exactly_once(store: Runtime) -> None:
    now = store.now()
    with transaction(store.sessions) as session:
        users = [User(name=f"Rep {i}", email=f"rep{i}@example.test", role="rep") for i in range(10)]
        session.add_all(users)
        session.flush()
        session.add_all(
            Task(title=f"Task {i}", due_at=now - timedelta(minutes=1), assignee_id=users[i % 10].id)
            for i in range(REMINDERS)
        )
    quiet = Schedule(digest_roles=(), weekly_roles=())
    assert enqueue_due(store, now, quiet, recording_registry()).enqueued == REMINDERS

    doomed = start(store.database_url, "doomed")
    survivor = start(store.database_url, "survivor")
    try:
        delivered = select(func.count()).select_from(Delivery)
        holds = select(func.count()).where(
            OutboxMessage.claimed_by == "doomed",
            OutboxMessage.status == "pending",
            OutboxMessage.lease_until.is_not(None),
        )
        wait_for(
            lambda: scalar(store, delivered) >= REMINDERS // 4 and scalar(store, holds) > 0, "a busy worker"
        )
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        killed_at = time.monotonic()

        sent = select(func.count()).where(OutboxMessage.status == "sent")
        wait_for(lambda: scalar(store, sent) == REMINDERS, "every reminder to be sent")
        finished_after = time.monotonic() - killed_at
    finally:
        for process in (doomed, survivor):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=20)

    with store.sessions() as session:
        per_key = dict(
            session.execute(
                select(Delivery.idempotency_key, func.count()).group_by(Delivery.idempotency_key)
            ).all()
        )
        by_worker = dict(
            session.execute(select(Delivery.worker, func.count()).group_by(Delivery.worker)).all()
        )
        reclaimed = session.scalar(select(func.count()).where(OutboxMessage.attempts > 1))
        keys = set(session.scalars(select(OutboxMessage.idempotency_key)))
    assert len(per_key) == REMINDERS and set(per_key.values()) == {1}, "a reminder was lost or doubled"
    assert set(per_key) == keys
    assert by_worker.get("doomed", 0) > 0 and by_worker.get("survivor", 0) > 0, by_worker
    assert sum(by_worker.values()) == REMINDERS
    assert reclaimed and reclaimed > 0, "the killed worker held no rows: nothing was reclaimed"
    print(
        f"\nworkers: {by_worker}, reclaimed after the lease: {reclaimed}, "
        f"all sent {finished_after:.1f} s after the kill"
    )
