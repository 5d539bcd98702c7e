"""Watching real processes from a test: a condition polled until it holds (a database, a port or /proc
tells no one it changed), and the sockets a process holds."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path


def until(condition: Callable[[], bool], timeout: float, every: float = 0.1) -> bool:
    """Polls `condition` until it holds; False once `timeout` seconds passed without it."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(every)
    return True


def sockets_of(pid: int) -> set[str]:
    """The inodes of the sockets process `pid` has open (from /proc/<pid>/fd)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:
            continue
        if match := re.fullmatch(r"socket:\[(\d+)\]", target):
            inodes.add(match.group(1))
    return inodes
