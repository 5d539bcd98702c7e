"""`make bench-telegram`: a flood of 500 Telegram updates to a polling bot, several runs.

Prints updates handled per second and reply latency p50/p99 (from the push into the fake Bot API to the
bot's sendMessage reaching it; medians over runs). The flood mixes the demo's seven staff with customers
(20 each, a customer's burst), chats interleaved; every reply names the ticket it answers, so each is
matched to its update and checked answered once. Each run starts from a fresh demo store: a SQLite file,
or a PostgreSQL database created beside the one --postgres names and dropped.

    python tests/telegram/bench_telegram.py --updates 500 --runs 3 [--engine postgresql] [--json]
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
sys.path.insert(0, str(Path(__file__).parents[2]))

from fake_bot_api import FakeBotApi
from percentiles import percentile
from scratch import each_run, load_options, medians
from telegram_world import DEMO_STAFF, settings_for

from adapters.telegram.bot import TelegramBot
from assistant import admin
from assistant.engine import Assistant
from assistant.limits import BURST
from assistant.runtime import Runtime

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NUMBER = re.compile(r"#(\d+)")
CUSTOMER_SHARE = 0.44  # of the updates, from customers (each within its burst)


def plan(updates: int, seed: int) -> list[tuple[int, str, int]]:
    """(chat, text, ticket number) per update: staff ask "show ticket N" ("There is no ticket #N."),
    customers "any update on ticket N?" ("I can't find a ticket #N for you. ...")."""
    customers = [555_100_000 + n for n in range(max(1, round(updates * CUSTOMER_SHARE / BURST)))]
    chats = [(c, False) for c in customers for _ in range(BURST)][: round(updates * CUSTOMER_SHARE)]
    staff = sorted(DEMO_STAFF)
    chats += [(staff[n % len(staff)], True) for n in range(updates - len(chats))]
    random.Random(seed).shuffle(chats)
    return [
        (
            chat,
            f"show ticket {100_000 + n}" if is_staff else f"any update on ticket {100_000 + n}?",
            100_000 + n,
        )
        for n, (chat, is_staff) in enumerate(chats)
    ]


def one_run(url: str, run: int, updates: int) -> dict[str, float]:
    runtime = Runtime(url, UTC, NOW)
    admin.seed_demo(runtime)
    fake = FakeBotApi().start()
    bot = TelegramBot(Assistant(runtime), settings_for(fake), host="127.0.0.1").start()
    pushed: dict[int, float] = {}
    try:
        for chat, text, number in plan(updates, seed=run):
            pushed[number] = time.monotonic()
            fake.push_text(chat, chat, text)
        fake.wait_for(updates, timeout=300)
    finally:
        bot.close()
        fake.close()
        runtime.close()
    sent = fake.calls("sendMessage")
    answered: dict[int, float] = {}
    for call in sent:
        found = NUMBER.search(str(call.params.get("text")))
        if call.status != 200 or found is None or int(found.group(1)) not in pushed:
            raise SystemExit(f"run {run}: an unexpected reply: {call.status} {call.params.get('text')!r}")
        if int(found.group(1)) in answered:
            raise SystemExit(f"run {run}: update for ticket {found.group(1)} answered twice")
        answered[int(found.group(1))] = call.at
    if len(answered) != updates:
        raise SystemExit(f"run {run}: {len(answered)} of {updates} updates answered")
    latencies = [(answered[n] - pushed[n]) * 1000 for n in pushed]
    elapsed = max(answered.values()) - min(pushed.values())
    return {
        "updates_per_s": updates / elapsed,
        "reply_p50_ms": percentile(latencies, 50),
        "reply_p99_ms": percentile(latencies, 99),
        "reply_max_ms": max(latencies),
    }


def main() -> int:
    args = load_options((__doc__ or "").split("\n")[0], "updates", 500)
    runs = each_run(args, lambda url, n: one_run(url, n, args.updates))
    figures = {"engine": args.engine, "updates": args.updates, "runs": args.runs, **medians(runs)}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{args.updates} Telegram updates flooded on {args.engine}, median of {args.runs} runs:")
        print(f"  handled   {figures['updates_per_s']:.0f} updates/s")
        print(
            f"  answered  p50 {figures['reply_p50_ms']:.0f} ms  p99 {figures['reply_p99_ms']:.0f} ms  "
            f"max {figures['reply_max_ms']:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
