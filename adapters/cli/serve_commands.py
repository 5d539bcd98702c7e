"""`crm serve`: runs the configured channels and the reminder scheduler until stopped."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any

from adapters.cli.common import common_options, runtime_from
from adapters.cli.supervisor import supervise
from adapters.platforms import PLATFORMS, Idle, PlatformError, Running
from adapters.processes import place

SOCKET_MODE_CONNECTIONS = 10  # Slack opens at most this many for one app


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve",
        parents=[common_options()],
        help="run the channels and the reminder scheduler until stopped",
        description="Runs the configured chat channels and the reminder scheduler (due tasks, digests, "
        "stale-deal alerts) until Ctrl-C or SIGTERM. Several workers, in this process or on other "
        "machines sharing one PostgreSQL database, never deliver a reminder twice.",
    )
    for platform in PLATFORMS:
        serve.add_argument(f"--{platform.name}", action="store_true", help=f"run the {platform.name} channel")
    serve.add_argument("--workers", type=int, default=1, metavar="N", help="scheduler workers (default 1)")
    serve.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="processes sharing the HTTP ports and the scheduler's work, restarted if one dies "
        "(default 1; use PostgreSQL for more than one)",
    )
    serve.add_argument(
        "--interval", type=float, default=30.0, metavar="S", help="seconds between scheduler rounds"
    )
    serve.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    from assistant.channels import default_registry
    from assistant.reminders import run_scheduler

    here = place()
    if args.processes < 1:
        print("crm serve: --processes must be at least 1", file=sys.stderr)
        return 2
    if args.processes > 1 and not here.shares_ports:
        refused = too_many_connections(args)
        if refused:
            print(f"crm serve: {refused}", file=sys.stderr)
            return 2
        runtime = runtime_from(args)
        if runtime.database_url.startswith("sqlite"):
            print(
                "crm serve: SQLite takes one writer at a time, so the processes' writes take turns; "
                "carrying on (PostgreSQL lets them write at once).",
                file=sys.stderr,
            )
        runtime.ensure_schema()  # once, here: copies migrating one store at the same time would race
        runtime.close()
        return supervise(args.argv, args.processes)
    wanted = [p for p in PLATFORMS if getattr(args, p.name)]
    if here.shares_ports:
        print(f"crm serve: process {here}.", flush=True)
    try:
        starters = [p.starter() for p in wanted]
    except PlatformError as error:
        print(f"crm serve: {error}", file=sys.stderr)
        return 1
    if not wanted:
        print("crm serve: no chat channel configured; running the reminder scheduler only.")
        for platform in PLATFORMS:
            names = [v for v in platform.needs.split() if v.isupper()]
            state = "set" if any(os.environ.get(v) for v in names) else "not set"
            print(f"  --{platform.name:<9} needs {platform.needs} ({state})")
    runtime = runtime_from(args)
    runtime.ensure_schema()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    channels = default_registry()
    servers: list[Running] = []
    for start in starters:
        try:
            servers.append(start(runtime, channels))
        except PlatformError as error:
            print(f"crm serve: {error}", file=sys.stderr)
            for server in servers:
                server.close()
            runtime.close()
            return error.status
    # a copy that leaves a channel to a sibling (Telegram's poller) leaves the scheduler to it too: a
    # reminder is routed by the channels its scheduler knows, and this copy does not know them all
    scheduling = not any(isinstance(server, Idle) for server in servers)
    workers = [
        threading.Thread(
            target=run_scheduler,
            args=(runtime, stop, args.interval),
            kwargs={"channels": channels},
            daemon=True,
        )
        for _ in range(max(1, args.workers) if scheduling else 0)
    ]
    for worker in workers:
        worker.start()
    if scheduling:
        print(f"Scheduler running with {len(workers)} worker(s), every {args.interval:g} s; Ctrl-C stops it.")
    else:
        print("Reminders are sent by process 1, which runs every channel.")
    sys.stdout.flush()
    while not stop.wait(0.5):
        pass
    for worker in workers:  # the round under way sends on the channels: they close after it
        worker.join(timeout=args.interval + 10)
    for server in servers:
        server.close()
    runtime.close()
    print("Stopped.")
    return 0


def too_many_connections(args: argparse.Namespace) -> str | None:
    """Slack opens at most 10 Socket Mode connections for an app and refuses the 11th, which would then
    retry for ever: more copies than that is a mistake worth saying before any starts."""
    if not getattr(args, "slack", False) or args.processes <= SOCKET_MODE_CONNECTIONS:
        return None
    if not os.environ.get("SLACK_APP_TOKEN", "").strip():
        return None  # HTTP mode: any number of copies share the port
    return (
        f"Slack allows {SOCKET_MODE_CONNECTIONS} Socket Mode connections an app, one a process: "
        f"use --processes {SOCKET_MODE_CONNECTIONS} or fewer, or Slack's HTTP mode (unset SLACK_APP_TOKEN)"
    )
