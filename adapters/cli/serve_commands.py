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
BUILT = ("slack",)  # channels this version can run; Telegram and web chat come with their adapters


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
    from assistant.channels import default_registry
    from assistant.reminders import run_scheduler

    wanted = [c for c in CHANNEL_SETTINGS if getattr(args, c)]
    missing = [c for c in wanted if c not in BUILT]
    if missing:
        print(f"crm serve: the {', '.join(missing)} channel is not part of this version yet", file=sys.stderr)
        return 1
    slack_settings = None
    if "slack" in wanted:
        from adapters.slack.settings import SlackSettings, SlackSettingsError

        try:
            slack_settings = SlackSettings.from_env()
        except SlackSettingsError as error:
            print(f"crm serve: Slack is not configured: {error}", file=sys.stderr)
            return 2
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
    channels = default_registry()
    servers: list[Any] = []
    if slack_settings is not None:
        started = _start_slack(runtime, slack_settings, channels)
        if started is None:
            runtime.close()
            return 1
        servers.append(started)
    workers = [
        threading.Thread(
            target=run_scheduler,
            args=(runtime, stop, args.interval),
            kwargs={"channels": channels},
            daemon=True,
        )
        for _ in range(max(1, args.workers))
    ]
    for worker in workers:
        worker.start()
    print(f"Scheduler running with {len(workers)} worker(s), every {args.interval:g} s; Ctrl-C stops it.")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    for server in servers:
        server.close()
    for worker in workers:
        worker.join(timeout=args.interval + 10)
    runtime.close()
    print("Stopped.")
    return 0


def _start_slack(runtime: Any, settings: Any, channels: Any) -> Any:
    """The Slack app listening (on its own threads), and Slack DMs registered for the outbox; None (and
    a message) when Slack refuses the tokens or the port is taken."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from adapters.slack.app import SlackBot
    from adapters.slack.delivery import SlackChannel
    from adapters.slack.server import start
    from assistant.engine import Assistant

    try:
        bot = SlackBot(Assistant(runtime), settings)
        server = start(bot, settings)
    except BoltError as error:  # auth.test refused the bot token, or Slack is unreachable
        print(f"crm serve: Slack did not accept the bot token: {error}", file=sys.stderr)
        return None
    except SlackApiError as error:
        print(f"crm serve: Slack refused the app token: {error.response.get('error')}", file=sys.stderr)
        return None
    except OSError as error:
        print(f"crm serve: cannot listen on port {settings.port}: {error.strerror}", file=sys.stderr)
        return None
    channels.register(SlackChannel(bot.client))
    print(f"Slack: {settings.mode}.")
    return server
