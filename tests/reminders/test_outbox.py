"""The outbox's promises on SQLite and PostgreSQL: an occurrence is enqueued once, sent once by whichever
worker holds it, retried with backoff when its channel fails (never dropped), and taken over by another
worker once a dead worker's lease has run out."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from reminder_world import Network, World
from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.channels import ChannelError, Outgoing, Registry, StoreChannel
from assistant.messages import Reply
from assistant.outbox import BACKOFF_MAX, Dispatcher, Item, backoff, enqueue
from assistant.runtime import Runtime
from storage.db import transaction
from storage.models import OutboxMessage

T0 = datetime.fromisoformat("2026-11-23T09:00:00+00:00")


def items(world: World, n: int, prefix: str = "test", channel: str = "recording") -> list[Item]:
    user = world.user(f"Rep {prefix}")
    return [
        Item(
            f"{prefix}:{i}", "reminder", user, channel, f"rep.{prefix}@example.test", Reply(f"hello {i}"), T0
        )
        for i in range(n)
    ]


def put(runtime: Runtime, batch: list[Item]) -> int:
    with transaction(runtime.sessions) as session:
        return enqueue(session, batch)


def rows(runtime: Runtime) -> list[OutboxMessage]:
    with runtime.sessions() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@dataclass
class Flaky(StoreChannel):
    """Fails its first `failures` sends (and the keys in `bad`), then records like the real channel."""

    name: str = "recording"
    failures: int = 0
    bad: set[str] = field(default_factory=set)
    calls: int = 0

    def deliver(self, message: Outgoing, session: Session) -> None:
        self.calls += 1
        if self.calls <= self.failures or message.key in self.bad:
            raise ChannelError("platform said 503")
        super().deliver(message, session)


def registry_of(channel: Flaky) -> Registry:
    registry = Registry(fallback=channel.name)
    registry.register(channel)
    return registry


def test_enqueue_is_idempotent(world: World) -> None:
    batch = items(world, 5)
    assert put(world.runtime, batch) == 5
    assert put(world.runtime, batch) == 0
    assert put(world.runtime, [*batch, *items(world, 2, "more")]) == 2
    assert len(rows(world.runtime)) == 7


def test_each_row_is_sent_once_and_marked(world: World) -> None:
    put(world.runtime, items(world, 250))
    sent = world.dispatcher(lambda: T0, batch=100).run_once()
    assert len(sent) == 250 and {s.channel for s in sent} == {"recording"}
    assert set(world.delivered_keys().values()) == {1} and len(world.delivered_keys()) == 250
    assert all(r.status == "sent" and r.sent_at == T0 and r.attempts == 1 for r in rows(world.runtime))
    assert world.dispatcher(lambda: T0).run_once() == []


def test_a_failed_send_is_retried_with_backoff_and_never_dropped(world: World) -> None:
    put(world.runtime, items(world, 1))
    flaky = Flaky(failures=2)
    clock = [T0]
    worker = Dispatcher(world.runtime, registry_of(flaky), clock=lambda: clock[0])

    assert worker.run_once() == []
    (row,) = rows(world.runtime)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, T0 + timedelta(seconds=30))
    assert row.last_error == "ChannelError: platform said 503" and row.lease_until is None

    clock[0] = T0 + timedelta(seconds=29)
    assert worker.run_once() == [] and flaky.calls == 1  # not before its time
    clock[0] = T0 + timedelta(seconds=30)
    assert worker.run_once() == []
    (row,) = rows(world.runtime)
    assert row.attempts == 2 and row.next_attempt_at == clock[0] + timedelta(seconds=60)

    clock[0] += timedelta(seconds=60)
    assert [s.key for s in worker.run_once()] == ["test:0"]
    (row,) = rows(world.runtime)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert world.delivered_keys() == {"test:0": 1}


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(30) == backoff(10_000) == BACKOFF_MAX == timedelta(hours=1)


def test_a_row_that_keeps_failing_stays_pending(world: World) -> None:
    put(world.runtime, items(world, 1))
    flaky = Flaky(failures=10**6)
    clock = [T0]
    worker = Dispatcher(world.runtime, registry_of(flaky), clock=lambda: clock[0])
    for _ in range(15):
        worker.run_once()
        clock[0] += BACKOFF_MAX
    (row,) = rows(world.runtime)
    assert row.status == "pending" and row.attempts == 15 and row.last_error
    assert world.delivered() == []


def test_one_bad_row_does_not_hold_back_its_batch(world: World) -> None:
    put(world.runtime, items(world, 5))
    flaky = Flaky(bad={"test:2"})
    sent = Dispatcher(world.runtime, registry_of(flaky), clock=lambda: T0).run_once()
    assert sorted(s.key for s in sent) == ["test:0", "test:1", "test:3", "test:4"]
    assert {r.idempotency_key: r.status for r in rows(world.runtime)}["test:2"] == "pending"
    assert set(world.delivered_keys().values()) == {1}


def test_a_dead_workers_rows_are_reclaimed_after_its_lease(world: World) -> None:
    put(world.runtime, items(world, 3))
    dead = world.dispatcher(lambda: T0, lease=timedelta(seconds=60), worker="dead")
    claimed = dead.claim()  # ... and the worker dies before sending
    assert len(claimed) == 3
    assert all(
        r.claimed_by == "dead" and r.lease_until == T0 + timedelta(seconds=60) for r in rows(world.runtime)
    )

    alive = world.dispatcher(lambda: T0 + timedelta(seconds=59), worker="alive")
    assert alive.run_once() == []  # the lease still holds
    alive.clock = lambda: T0 + timedelta(seconds=60)
    assert len(alive.run_once()) == 3
    assert all(r.attempts == 2 and r.claimed_by == "alive" for r in rows(world.runtime))

    assert dead.send(claimed) == []  # a worker that was only slow cannot send what another one took
    assert world.delivered_keys() == {"test:0": 1, "test:1": 1, "test:2": 1}
    assert {d.worker for d in world.delivered()} == {"alive"}


def test_rows_of_a_channel_this_worker_lacks_are_left_for_another(world: World) -> None:
    put(world.runtime, items(world, 2, channel="slack"))
    assert world.dispatcher(lambda: T0).run_once() == []
    assert [r.attempts for r in rows(world.runtime)] == [0, 0]


def test_concurrent_workers_deliver_each_row_once(world: World) -> None:
    """Threads here; real processes and a SIGKILL in test_workers.py."""
    put(world.runtime, items(world, 300))
    runtimes = [Runtime(world.runtime.database_url, world.runtime.tz, T0) for _ in range(3)]
    workers = [Dispatcher(rt, world.channels, batch=10, worker=f"w{i}") for i, rt in enumerate(runtimes)]
    errors: list[BaseException] = []

    def work(worker: Dispatcher) -> None:
        try:
            worker.run_once()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for rt in runtimes:
        rt.close()
    assert not errors
    keys = world.delivered_keys()
    assert len(keys) == 300 and set(keys.values()) == {1}
    assert all(r.status == "sent" for r in rows(world.runtime))


def test_a_network_channel_is_sent_then_marked_and_retried(world: World) -> None:
    put(world.runtime, items(world, 2))
    network = Network(fail_first=True)
    registry = Registry(fallback="recording")
    registry.register(network)
    clock = [T0]
    worker = Dispatcher(world.runtime, registry, clock=lambda: clock[0])
    assert [s.key for s in worker.run_once()] == ["test:1"]
    clock[0] += timedelta(seconds=30)
    assert [s.key for s in worker.run_once()] == ["test:0"]
    assert network.keys == ["(failed)", "test:1", "test:0"]
    assert all(r.status == "sent" for r in rows(world.runtime))


def test_a_network_send_after_the_lease_is_at_least_once_with_its_key(world: World) -> None:
    """The documented limit: a platform send and the store cannot commit together, so a worker that
    outlived its lease may repeat a send; the repeat carries the same key for the platform to drop."""
    put(world.runtime, items(world, 1))
    network = Network()
    registry = Registry(fallback="recording")
    registry.register(network)
    slow = Dispatcher(world.runtime, registry, clock=lambda: T0, worker="slow")
    claimed = slow.claim()
    other = Dispatcher(world.runtime, registry, clock=lambda: T0 + timedelta(minutes=2), worker="other")
    assert len(other.run_once()) == 1
    assert slow.send(claimed) == []  # sent, but not marked: the row is the other worker's
    assert network.keys == ["test:0", "test:0"]
    (row,) = rows(world.runtime)
    assert row.status == "sent" and row.claimed_by == "other"
