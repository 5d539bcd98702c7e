"""`make bench-slack`: 200 Slack events at once against the real app over loopback, several runs.

Prints acknowledgement and reply latencies (p50/p99, medians over runs). Each run starts from a fresh
demo store: a SQLite file, or a PostgreSQL database created beside the one --postgres names and dropped.

    python tests/slack/bench_slack.py --events 200 --runs 3 [--engine postgresql] [--json]
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
sys.path.insert(0, str(Path(__file__).parents[2]))

from fake_slack import FakeSlack
from load import run_load, summary
from scratch import each_run, load_options
from slack_world import PEOPLE, settings_for

from adapters.slack.app import SlackBot
from adapters.slack.server import HttpServer
from assistant import admin
from assistant.engine import Assistant
from assistant.runtime import Runtime

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def one_run(url: str, run: int, events: int) -> dict[str, float]:
    runtime = Runtime(url, UTC, NOW)
    admin.seed_demo(runtime)
    fake = FakeSlack(users=dict(PEOPLE)).start()
    bot = SlackBot(Assistant(runtime), settings_for(fake))
    server = HttpServer(bot, settings_for(fake), host="127.0.0.1", port=0).start()
    try:
        result = run_load(f"http://127.0.0.1:{server.port}/slack/events", fake, events)
    finally:
        server.close()
        fake.close()
        runtime.close()
    if not result.answered_once or set(result.statuses) != {200}:
        raise SystemExit(f"run {run}: not every event was acknowledged and answered once: {result}")
    return result.figures()


def main() -> int:
    args = load_options((__doc__ or "").split("\n")[0], "events", 200)
    runs = each_run(args, lambda url, n: one_run(url, n, args.events))
    engine = args.engine
    figures = {"engine": engine, "events": args.events, "runs": args.runs, **summary(runs)}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{args.events} concurrent Slack events on {engine}, median of {args.runs} runs:")
        print(
            f"  acknowledged  p50 {figures['ack_p50_ms']:.0f} ms  p99 {figures['ack_p99_ms']:.0f} ms  "
            f"max {figures['ack_max_ms']:.0f} ms (Slack allows 3000)"
        )
        print(f"  answered      p50 {figures['reply_p50_ms']:.0f} ms  p99 {figures['reply_p99_ms']:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
