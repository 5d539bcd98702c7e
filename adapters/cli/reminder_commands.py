"""`crm reminders run [--now ISO]`: deliver every reminder, digest and alert due at NOW once, and exit.

For cron and tests: one line per delivery, `channel<TAB>recipient<TAB>text` (the text's line breaks
shown as " / " so that a delivery stays one line). Running it again at the same NOW prints nothing:
each occurrence has its key in the outbox.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from adapters.cli.common import common_options, runtime_from

LINE_BREAK = " / "


def register(commands: Any) -> None:
    reminders = commands.add_parser(
        "reminders",
        parents=[common_options()],
        help="reminders, digests and alerts",
        description="Reminders, daily and weekly digests and stale-deal alerts, sent through the outbox.",
    )
    actions = reminders.add_subparsers(dest="reminders_command", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run",
        parents=[common_options()],
        help="deliver everything due at NOW once, and exit",
        description="Works out what is due at NOW (--now, else CRM_NOW, else the clock), puts it in the "
        "outbox and delivers it, one line per delivery: channel, recipient, text. Safe to run again: an "
        "occurrence is never delivered twice. Schedule settings: CRM_DIGEST_AT, CRM_DIGEST_DAYS, "
        "CRM_WEEKLY_DIGEST_AT, CRM_STALE_DAYS.",
    )
    run.set_defaults(handler=run_reminders)


def format_line(channel: str, recipient: str, text: str) -> str:
    return "\t".join((channel, recipient, LINE_BREAK.join(text.splitlines())))


def run_reminders(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from assistant.reminders import Schedule, run_due

    out = out or sys.stdout
    runtime = runtime_from(args)
    try:
        for sent in run_due(runtime, schedule=Schedule.from_env()):
            print(format_line(sent.channel, sent.recipient, sent.text), file=out)
    finally:
        runtime.close()
    return 0
