"""Which of `crm serve --processes N`'s processes this is, and the ports they share.

One `crm serve --processes N` starts N copies of itself (adapters/cli/supervisor.py), each told its
place in CRM_SERVE_PROCESS ("2/4"). Every copy binds the same HTTP ports with SO_REUSEPORT, and the
kernel spreads new connections among them, so turns run on N interpreters instead of sharing one GIL
with the acknowledgements. A lone process never sets SO_REUSEPORT: a second `crm serve` started by
mistake on the same port still fails with "address in use" instead of silently taking half the traffic.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

PROCESS_ENV = "CRM_SERVE_PROCESS"


@dataclass(frozen=True)
class Place:
    index: int  # 1-based
    count: int

    @property
    def first(self) -> bool:
        return self.index == 1

    @property
    def shares_ports(self) -> bool:
        return self.count > 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def place() -> Place:
    """This process's place among its siblings: 1/1 unless a supervisor said otherwise."""
    said = os.environ.get(PROCESS_ENV, "")
    index, _, count = said.partition("/")
    if index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count):
        return Place(int(index), int(count))
    return Place(1, 1)


def listening_socket(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """A listening, non-blocking TCP socket on `host:port`, shared with this process's siblings when it
    has any; the HTTP servers (waitress, aiohttp, tornado for Telegram's webhook) serve on it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if place().shares_ports:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
