"""`make bench-web`: 200 web-chat visitors at once over loopback, each holding a short conversation over
its own WebSocket (a session, then three messages, each sent when the previous one was answered).

Prints the reply latency (a message sent to its answer received: p50/p99, medians over runs) and how long
a session took to start. Each run starts from a fresh demo store: a SQLite file, or a PostgreSQL
database created beside the one --postgres names and dropped.

    python tests/web/bench_web.py --visitors 200 --runs 3 [--engine postgresql] [--json]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
sys.path.insert(0, str(Path(__file__).parents[2]))

import aiohttp
from percentiles import percentile
from scratch import each_run, load_options, medians
from web_world import ORIGIN, serving

from assistant import admin
from assistant.engine import Assistant
from assistant.runtime import Runtime

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CONVERSATION = ("hi", "how do I get a refund? we were charged twice", "thanks")


@dataclass
class Load:
    visitors: int
    session_seconds: list[float] = field(default_factory=list)
    reply_seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        return {
            "session_p50_ms": percentile(self.session_seconds, 50) * 1000,
            "session_p99_ms": percentile(self.session_seconds, 99) * 1000,
            "reply_p50_ms": percentile(self.reply_seconds, 50) * 1000,
            "reply_p99_ms": percentile(self.reply_seconds, 99) * 1000,
            "reply_max_ms": max(self.reply_seconds) * 1000,
        }


async def visitor(http: aiohttp.ClientSession, url: str, n: int, load: Load) -> None:
    started = time.perf_counter()
    async with http.post(f"{url}/api/session", json={}, headers={"Origin": ORIGIN}) as response:
        token = (await response.json())["token"]
    load.session_seconds.append(time.perf_counter() - started)
    ws_url = url.replace("http://", "ws://") + "/ws"
    async with http.ws_connect(ws_url, origin=ORIGIN) as socket:
        await socket.send_json({"type": "hello", "token": token})
        if (await socket.receive_json(timeout=120)) != {"type": "ready"}:
            load.failures.append(f"visitor {n}: not accepted")
            return
        for i, text in enumerate(CONVERSATION):
            sent = time.perf_counter()
            await socket.send_json({"type": "message", "text": text, "id": f"{n}-{i}"})
            frame = await socket.receive_json(timeout=120)
            if frame.get("type") != "turn" or not frame.get("replies"):
                load.failures.append(f"visitor {n}, {text!r}: {frame}")
                return
            load.reply_seconds.append(time.perf_counter() - sent)


async def run_load(url: str, visitors: int) -> Load:
    load = Load(visitors)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(visitor(http, url, n, load) for n in range(visitors)))
    return load


def one_run(url: str, run: int, visitors: int) -> dict[str, float]:
    runtime = Runtime(url, UTC, NOW)
    admin.seed_demo(runtime)
    try:
        with serving(Assistant(runtime)) as server:
            load = asyncio.run(run_load(server.url, visitors))
    finally:
        runtime.close()
    if load.failures or len(load.reply_seconds) != visitors * len(CONVERSATION):
        raise SystemExit(f"run {run}: not every message was answered: {load.failures[:3]}")
    return load.figures()


def main() -> int:
    args = load_options((__doc__ or "").split("\n")[0], "visitors", 200)
    runs = each_run(args, lambda url, n: one_run(url, n, args.visitors))
    figures = {"engine": args.engine, "visitors": args.visitors, "runs": args.runs, **medians(runs)}
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"{args.visitors} concurrent web-chat visitors on {args.engine}, {len(CONVERSATION)} messages "
            f"each, median of {args.runs} runs:"
        )
        print(f"  session  p50 {figures['session_p50_ms']:.0f} ms  p99 {figures['session_p99_ms']:.0f} ms")
        print(
            f"  reply    p50 {figures['reply_p50_ms']:.0f} ms  p99 {figures['reply_p99_ms']:.0f} ms  "
            f"max {figures['reply_max_ms']:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
