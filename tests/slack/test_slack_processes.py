"""`crm serve --slack --processes 2`: two processes on one port, each event answered once, a process that
dies started again, and SIGTERM stopping them all; the Slack HTTP endpoint as an operator runs it."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fake_slack import FakeSlack, dm, event_body, post
from load import listening_sockets
from slack_world import DEMO_STAFF, PEOPLE
from test_slack_serve import CRM, environment, free_port
from watching import sockets_of

from adapters.processes import PROCESS_ENV, place
from assistant import admin
from assistant.runtime import Runtime

EVENTS = 30
STAFF = tuple(DEMO_STAFF)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack(users=dict(PEOPLE)).start()
    yield slack
    slack.close()


def serving(port: int, pids: list[int], timeout: float = 60) -> bool:
    """Whether each of `pids` holds its own socket listening on `port` (within `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listening = listening_sockets(port)
        if all(len(sockets_of(pid) & listening) == 1 for pid in pids) and len(listening) == len(pids):
            return True
        time.sleep(0.2)
    return False


def children(supervisor: subprocess.Popen[str], without: int = 0, timeout: float = 30) -> list[int]:
    """The supervisor's two live copies (not `without`, a pid killed before), once both are there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = subprocess.run(
            ["ps", "-o", "pid=,stat=", "--ppid", str(supervisor.pid)], capture_output=True, text=True
        ).stdout.split("\n")
        live = [int(row.split()[0]) for row in table if row.strip() and not row.split()[1].startswith("Z")]
        if len(live) == 2 and without not in live:
            return sorted(live)
        time.sleep(0.2)
    raise AssertionError("the supervisor does not have two processes running")


def burst(port: int, fake: FakeSlack, first: int) -> Counter[str]:
    """EVENTS DMs at once, each in its own channel; how many replies each channel got."""
    channels = [f"D{first + n:07d}" for n in range(EVENTS)]

    def send(n: int) -> int:
        event = dm(STAFF[n % len(STAFF)], "win rate this year", f"1.{first + n}", channel=channels[n])
        return post(
            f"http://127.0.0.1:{port}/slack/events", event_body(event, f"Ev{first + n}"), "application/json"
        ).status

    with ThreadPoolExecutor(max_workers=EVENTS) as pool:
        assert set(pool.map(send, range(EVENTS))) == {200}
    assert fake.wait(lambda: set(channels) <= {p.get("channel") for p in fake.posts()}, 60)
    time.sleep(0.5)  # a second answer to any event would arrive now
    return Counter(p["channel"] for p in fake.posts() if p["channel"] in channels)


def test_two_processes_share_the_port_answer_once_and_outlive_a_kill(
    runtime: Runtime, fake: FakeSlack
) -> None:
    admin.seed_demo(runtime)
    port = free_port()
    supervisor = subprocess.Popen(
        [*CRM, "serve", "--slack", "--processes", "2", "--db", runtime.database_url, "--interval", "60"],
        env=environment(fake, CRM_SLACK_PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pids = children(supervisor)
        assert serving(port, pids), "each process listens on the shared port"
        assert burst(port, fake, 0) == Counter({f"D{n:07d}": 1 for n in range(EVENTS)})

        subprocess.run(["kill", "-9", str(pids[0])], check=True)
        new = children(supervisor, without=pids[0])
        assert pids[1] in new, "the other process went on"
        assert serving(port, new)
        assert burst(port, fake, 100) == Counter({f"D{100 + n:07d}": 1 for n in range(EVENTS)})
    finally:
        supervisor.send_signal(signal.SIGTERM)
        out, err = supervisor.communicate(timeout=60)
    assert supervisor.returncode == 0, err
    assert "2 processes" in out and "starting it again" in out and out.rstrip().endswith("Stopped.")
    assert "Traceback" not in err


def test_a_process_that_cannot_start_stops_the_service(runtime: Runtime, fake: FakeSlack) -> None:
    fake.fail["auth.test"] = "invalid_auth"
    command = [*CRM, "serve", "--slack", "--processes", "2", "--db", runtime.database_url]
    done = subprocess.run(
        command,
        env=environment(fake, CRM_SLACK_PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 1
    assert "could not start" in done.stdout and "did not accept the bot token" in done.stderr


@pytest.mark.parametrize(
    ("said", "index", "count"),
    [(None, 1, 1), ("2/4", 2, 4), ("1/1", 1, 1), ("5/4", 1, 1), ("x/2", 1, 1), ("0/2", 1, 1)],
)
def test_a_process_knows_its_place(
    monkeypatch: pytest.MonkeyPatch, said: str | None, index: int, count: int
) -> None:
    if said is None:
        monkeypatch.delenv(PROCESS_ENV, raising=False)
    else:
        monkeypatch.setenv(PROCESS_ENV, said)
    assert (place().index, place().count) == (index, count)
