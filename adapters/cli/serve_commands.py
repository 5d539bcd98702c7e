"""`crm serve`: runs the configured channels and the reminder scheduler until stopped."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any

from adapters.cli.common import common_options, runtime_from

# what each channel needs to run; the adapters read the same variables
CHANNEL_SETTINGS = {
    "slack": "SLACK_BOT_TOKEN and SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)",
    "telegram": "TELEGRAM_BOT_TOKEN",
    "web": "CRM_WEB_PORT",
}
BUILT = ()  # channels this version can run; Slack, Telegram and web chat come with their adapters


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        parents=[common_options()],
        help="run the channels and the reminder scheduler until stopped",
        description="Runs the configured chat channels and the reminder scheduler (due tasks, digests, "
        "stale-deal alerts) until Ctrl-C or SIGTERM. Several workers, in this process or on other "
        "machines sharing one PostgreSQL database, never deliver a reminder twice.",
    )
    for channel in CHANNEL_SETTINGS:
        serve.add_argument(f"--{channel}", action="store_true", help=f"run the {channel} channel")
    serve.add_argument("--workers", type=int, default=1, metavar="N", help="scheduler workers (default 1)")
    serve.add_argument(
        "--interval", type=float, default=30.0, metavar="S", help="seconds between scheduler rounds"
    )
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from assistant.reminders import run_scheduler

    wanted = [c for c in CHANNEL_SETTINGS if getattr(args, c)]
    missing = [c for c in wanted if c not in BUILT]
    if missing:
        print(f"crm serve: the {', '.join(missing)} channel is not part of this version yet", file=sys.stderr)
        return 1
    if not wanted:
        print("crm serve: no chat channel configured; running the reminder scheduler only.")
        for channel, settings in CHANNEL_SETTINGS.items():
            state = "set" if any(os.environ.get(v) for v in settings.split() if v.isupper()) else "not set"
            print(f"  --{channel:<9} needs {settings} ({state})")
    runtime = runtime_from(args)
    runtime.ensure_schema()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    workers = [
        threading.Thread(target=run_scheduler, args=(runtime, stop, args.interval), daemon=True)
        for _ in range(max(1, args.workers))
    ]
    for worker in workers:
        worker.start()
    print(f"Scheduler running with {len(workers)} worker(s), every {args.interval:g} s; Ctrl-C stops it.")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    for worker in workers:
        worker.join(timeout=args.interval + 10)
    runtime.close()
    print("Stopped.")
    return 0
