"""Many Slack events at once against a running app: how fast each is acknowledged and answered.

Used by the load test (200 events, every one acknowledged within Slack's 3 s and answered exactly once)
and by `make bench-slack`, which prints the same figures as medians over several runs.
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))

from fake_slack import FakeSlack, dm, event_body, post
from percentiles import percentile
from slack_world import DEMO_STAFF

# what reps and managers ask in a working day: mostly questions, some changes
TURNS = (
    "top deals this month",
    "what's on my plate today",
    "tell me about gringotts",
    "win rate this year",
    "pipeline by stage",
    "forecast this quarter",
    "log a call with Globex",
    "any stale deals?",
)
STAFF = tuple(DEMO_STAFF)


@dataclass(frozen=True)
class LoadResult:
    events: int
    ack_seconds: list[float]  # per event: the HTTP response time
    reply_seconds: list[float]  # per answered event: from sending to the reply reaching Slack
    statuses: Counter[int]
    replies_per_event: Counter[int]  # how many events got 0, 1, 2... replies

    @property
    def answered_once(self) -> bool:
        return self.replies_per_event == Counter({1: self.events})

    def figures(self) -> dict[str, float]:
        return {
            "ack_p50_ms": percentile(self.ack_seconds, 50) * 1000,
            "ack_p99_ms": percentile(self.ack_seconds, 99) * 1000,
            "ack_max_ms": max(self.ack_seconds) * 1000,
            "reply_p50_ms": percentile(self.reply_seconds, 50) * 1000,
            "reply_p99_ms": percentile(self.reply_seconds, 99) * 1000,
        }


def run_load(url: str, fake: FakeSlack, events: int = 200, settle_seconds: float = 120.0) -> LoadResult:
    """Sends `events` DMs at the same moment (one thread each, released together), each in its own DM
    channel so its reply is recognisable, and waits until all are answered or `settle_seconds` pass."""
    start = threading.Barrier(events)
    sent_at: dict[str, float] = {}
    channels = [f"D{n:07d}" for n in range(events)]

    def send(n: int) -> tuple[int, float]:
        event = dm(STAFF[n % len(STAFF)], TURNS[n % len(TURNS)], f"1790000000.{n:06d}", channel=channels[n])
        body = event_body(event, f"EvLoad{n:07d}")
        start.wait()
        sent_at[channels[n]] = time.monotonic()
        answer = post(url, body, "application/json")
        return answer.status, answer.seconds

    before = len(fake.calls)
    with ThreadPoolExecutor(max_workers=events) as pool:
        answers = list(pool.map(send, range(events)))
    wanted = set(channels)
    fake.wait(lambda: wanted <= {c.args.get("channel") for c in fake.calls[before:]}, settle_seconds)
    time.sleep(0.5)  # a second answer to any event would arrive now
    replies = [
        c for c in fake.calls[before:] if c.method == "chat.postMessage" and c.args.get("channel") in wanted
    ]
    per_channel = Counter(c.args["channel"] for c in replies)
    first: dict[str, float] = {}
    for call in replies:
        first.setdefault(call.args["channel"], call.at)
    return LoadResult(
        events=events,
        ack_seconds=[seconds for _, seconds in answers],
        reply_seconds=[first[c] - sent_at[c] for c in channels if c in first],
        statuses=Counter(status for status, _ in answers),
        replies_per_event=Counter(per_channel.get(c, 0) for c in channels),
    )


def summary(figures: list[dict[str, float]]) -> dict[str, float]:
    """Medians over runs, key by key."""
    return {key: round(statistics.median(f[key] for f in figures), 1) for key in figures[0]}


def listening_sockets(port: int) -> set[str]:
    """The inodes of the sockets listening on `port` (IPv4), from /proc/net/tcp: one per process of
    `crm serve --processes N` once each has bound the shared port."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            found.add(inode)
    return found
