"""`make bench-web`'s load, small: concurrent visitors each holding a short conversation, all answered."""

from __future__ import annotations

import asyncio

from bench_web import CONVERSATION, run_load

from adapters.web.server import WebServer


def test_concurrent_visitors_are_all_answered(server: WebServer) -> None:
    load = asyncio.run(run_load(server.url, 12))
    assert load.failures == []
    assert len(load.reply_seconds) == 12 * len(CONVERSATION) and len(load.session_seconds) == 12
    assert load.figures()["reply_p99_ms"] > 0
