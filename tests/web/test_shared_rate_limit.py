"""The web chat's rate limit kept in the store: one bucket per visitor for every process on the database,
the same burst-then-rate as the in-process bucket, and the last message of a burst given out once even
when processes race for it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from assistant.limits import SHARED_PREFIX, SharedRateLimiter, bucket_name
from assistant.runtime import Runtime
from storage.models import ChannelCursor

START = 1_800_000_000.0  # the wall clock, in seconds


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def buckets(runtime: Runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        rows = session.execute(select(ChannelCursor.name, ChannelCursor.value)).all()
    return {name: value for name, value in rows if name.startswith(SHARED_PREFIX)}


def test_two_processes_count_against_one_bucket(runtime: Runtime) -> None:
    clock = Clock()
    first, second = (SharedRateLimiter(runtime, burst=3, per_second=0.5, clock=clock) for _ in range(2))
    assert [(first, second)[n % 2].allow("web", "v-a") for n in range(4)] == [True, True, True, False]
    assert second.wait("web", "v-a") == pytest.approx(2.0)  # one message every two seconds
    assert first.allow("web", "v-b")  # another visitor has a bucket of their own
    clock.now += 1.0
    assert first.wait("web", "v-a") == pytest.approx(1.0)  # half a message earned
    clock.now += 1.0
    assert second.allow("web", "v-a") and not first.allow("web", "v-a")
    clock.now += 3600
    assert [second.allow("web", "v-a") for _ in range(4)] == [True, True, True, False]  # full, not more


def test_racing_processes_give_out_the_burst_once(runtime: Runtime) -> None:
    limiters = [SharedRateLimiter(runtime, burst=5, per_second=0.001) for _ in range(4)]
    start = threading.Barrier(20)

    def send(n: int) -> bool:
        start.wait(timeout=30)
        return limiters[n % 4].allow("web", "v-racer")

    with ThreadPoolExecutor(20) as pool:
        assert sum(pool.map(send, range(20))) == 5


def test_buckets_full_again_are_swept_and_long_identities_fit(runtime: Runtime) -> None:
    clock = Clock()
    limiter = SharedRateLimiter(runtime, burst=2, per_second=1.0, clock=clock)
    long_sender = "x" * 300
    for sender in ("v-gone", long_sender):
        assert limiter.allow("slack", sender)
    assert set(buckets(runtime)) == {"rate:slack:v-gone", bucket_name("slack", long_sender)}
    longer = bucket_name("slack", long_sender + "y")
    assert len(longer) <= 100 and longer != bucket_name("slack", long_sender)
    clock.now += 3600  # both full again long ago, and time for a sweep
    assert limiter.allow("slack", "v-new")
    assert set(buckets(runtime)) == {"rate:slack:v-new"}


def test_an_unreachable_store_lets_the_message_through_to_its_turn() -> None:
    nowhere = Runtime(f"postgresql+psycopg://postgres@127.0.0.1:1/{uuid4().hex}", ZoneInfo("UTC"))
    try:
        assert SharedRateLimiter(nowhere, burst=1, per_second=1.0).wait("web", "v-a") == 0.0
    finally:
        nowhere.close()
