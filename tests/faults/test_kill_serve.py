"""kill -9 `crm serve` in the middle of turns and reminder dispatch, on SQLite and PostgreSQL, restart it,
and nothing is half-written, nothing lost, nothing sent twice.

A real `crm serve --slack` process (HTTP mode, scheduler every 0.2 s) runs against the fake Slack. The
test plays Slack's Events API: each DM ("log a call with Globex: fault-N", a write) is posted to the
app, and posted again, marked as a retry, until the app acknowledges it within 3 s, as Slack does.
Round after round the process is killed with SIGKILL at a moment a seeded random generator picks (after
a random pause, or once the fake saw a random number of posts, when the round's other turns are
acknowledged and under way), then started again. A last
round runs undisturbed until everything is answered and sent. Then:

- every turn is wholly applied, with its audit entry, exactly once: one activity per message, and the
  audit log's activity entries are exactly the activities in the store;
- every message got exactly one reply in its DM;
- every due reminder is in its DM exactly once (chat.postMessage counted per outbox key).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fake_slack import BOT_TOKEN, SIGNING_SECRET, FakeSlack, dm, event_body, post, posted_keys
from slack_world import PEOPLE
from sqlalchemy import func, select
from test_slack_serve import free_port

from adapters.slack.channel import METADATA_EVENT
from assistant import admin
from assistant.runtime import Runtime
from storage.db import transaction
from storage.models import Activity, AuditEntry, ChannelIdentity, OutboxMessage, Task

CRM = [sys.executable, "-c", "from adapters.cli.main import main; raise SystemExit(main())"]
SEED = int(os.environ.get("CRM_FAULT_SEED", "16"))  # another seed explores other moments
ROUNDS = int(os.environ.get("CRM_FAULT_ROUNDS", "4"))  # killed rounds; a last one runs to the end
MESSAGES_PER_ROUND = 12
EXTRA_TASKS = 24  # due reminders beside the demo's, spread over the staff
STAFF = ["U0DEMO002", "U0DEMO003", "U0DEMO004", "U0DEMO005", "U0DEMO006", "U0DEMO007"]
ACK_SECONDS = 3.0  # Slack retries an event it saw no acknowledgement of within 3 s
SETTLE_SECONDS = 45.0
FAULT = re.compile(r"\bfault-(\d+)\b")


@dataclass
class EventsApi:
    """Slack's side of the Events API: every event is delivered until the app acknowledges it in time."""

    url: str
    bodies: dict[str, str] = field(default_factory=dict)
    acked: set[str] = field(default_factory=set)
    tries: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, event_id: str, user: str, text: str, ts: str) -> None:
        self.bodies[event_id] = event_body(dm(user, text, ts, channel=f"D{user}"), event_id)

    def pending(self) -> list[str]:
        with self.lock:
            return [e for e in self.bodies if e not in self.acked]

    def deliver(self, event_ids: list[str]) -> list[threading.Thread]:
        """Posts each event on its own thread, as Slack does; returns the threads."""
        threads = [threading.Thread(target=self._deliver, args=(e,), daemon=True) for e in event_ids]
        for thread in threads:
            thread.start()
        return threads

    def _deliver(self, event_id: str) -> None:
        with self.lock:
            retry = self.tries[event_id]
            self.tries[event_id] += 1
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "timeout"} if retry else {}
        try:
            answer = post(
                self.url, self.bodies[event_id], "application/json", headers=headers, timeout=ACK_SECONDS
            )
        except OSError:  # refused, reset, timed out: the process is gone or too slow
            return
        if answer.status == 200 and answer.seconds <= ACK_SECONDS:
            with self.lock:
                self.acked.add(event_id)


@dataclass
class Serve:
    """One `crm serve --slack` process."""

    process: subprocess.Popen[str]
    port: int

    @classmethod
    def start(cls, database_url: str, fake: FakeSlack, port: int) -> Serve:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CRM_SLACK", "CRM_NOW"))}
        env.update(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            CRM_SLACK_API_URL=fake.api_url,
            CRM_SLACK_PORT=str(port),
            CRM_TIMEZONE="UTC",
            CRM_OUTBOX_LEASE_SECONDS="2",
            CRM_INBOX_RECOVER_SECONDS="2",
        )
        command = [*CRM, "serve", "--slack", "--db", database_url, "--interval", "0.2"]
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("Slack: HTTP"), f"crm serve did not start: {line!r}"
        return cls(process, port)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        if self.process.stdout:
            self.process.stdout.close()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.communicate(timeout=30)
        assert self.process.returncode == 0


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack(users=dict(PEOPLE)).start()
    yield slack
    slack.close()


def seed(runtime: Runtime) -> None:
    """The demo, plus tasks that fell due an hour ago for the staff with a Slack id."""
    admin.seed_demo(runtime)
    due = datetime.now(UTC) - timedelta(hours=1)
    with transaction(runtime.sessions) as session:
        staff = dict(
            session.execute(
                select(ChannelIdentity.external_id, ChannelIdentity.user_id).where(
                    ChannelIdentity.channel == "slack"
                )
            ).all()
        )
        for n in range(EXTRA_TASKS):
            assignee = staff[STAFF[n % len(STAFF)]]
            session.add(Task(title=f"Fault drill {n}", due_at=due, assignee_id=assignee, status="open"))


def test_kill_9_mid_turns_and_reminders_loses_and_repeats_nothing(database_url: str, fake: FakeSlack) -> None:
    runtime = Runtime(database_url, ZoneInfo("UTC"), None)
    seed(runtime)
    rng = random.Random(SEED)
    port = free_port()
    events = EventsApi(f"http://127.0.0.1:{port}/slack/events")
    messages = 0
    started = time.monotonic()
    for _ in range(ROUNDS):
        serve = Serve.start(database_url, fake, port)
        new = []
        for _ in range(MESSAGES_PER_ROUND):
            user = STAFF[messages % len(STAFF)]
            event_id = f"Ev{messages:04d}"
            events.add(
                event_id, user, f"log a call with Globex: fault-{messages}", f"{1.79e9 + messages:.6f}"
            )
            new.append(event_id)
            messages += 1
        posts = len(fake.called("chat.postMessage"))
        threads = events.deliver([e for e in events.pending() if e not in new] + new)
        if rng.random() < 0.3:
            time.sleep(rng.uniform(0.05, 1.0))
        else:  # after a few posts (reminders, answers): the rest of the round's turns are under way
            wanted = posts + rng.randint(1, MESSAGES_PER_ROUND)
            fake.wait(lambda wanted=wanted: len(fake.called("chat.postMessage")) >= wanted, timeout=5)
        serve.kill()
        for thread in threads:
            thread.join(timeout=ACK_SECONDS + 2)

    serve = Serve.start(database_url, fake, port)
    try:
        deadline = time.monotonic() + SETTLE_SECONDS
        while events.pending() and time.monotonic() < deadline:
            for thread in events.deliver(events.pending()):
                thread.join(timeout=ACK_SECONDS + 2)
        assert not events.pending(), "events the app never acknowledged"
        while time.monotonic() < deadline and not (len(replies(fake)) >= messages and all_sent(runtime)):
            time.sleep(0.2)  # inbox rows fall due after the 2 s lease: their recoveries post then
        time.sleep(1.0)  # a repeat would come now
    finally:
        serve.stop()
    elapsed = time.monotonic() - started

    with runtime.sessions() as session:
        logged = Counter(
            int(m.group(1))
            for notes in session.scalars(select(Activity.notes).where(Activity.notes.like("%fault-%")))
            if notes and (m := FAULT.search(notes))
        )
        fault_ids = set(session.scalars(select(Activity.id).where(Activity.notes.like("%fault-%"))))
        activity_ids = set(session.scalars(select(Activity.id)))
        audited = Counter(
            session.scalars(
                select(AuditEntry.entity_id).where(
                    AuditEntry.entity == "activities", AuditEntry.action == "create"
                )
            )
        )
        outbox = dict(session.execute(select(OutboxMessage.idempotency_key, OutboxMessage.status)).all())
        slack_rows = set(
            session.scalars(select(OutboxMessage.idempotency_key).where(OutboxMessage.channel == "slack"))
        )
    runtime.close()

    assert logged == Counter(range(messages)), "each message logged exactly once"
    assert set(audited) <= activity_ids, "an audit entry for an activity that is not there"
    assert fault_ids <= set(audited) and all(n == 1 for n in audited.values()), "a turn's write not audited"
    answered = Counter(int(m.group(1)) for text in replies(fake) if (m := FAULT.search(text)))
    assert answered == Counter(range(messages)), "each message answered exactly once"
    assert slack_rows and set(outbox.values()) == {"sent"}, "every due reminder sent"
    sent = Counter(posted_keys(fake))
    assert {key: sent[key] for key in slack_rows} == dict.fromkeys(slack_rows, 1), "each DM exactly once"
    print(f"{messages} turns, {len(slack_rows)} reminders, {ROUNDS} kills: {elapsed:.1f} s")


def replies(fake: FakeSlack) -> list[str]:
    """The answers the app posted in the DMs (not the reminders, which carry an outbox key)."""
    return [
        str(c.args.get("text"))
        for c in fake.called("chat.postMessage")
        if str(c.args.get("channel", "")).startswith("DU")
        and (c.args.get("metadata") or {}).get("event_type") != METADATA_EVENT
    ]


def all_sent(runtime: Runtime) -> bool:
    with runtime.sessions() as session:
        return not session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent")
        )
