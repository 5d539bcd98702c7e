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

A supervisor that cannot do that (SIGKILL, the OOM killer) must not leave its copies running as orphans
on the shared ports, answering beside the copies of the next `crm serve`: on Linux each copy asks the
kernel for SIGTERM when the supervisor dies (PR_SET_PDEATHSIG), and stops as it would on a Ctrl-C.
Elsewhere (no prctl) the copies outlive a killed supervisor and must be stopped by hand.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from adapters.processes import PROCESS_ENV

STARTUP_SECONDS = 5.0  # a copy exiting sooner than this after its start could not start
FIRST_PAUSE, LONGEST_PAUSE = 1.0, 60.0  # seconds before a dead copy is started again
STOP_SECONDS = 45.0  # how long the copies get to finish after SIGTERM before they are killed


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def dying_with(supervisor: int) -> Callable[[], None] | None:
    """What a copy runs between fork and exec so that it gets SIGTERM when `supervisor` (the process and
    thread spawning it) dies; None where the kernel offers no such thing.

    libc is looked up here, in the supervisor: the forked child only calls it (no loading after fork).
    The setting survives exec; it is lost if the supervisor died before it was made (the copy is then
    another process's child already), so the copy checks its parent right after and ends itself then."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl

    def die_with_supervisor() -> None:
        if prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")  # Popen raises it
        if os.getppid() != supervisor:  # the supervisor died before the line above: no signal will come
            os._exit(1)

    return die_with_supervisor


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
        # the supervisor runs no other thread, so a preexec_fn cannot deadlock the fork; and the kernel's
        # "parent" for PR_SET_PDEATHSIG is this (main) thread, which lives as long as the supervisor
        process = subprocess.Popen(command, env=env, preexec_fn=dying_with(os.getpid()))
        self.copies[index] = Copy(index, process, time.monotonic(), pause)

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
