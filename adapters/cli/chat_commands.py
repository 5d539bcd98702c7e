"""`crm chat`: the conversation at the terminal, interactive or one turn per input line."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from adapters.cli.common import common_options, runtime_from

USER_ENV = "CRM_USER"
CUSTOMER_IDENTITY = "terminal-customer"


def register(commands: Any) -> None:
    chat = commands.add_parser(
        "chat",
        parents=[common_options()],
        help="talk to the CRM (interactive, or one turn per stdin line)",
        description="Talk to the CRM. On a terminal: an interactive chat with history and colour. With stdin "
        "not a terminal: one turn per input line, the replies on stdout. The conversation lives in the "
        "database, so a second `crm chat` with the same --as continues it.",
    )
    chat.add_argument(
        "--as",
        dest="user",
        metavar="EMAIL",
        help=f"who you are (else {USER_ENV}, else the only staff user); a customer's identity with "
        "--role customer",
    )
    chat.add_argument(
        "--role",
        choices=("staff", "customer"),
        default="staff",
        help="staff (default), or customer: the support chatbot",
    )
    chat.add_argument(
        "--jsonl",
        action="store_true",
        help='one JSON object per turn: {"text", "intent", "slots", "reply", "buttons", "table"}',
    )
    chat.set_defaults(handler=run_chat)


def run_chat(args: argparse.Namespace) -> int:
    return _chat(args, bool(getattr(args, "debug", False)))


def _chat(args: argparse.Namespace, debug: bool) -> int:
    from adapters import terminal
    from assistant.engine import Assistant

    runtime = runtime_from(args)
    assistant = Assistant(runtime)
    try:
        customer = args.role == "customer"
        if customer:
            who = args.user or CUSTOMER_IDENTITY
        else:
            who = args.user or os.environ.get(USER_ENV) or assistant.default_staff_email()
        if not who:
            print("crm chat: say who you are: crm chat --as EMAIL", file=sys.stderr)
            return 2
        chat = terminal.Chat(assistant.handle, who, customer, debug=debug)
        if args.jsonl or not sys.stdin.isatty():
            return terminal.run_lines(chat, sys.stdin, sys.stdout, jsonl=args.jsonl)
        colour = terminal.use_colour(sys.stdout)
        hello = terminal.greeting(who, customer, runtime.database_url, colour)
        waiting = [] if customer else assistant.inbox("terminal", who)
        return terminal.run_interactive(
            chat, sys.stdout, hello, colour, history=terminal.history_path(), waiting=waiting
        )
    finally:
        runtime.close()
