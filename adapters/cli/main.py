"""`crm`: one console command, its subcommands registered by small modules (shared/spec/cli.md).

Exit status: 0 on success, 2 on bad usage, 1 on any other error, with one plain line on stderr
(a traceback only with --debug).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from adapters.cli import (
    bench_commands,
    chat_commands,
    doctor_commands,
    nlu_commands,
    reminder_commands,
    serve_commands,
    store_commands,
    voice_commands,
)
from adapters.cli.common import CliError, common_options, log_to_stderr

Handler = Callable[[argparse.Namespace], int]
MODULES = (
    store_commands,
    nlu_commands,
    chat_commands,
    voice_commands,
    reminder_commands,
    serve_commands,
    bench_commands,
    doctor_commands,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crm",
        description="crm-assistant: a self-hosted CRM you talk to: terminal, Slack, Telegram, voice.",
        parents=[common_options()],
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in MODULES:
        module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what `crm serve --processes` copies run
    handler: Handler = args.handler
    log_to_stderr(args.command, bool(getattr(args, "debug", False)))
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as error:
        if getattr(args, "debug", False):
            raise
        print(f"crm {args.command}: {CliError.describe(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
