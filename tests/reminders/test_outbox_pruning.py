"""The outbox stops growing: a sent row is deleted once nothing needs it, a batch per transaction, on
SQLite and PostgreSQL. Never a row still to send (pending, failing), never one a store delivery refers
to, and never one whose key a pass may still work out again: that key is what keeps a digest or a
stale-deal alert from going out twice."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from reminder_world import NOW, Network, World
from sqlalchemy import event, select

from assistant import inbox
from assistant.channels import Registry, terminal_channel
from assistant.messages import Reply
from assistant.outbox import KEEP, KEEP_ENV, PRUNE_EVERY, Item, enqueue, keep_from_env
from assistant.reminders import Schedule, rederived_for, run_due, run_scheduler
from assistant.runtime import Runtime
from storage.db import transaction
from storage.models import OutboxMessage

SCHEDULE = Schedule()  # stale-deal alerts every 14 days of quiet
REDERIVED = rederived_for(SCHEDULE)  # 15 days
DAY = timedelta(days=1)
REPS = itertools.count(1)


def network_world(runtime: Runtime) -> tuple[World, Network]:
    """Everyone routed to a platform channel: its sends leave no delivery row behind in the store."""
    network = Network()
    registry = Registry(fallback=network.name)
    registry.register(network)
    registry.register(terminal_channel())
    return World(runtime, registry), network


def due(world: World, ages: dict[str, timedelta], channel: str = "recording") -> None:
    """Occurrences that fell due `age` before NOW, named by their keys."""
    user = world.user(f"Rep {next(REPS)}")
    items = [
        Item(key, "reminder", user, channel, "rep@example.test", Reply(key), NOW - age)
        for key, age in ages.items()
    ]
    with transaction(world.runtime.sessions) as session:
        enqueue(session, items)


def keys(runtime: Runtime) -> set[str]:
    with runtime.sessions() as session:
        return set(session.scalars(select(OutboxMessage.idempotency_key)))


def test_a_sent_row_goes_once_kept_long_enough_and_a_row_still_to_send_never(runtime: Runtime) -> None:
    world, network = network_world(runtime)
    network.fail_first = True
    due(world, {"failing for 40 days": 40 * DAY, "sent 16 days ago": 16 * DAY, "sent 14 days ago": 14 * DAY})
    due(world, {"sent yesterday": DAY, "due tomorrow": -DAY})
    due(world, {"waits for a Slack worker": 40 * DAY}, channel="slack")
    due(world, {"in the terminal's inbox": 40 * DAY}, channel="terminal")
    world.dispatcher(lambda: NOW).run_once()
    assert network.keys == ["(failed)", "sent 16 days ago", "sent 14 days ago", "sent yesterday"]

    assert world.dispatcher(lambda: NOW, keep=20 * DAY).prune(REDERIVED, batches=10) == 0
    assert world.dispatcher(lambda: NOW, keep=KEEP).prune(REDERIVED, batches=10) == 1
    assert keys(runtime) == {
        "failing for 40 days",
        "sent 14 days ago",  # a pass may still work its key out: kept 15 days, not 7
        "sent yesterday",
        "due tomorrow",
        "waits for a Slack worker",
        "in the terminal's inbox",  # its delivery refers to it
    }


def test_an_answered_message_goes_a_week_after_it_was_received(runtime: Runtime) -> None:
    """Inbound rows are on the real clock, whatever the business clock says."""
    inbox.receive(runtime, "slack", "D1:1", {"text": "hi"})
    inbox.receive(runtime, "slack", "D1:2", {"text": "hello?"})
    inbox.done_many(runtime, "slack", ["D1:1"])  # D1:2's process died before answering: still pending
    received = datetime.now(UTC)
    world, _ = network_world(runtime)

    assert world.dispatcher(lambda: received + 6 * DAY).prune(REDERIVED, batches=10) == 0
    assert world.dispatcher(lambda: received + KEEP + DAY).prune(REDERIVED, batches=10) == 1
    assert keys(runtime) == {"inbound:slack:D1:2"}


def test_a_digest_or_an_alert_the_pass_still_works_out_is_not_sent_twice(runtime: Runtime) -> None:
    world, network = network_world(runtime)
    dana = world.user("Dana Rep")
    acme = world.account("Acme", dana)
    world.deal(
        "Acme renewal", acme, dana, last_activity=NOW - 14 * DAY - timedelta(hours=1), created=NOW - 60 * DAY
    )
    sent = [s.key for s in world.run(NOW, SCHEDULE)]
    assert sorted(k.split(":")[0] for k in sent) == ["digest", "stale"]

    tonight = NOW + timedelta(hours=12)  # still Monday, still in the deal's first 14 quiet days
    hourly = world.dispatcher(lambda: tonight, keep=timedelta(hours=1))
    assert hourly.prune(REDERIVED, batches=10) == 0
    assert world.run(tonight, SCHEDULE) == []

    # were their rows pruned as soon as they were sent, the pass would send both again
    assert hourly.prune(timedelta(0), batches=10) == 2
    assert sorted(s.key for s in world.run(tonight, SCHEDULE)) == sorted(sent)
    assert network.keys == sent * 2


def test_a_batch_per_transaction(runtime: Runtime) -> None:
    world, _ = network_world(runtime)
    due(world, {f"old {i}": 20 * DAY for i in range(25)})
    world.dispatcher(lambda: NOW).run_once()
    worker = world.dispatcher(lambda: NOW, prune_batch=10)
    deletes: list[str] = []

    def seen(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE"):
            deletes.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", seen)
    try:
        assert worker.prune(REDERIVED, batches=1) == 10
        assert worker.prune(REDERIVED, batches=5) == 15  # and stops at the first batch not full
    finally:
        event.remove(runtime.engine, "before_cursor_execute", seen)
    assert len(deletes) == 3
    assert keys(runtime) == set()


def test_a_worker_prunes_now_and_then_and_a_backlog_round_by_round(runtime: Runtime) -> None:
    world, _ = network_world(runtime)
    clock = [NOW]
    worker = world.dispatcher(lambda: clock[0], prune_batch=1)
    due(world, {f"old {i}": 20 * DAY for i in range(12)})
    worker.run_once()

    assert worker.prune_now_and_then(REDERIVED) == 10  # a round prunes ten batches at most
    assert worker.prune_now_and_then(REDERIVED) == 2  # a backlog is left: the next round carries on
    due(world, {f"later {i}": 20 * DAY for i in range(3)})
    worker.run_once()
    assert worker.prune_now_and_then(REDERIVED) == 0  # caught up: not again for a while
    clock[0] += PRUNE_EVERY
    assert worker.prune_now_and_then(REDERIVED) == 3


class OneRound(threading.Event):
    """A stop event the scheduler's first wait sets: `run_scheduler` makes exactly one round."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


def test_a_scheduler_round_sends_what_is_due_then_prunes(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    world, network = network_world(runtime)
    due(world, {"three weeks late": 21 * DAY})
    dispatcher = world.dispatcher(lambda: NOW)
    delivered = run_scheduler(
        runtime, OneRound(), channels=world.channels, dispatcher=dispatcher, enqueue_items=False
    )
    assert delivered == 1
    assert network.keys == ["three weeks late"] and keys(runtime) == set()
    assert "round failed" not in caplog.text


def test_a_cron_run_sends_what_is_due_then_prunes(runtime: Runtime) -> None:
    """`crm reminders run` from cron is the only scheduler some stores have: it prunes too."""
    world, network = network_world(runtime)
    due(world, {"three weeks late": 21 * DAY})
    sent = run_due(
        runtime, channels=world.channels, schedule=SCHEDULE, dispatcher=world.dispatcher(lambda: NOW)
    )
    assert "three weeks late" in [s.key for s in sent] and "three weeks late" in network.keys
    assert "three weeks late" not in keys(runtime), "sent three weeks ago: pruned in the same run"
    assert all(key.startswith("digest:") for key in keys(runtime)), "what the run sent today is kept"


def test_how_long_sent_rows_are_kept_is_a_setting(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert keep_from_env() == KEEP == timedelta(days=7)
    monkeypatch.setenv(KEEP_ENV, "2.5")
    assert keep_from_env() == timedelta(days=2.5)
    monkeypatch.setenv(KEEP_ENV, "a week")
    assert keep_from_env() == KEEP
    assert "CRM_OUTBOX_KEEP_DAYS='a week' is not a positive number of days" in caplog.text
