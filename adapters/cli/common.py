"""What every `crm` subcommand shares: the --db/--tz/--now/--debug options and plain error lines."""

from __future__ import annotations

import argparse
import logging

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from assistant.runtime import Runtime


class CliError(Exception):
    """An error whose message is already fit for the user."""

    @staticmethod
    def describe(error: BaseException) -> str:
        if isinstance(error, OperationalError):
            reason = str(error.orig).strip().splitlines()[0] if error.orig else "cannot connect"
            return f"the database cannot be used ({reason}); check --db or CRM_DATABASE_URL"
        if isinstance(error, SQLAlchemyError):
            return f"database error: {str(error).splitlines()[0]} (run with --debug for details)"
        text = str(error).strip() or type(error).__name__
        return text.splitlines()[0]


def common_options() -> argparse.ArgumentParser:
    """The options every level accepts, so `crm --db X import ...` and `crm import --db X ...` both work."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--db",
        metavar="URL",
        default=argparse.SUPPRESS,
        help="database URL (else CRM_DATABASE_URL, else a SQLite file in your data directory)",
    )
    parent.add_argument(
        "--tz",
        metavar="ZONE",
        default=argparse.SUPPRESS,
        help="time zone (else CRM_TIMEZONE, else the machine's)",
    )
    parent.add_argument(
        "--now",
        metavar="ISO",
        default=argparse.SUPPRESS,
        help="fix the clock, e.g. 2026-11-23T09:00 (else CRM_NOW)",
    )
    parent.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks on errors"
    )
    return parent


def runtime_from(args: argparse.Namespace) -> Runtime:
    return Runtime.from_settings(
        getattr(args, "db", None), getattr(args, "tz", None), getattr(args, "now", None)
    )


class _OneLine(logging.Formatter):
    """A failed turn is logged with its traceback; the user sees one line (all of it with --debug)."""

    def __init__(self, command: str, debug: bool) -> None:
        super().__init__()
        self.command = command
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        line = f"crm {self.command}: {record.getMessage()}"
        return super().format(record) if self.debug else line


def log_to_stderr(command: str, debug: bool) -> None:
    """Warnings and errors go to stderr as one plain line each, never as a bare traceback."""
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    handler.setFormatter(_OneLine(command, debug))
    root = logging.getLogger()
    root.handlers = [handler]
