"""`make bench-load`: `crm serve --slack` as real processes under a burst and a sustained load.

For 1 process and for N (`--processes`), on a fresh demo store each run, over loopback with the fake Slack
Web API in this process:
- a burst of `--burst` events at once: every acknowledgement (Slack allows 3 s) and the reply p99;
- `--rate` events a second for `--seconds`: the replies arriving a second once it is under way (after
  its first 5 s, until the last event is sent), and the reply p99 of every event.
Medians over `--runs`, side by side. A benchmark: it measures and fails nothing.

    python tests/slack/bench_load.py --engine postgresql --processes 2 [--seconds 60] [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
sys.path.insert(0, str(Path(__file__).parents[1]))
sys.path.insert(0, str(Path(__file__).parents[2]))

from fake_slack import FakeSlack, dm, event_body, post
from load import STAFF, TURNS, listening_sockets, run_load
from percentiles import percentile
from scratch import load_parser, medians, scratch_database
from slack_world import PEOPLE
from test_slack_serve import environment, free_port

from assistant import admin
from assistant.runtime import Runtime

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

CRM = [sys.executable, "-m", "adapters.cli.main"]
SETTLE_SECONDS = 120.0  # how long answers may take to arrive after the last event is sent
WARM_UP = 5.0  # seconds of the sustained load before replies are counted: the rate it keeps up, not its start


def options() -> argparse.Namespace:
    parser = load_parser((__doc__ or "").split("\n")[0], "burst", 200)
    parser.add_argument("--processes", type=int, default=2, help="the N compared with 1 (default 2)")
    parser.add_argument("--rate", type=float, default=100.0, help="events a second, sustained")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the sustained load lasts")
    parser.set_defaults(engine="postgresql")
    return parser.parse_args()


def start_serve(url: str, fake: FakeSlack, processes: int, port: int) -> subprocess.Popen[bytes]:
    """`crm serve --slack` with `processes` copies, once each copy listens and /healthz answers."""
    env = environment(fake, CRM_SLACK_PORT=str(port))
    command = [*CRM, "serve", "--slack", "--db", url, "--processes", str(processes), "--interval", "3600"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"crm serve stopped with status {process.returncode}")
        if len(listening_sockets(port)) == processes:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                if answer.status == 200:
                    return process
        time.sleep(0.2)
    process.kill()
    raise SystemExit("crm serve did not start listening within a minute")


def sustained(url: str, fake: FakeSlack, rate: float, seconds: float) -> dict[str, float]:
    """`rate` DMs a second for `seconds`, each in its own channel: answered per second, reply p99."""
    total = int(rate * seconds)
    channels = [f"S{n:07d}" for n in range(total)]
    sent_at: dict[str, float] = {}
    acks: list[float] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        event = dm(STAFF[n % len(STAFF)], TURNS[n % len(TURNS)], f"1800000000.{n:06d}", channel=channels[n])
        sent_at[channels[n]] = time.monotonic()
        answer = post(url, event_body(event, f"EvSustained{n:07d}"), "application/json")
        with lock:
            acks.append(answer.seconds)

    before = len(fake.calls)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for n in range(total):
            time.sleep(max(0.0, started + n / rate - time.monotonic()))
            pool.submit(send, n)
    wanted = set(channels)
    fake.wait(lambda: wanted <= {c.args.get("channel") for c in fake.calls[before:]}, SETTLE_SECONDS)
    first: dict[str, float] = {}
    for call in fake.calls[before:]:
        if call.method == "chat.postMessage" and call.args.get("channel") in wanted:
            first.setdefault(call.args["channel"], call.at)
    replies = [first[c] - sent_at[c] for c in channels if c in first]
    steady = [at for at in first.values() if started + WARM_UP <= at < started + seconds]
    return {
        "sustained_turns_per_s": len(steady) / max(seconds - WARM_UP, 1e-9),
        "sustained_answered_share": len(first) / total,
        "sustained_ack_p99_ms": percentile(acks, 99) * 1000,
        "sustained_reply_p50_ms": percentile(replies, 50) * 1000 if replies else float("nan"),
        "sustained_reply_p99_ms": percentile(replies, 99) * 1000 if replies else float("nan"),
    }


def one_run(url: str, args: argparse.Namespace, processes: int) -> dict[str, float]:
    runtime = Runtime(url, UTC, NOW)
    admin.seed_demo(runtime)
    runtime.close()
    fake = FakeSlack(users=dict(PEOPLE)).start()
    port = free_port()
    serve = start_serve(url, fake, processes, port)
    endpoint = f"http://127.0.0.1:{port}/slack/events"
    try:
        burst = run_load(endpoint, fake, args.burst)
        figures = {
            "burst_ack_max_ms": max(burst.ack_seconds) * 1000,
            "burst_acked_share": burst.statuses.get(200, 0) / args.burst,
            "burst_reply_p50_ms": burst.figures()["reply_p50_ms"],
            "burst_reply_p99_ms": burst.figures()["reply_p99_ms"],
            "burst_answered_once": float(burst.answered_once),
        }
        figures.update(sustained(endpoint, fake, args.rate, args.seconds))
    finally:
        serve.terminate()
        serve.wait(timeout=60)
        fake.close()
    return figures


ROWS = (
    ("burst_acked_share", "burst: events acknowledged with 200", "{:.1%}"),
    ("burst_ack_max_ms", "burst: slowest acknowledgement (Slack allows 3000)", "{:.0f} ms"),
    ("burst_reply_p50_ms", "burst: reply p50", "{:.0f} ms"),
    ("burst_reply_p99_ms", "burst: reply p99 (target 1500)", "{:.0f} ms"),
    ("burst_answered_once", "burst: every event answered exactly once", "{:.0f}"),
    ("sustained_turns_per_s", "sustained: turns answered a second (target 100)", "{:.1f}"),
    ("sustained_answered_share", "sustained: events answered", "{:.1%}"),
    ("sustained_ack_p99_ms", "sustained: acknowledgement p99", "{:.0f} ms"),
    ("sustained_reply_p50_ms", "sustained: reply p50", "{:.0f} ms"),
    ("sustained_reply_p99_ms", "sustained: reply p99 (target 2000)", "{:.0f} ms"),
)


def main() -> int:
    args = options()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for processes in dict.fromkeys((1, args.processes)):
            runs = []
            for _ in range(args.runs):
                with scratch_database(args.engine, Path(folder), args.postgres) as url:
                    runs.append(one_run(url, args, processes))
            results[processes] = medians(runs)
    if args.json:
        print(
            json.dumps({"engine": args.engine, "runs": args.runs, **{str(k): v for k, v in results.items()}})
        )
        return 0
    print(
        f"crm serve --slack (HTTP mode) on {args.engine}: a burst of {args.burst} events, then "
        f"{args.rate:g} events/s for {args.seconds:g} s; median of {args.runs} runs"
    )
    heads = [f"{p} process{'es' if p > 1 else ''}" for p in results]
    print(f"  {'':52}" + "".join(f"{h:>14}" for h in heads))
    for key, label, form in ROWS:
        print(f"  {label:52}" + "".join(f"{form.format(r[key]):>14}" for r in results.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
