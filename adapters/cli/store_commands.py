"""`crm init`, `import`, `export`, `users add`/`link-code` and `demo`: the store from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from adapters.cli.common import common_options, runtime_from
from adapters.cli.progress import progress_bars
from storage.csv_formats import EXPORT_KINDS, FORMATS, IMPORT_KINDS
from storage.roles import ROLES


def register(commands: Any) -> None:
    common = [common_options()]
    init = commands.add_parser("init", parents=common, help="create or upgrade the database schema")
    init.set_defaults(handler=run_init)

    def columns(kind: str) -> str:
        fmt = FORMATS[kind]
        return ", ".join(c + ("*" if c in fmt.required else "") for c in fmt.columns)

    formats = "\n".join(f"  {kind:<11} {columns(kind)}" for kind in IMPORT_KINDS)
    imp = commands.add_parser(
        "import",
        parents=common,
        help="import a CSV file (all or nothing)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Import a CSV file with a header row. Nothing is written unless every row is good. "
        "Importing kb also trains the support bot's knowledge-base classifier.",
        epilog=f"columns (* required, any order):\n{formats}",
    )
    imp.add_argument("kind", choices=IMPORT_KINDS, metavar="KIND", help=", ".join(IMPORT_KINDS))
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.set_defaults(handler=run_import)

    exp = commands.add_parser("export", parents=common, help="export records to stdout")
    exp.add_argument("kind", choices=EXPORT_KINDS, metavar="KIND", help=", ".join(EXPORT_KINDS))
    exp.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    exp.set_defaults(handler=run_export)

    users = commands.add_parser("users", parents=common, help="manage staff users")
    user_commands = users.add_subparsers(dest="users_command", metavar="COMMAND", required=True)
    add = user_commands.add_parser("add", parents=common, help="add a staff user and their chat identities")
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--slack-id", metavar="ID")
    add.add_argument("--telegram-id", metavar="ID")
    add.set_defaults(handler=run_users_add)
    link = user_commands.add_parser(
        "link-code",
        parents=common,
        help="print a one-time code that links a chat (Telegram) to a staff user",
        description="Print a one-time code for the staff user with this e-mail. They send /link CODE to "
        "the bot, and that chat is theirs from then on. A code works once, for 15 minutes; a new code "
        "retires the user's earlier unused one. Wrong codes are rate-limited.",
    )
    link.add_argument("email", metavar="EMAIL", help="the staff user's e-mail (any case)")
    link.set_defaults(handler=run_users_link_code)

    bak = commands.add_parser(
        "backup",
        parents=common,
        help="write a consistent copy of the whole store to FILE, while it is in use",
        description="Write a consistent copy of the whole store to FILE while the service keeps running. "
        "SQLite: the online backup API, one self-contained SQLite file. PostgreSQL: pg_dump "
        "--format=custom (the PostgreSQL client tools, as new as the server, must be installed). "
        "Restore it with crm restore FILE.",
    )
    bak.add_argument("file", type=Path, metavar="FILE", help="the backup file to write")
    bak.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    bak.set_defaults(handler=run_backup)

    res = commands.add_parser(
        "restore",
        parents=common,
        help="replace the store with a backup made by crm backup",
        description="Replace the store with a backup made by crm backup (SQLite into SQLite, PostgreSQL "
        "into PostgreSQL), then upgrade its schema if the backup is older than this version. The file is "
        "checked first; a file that is not a backup changes nothing. A store that already holds data is "
        "replaced only with --force. Stop crm serve while restoring.",
    )
    res.add_argument("file", type=Path, metavar="FILE", help="a backup made by crm backup")
    res.add_argument("--force", action="store_true", help="replace a store that already holds data")
    res.set_defaults(handler=run_restore)

    demo = commands.add_parser("demo", parents=common, help="seed the demo company into an empty database")
    demo.set_defaults(handler=run_demo)


def run_init(args: argparse.Namespace) -> int:
    from assistant import admin

    runtime = runtime_from(args)
    before, after = admin.init_store(runtime)
    if before == after:
        print(f"The schema is current (revision {after}).")
    else:
        print(f"Schema {'created' if before is None else 'upgraded from ' + before} at revision {after}.")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from assistant import admin
    from storage.importing import CsvImportError

    runtime = runtime_from(args)
    try:
        with progress_bars(f"crm import {args.kind}") as report:
            result = admin.import_file(runtime, args.kind, args.file, progress=report)
    except CsvImportError as refused:
        for error in refused.errors:
            print(f"{args.file}: {error}", file=sys.stderr)
        more = refused.total - len(refused.errors)
        if more > 0:
            print(f"{args.file}: ... and {more} more problems", file=sys.stderr)
        print("crm import: nothing was imported; fix the file and run the import again.", file=sys.stderr)
        return 1
    print(f"Imported {args.kind}: {result.created} created, {result.updated} updated.")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from assistant import admin

    admin.export_kind(runtime_from(args), args.kind, sys.stdout, args.format)
    return 0


def run_users_add(args: argparse.Namespace) -> int:
    from assistant import admin

    new = admin.NewUser(args.name, args.email, args.role, args.slack_id, args.telegram_id)
    user = admin.add_user(runtime_from(args), new)
    print(f"Added {user.name} <{user.email}> as {user.role}.")
    return 0


def run_users_link_code(args: argparse.Namespace) -> int:
    from assistant import linking

    runtime = runtime_from(args)
    now = runtime.now()
    code = linking.issue_code(runtime, args.email, now=now)
    expires = (now + linking.CODE_LIFETIME).astimezone(runtime.tz)
    minutes = int(linking.CODE_LIFETIME.total_seconds() // 60)
    print(f"Link code for {args.email}: {code} (works once, until {expires:%Y-%m-%d %H:%M %Z}).")
    print(f"Send /link {code} to the bot within {minutes} minutes.")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    from assistant import admin
    from storage.backup import BackupError, human_size

    runtime = runtime_from(args)
    try:
        done = admin.backup_store(runtime, args.file, args.force)
    except BackupError as refused:
        print(f"crm backup: {refused}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    print(
        f"Saved {done.tables} tables, {done.rows} rows to {done.path} ({human_size(done.size)}) "
        f"in {done.seconds:.1f} s."
    )
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from assistant import admin
    from storage.backup import BackupError

    runtime = runtime_from(args)
    try:
        done = admin.restore_store(runtime, args.file, args.force)
    except BackupError as refused:
        print(f"crm restore: {refused}", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    upgraded = "" if done.before == done.after else f"; schema upgraded from {done.before} to {done.after}"
    print(
        f"Restored {done.tables} tables, {done.rows} rows from {done.path} in {done.seconds:.1f} s{upgraded}."
    )
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from assistant import admin

    runtime = runtime_from(args)
    summary = admin.seed_demo(runtime)
    if summary is None:
        print("The database already holds data, so the demo was not seeded again.")
    else:
        counts = ", ".join(f"{n} {kind}" for kind, n in summary.counts.items())
        print(f"Seeded the demo company Northwind Analytics: {counts}.")
        print("Staff you can chat as (crm chat --as EMAIL):")
        for name, email, role in summary.users:
            print(f"  {name:<18} {role:<8} {email}")
    rep = admin.first_rep_email(runtime)
    runtime.close()
    if rep is None:
        return 0
    not_terminals = [
        name for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout)) if not stream.isatty()
    ]
    if not_terminals:
        print(_chat_not_opened(not_terminals, rep, args), file=sys.stderr)
        return 0
    from adapters.cli.chat_commands import run_chat

    print(f'\nOpening the chat as {rep}; try "what\'s on my plate today" or "help".')
    return run_chat(argparse.Namespace(**{**vars(args), "user": rep, "role": "staff", "jsonl": False}))


def _chat_not_opened(not_terminals: list[str], rep: str, args: argparse.Namespace) -> str:
    """Why `crm demo` seeded but opened no chat, and the command that opens it."""
    which = " and ".join(not_terminals)
    verb = "are" if len(not_terminals) > 1 else "is"
    same_db = " with the same --db" if getattr(args, "db", None) else ""
    return (
        f"crm demo: chat not opened: {which} {verb} not a terminal; "
        f"run crm chat --as {rep}{same_db} in a terminal to talk to the demo company."
    )
