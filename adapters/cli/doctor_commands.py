"""`crm doctor`: one line per part of the installation (ok, warn, FAIL or skip), what is wrong and the fix.

The store's checks come from the assistant (assistant/health.py), each channel's from its own adapter
(`Platform.checker`, beside its `crm serve` starter), the speech engine's from adapters/voice; this
module only runs them in order and prints them. Exit status 1 when any line is FAIL."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import replace
from typing import Any

from adapters.cli.common import common_options
from adapters.platforms import PLATFORMS
from assistant.health import MIN_FREE_MB, Check, Status


def register(commands: Any) -> None:
    doctor = commands.add_parser(
        "doctor",
        parents=[common_options()],
        help="check the settings, the database, the channels' credentials, speech and disk space",
        description="Checks the settings, the database and its schema revision, each configured channel's "
        "credentials (one harmless API call each: Slack auth.test, Telegram getMe), the speech engine and "
        "its model, and the free disk space. One line each: ok, warn, FAIL or skip (not configured), "
        "with the fix. Exit status 1 when anything failed. Tokens are never shown.",
    )
    doctor.add_argument("--json", action="store_true", help="one JSON object: {ok, checks: [...]}")
    doctor.add_argument(
        "--min-free",
        type=float,
        default=MIN_FREE_MB,
        metavar="MB",
        help=f"free disk space below which the disk check fails (default {MIN_FREE_MB}; warns under twice)",
    )
    doctor.set_defaults(handler=run_doctor)


def channel_checks() -> list[Check]:
    """Each channel's own check; one that is not configured says which settings would configure it."""
    found = []
    for platform in PLATFORMS:
        check = platform.checker()
        if check is None:
            continue
        result = check(os.environ)
        if result.status is Status.SKIP:
            result = replace(
                result, says=f"{result.says}: crm serve --{platform.name} needs {platform.needs}"
            )
        found.append(result)
    return found


def all_checks(args: argparse.Namespace) -> list[Check]:
    from adapters.voice.doctor import checks as speech_checks
    from assistant.health import store_checks

    store = store_checks(
        getattr(args, "db", None), getattr(args, "tz", None), getattr(args, "now", None), args.min_free
    )
    return store + channel_checks() + speech_checks(os.environ)


def run_doctor(args: argparse.Namespace) -> int:
    checks = all_checks(args)
    healthy = all(check.status is not Status.FAIL for check in checks)
    if args.json:
        print(json.dumps({"ok": healthy, "checks": [check.as_json() for check in checks]}, indent=2))
    else:
        for check in checks:
            print(check.line())
        failed = sum(check.status is Status.FAIL for check in checks)
        print("All good." if healthy else f"{failed} problem{'s' if failed > 1 else ''} to fix.")
    return 0 if healthy else 1
