"""`crm serve --processes N`: N copies of `crm serve` sharing the ports, kept running.

Each copy is told its place in CRM_SERVE_PROCESS (adapters/processes.py) and runs the whole service:
the HTTP channels on shared ports (Slack's endpoint, Telegram's webhook, the web chat), Socket Mode on
its own connection (Slack spreads events over an app's connections), the scheduler (workers never share
an outbox row). Telegram's long polling runs in the first copy only: the Bot API gives updates to one
poller.

A copy that dies (killed, out of memory) is started again after a pause that doubles up to a minute; one
that exits on its own within its first seconds failed to start (bad settings, a port in use), so the
whole service stops with its status rather than restarting it forever. On SIGINT or SIGTERM the
supervisor sends SIGTERM to every copy, and each stops as a lone `crm serve` does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from adapters.processes import PROCESS_ENV

STARTUP_SECONDS = 5.0  # a copy exiting sooner than this after its start could not start
FIRST_PAUSE, LONGEST_PAUSE = 1.0, 60.0  # seconds before a dead copy is started again
STOP_SECONDS = 45.0  # how long the copies get to finish after SIGTERM before they are killed


@dataclass
class Copy:
    index: int
    process: subprocess.Popen[bytes]
    started: float
    pause: float = FIRST_PAUSE


@dataclass
class Supervisor:
    argv: Sequence[str]  # `crm` arguments each copy runs with
    count: int
    stop: threading.Event = field(default_factory=threading.Event)
    copies: dict[int, Copy] = field(default_factory=dict)

    def spawn(self, index: int, pause: float = FIRST_PAUSE) -> None:
        env = {**os.environ, PROCESS_ENV: f"{index}/{self.count}"}
        command = [sys.executable, "-m", "adapters.cli.main", *self.argv]
        self.copies[index] = Copy(index, subprocess.Popen(command, env=env), time.monotonic(), pause)

    def run(self) -> int:
        for index in range(1, self.count + 1):
            self.spawn(index)
        pids = ", ".join(str(c.process.pid) for c in self.copies.values())
        print(f"crm serve: {self.count} processes (pids {pids}); Ctrl-C stops them all.", flush=True)
        status = 0
        while not self.stop.wait(0.2):
            for copy in list(self.copies.values()):
                code = copy.process.poll()
                if code is None:
                    continue
                if time.monotonic() - copy.started < STARTUP_SECONDS and code > 0:
                    print(f"crm serve: process {copy.index} could not start (status {code}); stopping.")
                    self.stop.set()
                    status = code
                    break
                ran_a_while = time.monotonic() - copy.started > LONGEST_PAUSE  # a fresh fault: no backoff
                pause = FIRST_PAUSE if ran_a_while else copy.pause
                print(
                    f"crm serve: process {copy.index} (pid {copy.process.pid}) ended with status {code}; "
                    f"starting it again in {pause:g} s.",
                    flush=True,
                )
                if self.stop.wait(pause):
                    break
                self.spawn(copy.index, min(LONGEST_PAUSE, pause * 2))
        self.halt()
        return status

    def halt(self) -> None:
        """SIGTERM to every copy still running, SIGKILL to any still there after STOP_SECONDS."""
        running = [c.process for c in self.copies.values() if c.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def supervise(argv: Sequence[str], count: int) -> int:
    supervisor = Supervisor(argv, count)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: supervisor.stop.set())
    status = supervisor.run()
    print("Stopped.")
    return status
