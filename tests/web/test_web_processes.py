"""`crm serve --web --processes 2` on PostgreSQL: two real processes share the web chat's port, every
visitor is answered once whichever process the kernel hands a connection to, a visitor moves freely
between them, staff answers reach the WebSocket that is open wherever it is (every one of a visitor's
tabs, whichever process holds it), and the rate limit holds for the visitor across both processes."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from watching import sockets_of
from web_world import ORIGIN, SECRET, Visitor, open_ticket, receive, staff_says
from websockets.sync.client import ClientConnection

from adapters.web.settings import RATE_BURST, RATE_PER_MINUTE
from assistant.engine import Assistant

VISITORS = 40  # at once: half over a WebSocket, half over the HTTP fallback
QUESTION = "how do I get a refund? we were charged twice"
POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tcp_table() -> list[tuple[int, int, str, str]]:
    """(local port, remote port, state, inode) of every IPv4 TCP socket, from /proc/net/tcp."""
    rows = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
        rows.append((local, remote, fields[3], fields[9]))
    return rows


@dataclass
class Service:
    """A running `crm serve --web --processes 2` and what a test needs to know of it."""

    supervisor: subprocess.Popen[str]
    port: int
    pids: list[int]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def holder(self, client: socket.socket, timeout: float = 10) -> int:
        """The process serving a client's connection: the one holding the socket the kernel accepted it
        on (known once that process has accepted it)."""
        mine = client.getsockname()[1]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            inodes = {
                inode
                for local, remote, state, inode in tcp_table()
                if (local, remote, state) == (self.port, mine, "01")
            }
            for pid in self.pids:
                if inodes & sockets_of(pid):
                    return pid
            time.sleep(0.05)
        raise AssertionError(f"no process accepted the connection from port {mine}")

    def pinned(self) -> dict[int, http.client.HTTPConnection]:
        """A kept-alive HTTP connection to each process: new ones are opened until both have one."""
        found: dict[int, http.client.HTTPConnection] = {}
        for _ in range(64):
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            connection.connect()
            assert connection.sock is not None
            pid = self.holder(connection.sock)
            if pid in found:
                connection.close()
            else:
                found[pid] = connection
            if len(found) == len(self.pids):
                return found
        raise AssertionError("the kernel gave every connection to one process")


def ws_holder(service: Service, socket_: ClientConnection) -> int:
    return service.holder(socket_.socket)


def children(supervisor: subprocess.Popen[str], count: int, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        table = subprocess.run(
            ["ps", "-o", "pid=,stat=", "--ppid", str(supervisor.pid)], capture_output=True, text=True
        ).stdout.splitlines()
        live = [int(row.split()[0]) for row in table if row.strip() and not row.split()[1].startswith("Z")]
        if len(live) == count:
            return sorted(live)
        time.sleep(0.1)
    raise AssertionError(f"the supervisor does not have {count} processes running")


def all_listening(port: int, pids: list[int], timeout: float = 60) -> bool:
    """Whether each process holds its own socket listening on `port` (within `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listening = {inode for local, _, state, inode in tcp_table() if local == port and state == "0A"}
        if len(listening) == len(pids) and all(len(sockets_of(pid) & listening) == 1 for pid in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def service(bot: Assistant) -> Iterator[Service]:
    """Two processes over the test's seeded PostgreSQL store, stopped with SIGTERM at the end."""
    port = free_port()
    env = {
        **os.environ,
        "CRM_WEB_SECRET": SECRET,
        "CRM_WEB_ORIGINS": ORIGIN,
        "CRM_WEB_PORT": str(port),
        "CRM_NOW": "2026-11-23T09:00",
        "CRM_TIMEZONE": "UTC",
    }
    command = [sys.executable, "-m", "adapters.cli.main", "serve", "--web", "--processes", "2"]
    supervisor = subprocess.Popen(
        [*command, "--db", bot.runtime.database_url, "--interval", "60"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pids = children(supervisor, 2)
        assert all_listening(port, pids), "each process listens on the shared port"
        yield Service(supervisor, port, pids)
    finally:
        supervisor.send_signal(signal.SIGTERM)
        out, err = supervisor.communicate(timeout=60)
    assert supervisor.returncode == 0, err
    assert out.count("Web chat: port") == 2 and out.rstrip().endswith("Stopped.")
    assert "Traceback" not in err, err


def lines(visitor: Visitor, url: str) -> list[tuple[str, str]]:
    """The visitor's conversation as a reload shows it, over a new connection."""
    history = Visitor(url, token=visitor.token).start().body["history"]
    return [(line["who"], line["text"]) for line in history]


@POSTGRES_ONLY
def test_many_visitors_at_once_are_each_answered_once_by_either_process(service: Service) -> None:
    visitors = [Visitor(service.url) for _ in range(VISITORS)]
    with ThreadPoolExecutor(VISITORS) as pool:
        assert set(pool.map(lambda v: v.start().status, visitors)) == {200}
    over_websocket, over_http = visitors[::2], visitors[1::2]
    with ExitStack() as stack:
        sockets = [stack.enter_context(v.socket()) for v in over_websocket]
        held = Counter(ws_holder(service, s) for s in sockets)
        assert set(held) == set(service.pids), f"both processes hold WebSockets: {held}"

        def by_websocket(n: int) -> list[dict[str, object]]:
            sockets[n].send(json.dumps({"type": "message", "text": QUESTION, "id": f"q{n}"}))
            turn = receive(sockets[n], 45)
            sockets[n].send('{"type": "ping"}')  # anything after the turn comes before the pong
            return [turn, receive(sockets[n], 45)]

        def by_http(n: int) -> int:
            answer = over_http[n].say(QUESTION)
            assert answer.status == 200, answer.body
            return len(answer.body["replies"])

        with ThreadPoolExecutor(VISITORS) as pool:
            talked = pool.map(by_websocket, range(len(sockets)))
            answered = list(pool.map(by_http, range(len(over_http))))
            framed = list(talked)
    for n, (turn, after) in enumerate(framed):
        assert turn["type"] == "turn" and turn["id"] == f"q{n}" and after == {"type": "pong"}
        assert "refund" in str(turn["replies"][0]["text"])  # type: ignore[index]
    assert answered == [1] * len(over_http)
    for visitor in visitors:  # one turn each, whichever process ran it
        said = lines(visitor, service.url)
        assert [who for who, _ in said] == ["customer", "assistant"] and said[0][1] == QUESTION


@POSTGRES_ONLY
def test_a_visitor_moves_between_processes_and_staff_answers_reach_their_socket_once(
    service: Service, bot: Assistant
) -> None:
    first, second = service.pinned().values()
    visitor = Visitor(service.url, connection=first)
    visitor.start()  # the token is issued by one process...
    turns = iter([first, second] * 3)

    def alternately(text: str) -> str:  # ...and each line goes to the other one
        visitor.connection = next(turns)
        return visitor.ask(text)

    number = open_ticket(alternately, "the export to CSV fails with an error")
    for connection in (first, second):  # either sees the whole conversation
        back = Visitor(service.url, token=visitor.token, connection=connection).start()
        assert back.status == 200 and back.body["history"][0]["text"] == "I want to open a ticket"
        assert any(f"#{number}" in line["text"] for line in back.body["history"])

    with ExitStack() as stack:  # a visitor with an open widget on each process
        by_process: dict[int, tuple[Visitor, ClientConnection]] = {}
        while len(by_process) < len(service.pids):
            someone = Visitor(service.url)
            someone.start()
            opened = stack.enter_context(someone.socket())
            by_process.setdefault(ws_holder(service, opened), (someone, opened))
        tickets = {}
        for pid, (_, opened) in by_process.items():

            def ask(text: str, opened: ClientConnection = opened) -> str:
                opened.send(json.dumps({"type": "message", "text": text, "id": text[:20]}))
                return str(receive(opened)["replies"][0]["text"])

            tickets[pid] = open_ticket(ask, f"my invoices show the wrong VAT ({pid})")
        for answer in ("the VAT is corrected", "and the invoices are sent again"):
            for number in tickets.values():
                staff_says(bot, f"reply to {number}: {answer}")
            for pid, (_, opened) in by_process.items():
                news = receive(opened)  # this answer, not the one before again
                shown = f'New reply on ticket #{tickets[pid]}: "{answer}"'
                assert news["type"] == "news" and [r["text"] for r in news["replies"]] == [shown]
    for someone, _ in by_process.values():
        assert someone.poll().body["replies"] == []
        said = [text for _, text in lines(someone, service.url)]
        assert sum("the VAT is corrected" in text for text in said) == 1, said


@POSTGRES_ONLY
def test_a_staff_answer_reaches_a_visitors_widgets_on_every_process_once(
    service: Service, bot: Assistant
) -> None:
    """Two tabs of one visitor, each on another process: the process that takes the answer pushes it to
    its tab and tells the other process (LISTEN/NOTIFY), which pushes it to the other tab."""
    visitor = Visitor(service.url)
    visitor.start()
    number = open_ticket(visitor.ask, "the dashboard stays blank after login")
    with ExitStack() as stack:
        tabs: dict[int, ClientConnection] = {}
        for _ in range(64):  # new tabs until one is open on each process
            opened = stack.enter_context(visitor.socket())
            tabs.setdefault(ws_holder(service, opened), opened)
            if len(tabs) == len(service.pids):
                break
        assert len(tabs) == len(service.pids), "the kernel gave every connection to one process"
        for answer in ("we are looking into it", "fixed: please reload"):
            staff_says(bot, f"reply to {number}: {answer}")
            shown = f'New reply on ticket #{number}: "{answer}"'
            for tab in tabs.values():
                news = receive(tab)
                assert news["type"] == "news" and [r["text"] for r in news["replies"]] == [shown]
        for tab in tabs.values():  # and once: the next frame is the answer to a ping
            tab.send('{"type": "ping"}')
            assert receive(tab) == {"type": "pong"}
    said = [text for _, text in lines(visitor, service.url)]
    assert sum("we are looking into it" in text for text in said) == 1, said


@POSTGRES_ONLY
def test_a_visitor_is_held_to_the_rate_across_processes(service: Service) -> None:
    pinned = list(service.pinned().values())
    visitor = Visitor(service.url, connection=pinned[0])
    visitor.start()
    statuses = []
    started = time.monotonic()
    for n in range(4 * RATE_BURST):  # to each process in turn, then over new connections wherever they land
        visitor.connection = pinned[n % 2] if n < 2 * RATE_BURST else None
        answer = visitor.say("hi")
        statuses.append(answer.status)
        if answer.status == 429:
            assert answer.body["code"] == "rate_limited" and int(answer.headers["Retry-After"]) >= 1
    earned = int((time.monotonic() - started) * RATE_PER_MINUTE / 60)  # messages the rate gave back
    assert statuses[:RATE_BURST] == [200] * RATE_BURST, statuses
    assert set(statuses) == {200, 429} and statuses.count(200) <= RATE_BURST + earned, statuses
    other = Visitor(service.url)  # the limit is the visitor's own
    other.start()
    assert other.say("hi").status == 200
