"""`crm backup` and `crm restore`: a consistent copy of the whole store, taken while it is in use.

SQLite: the online backup API copies the live file page by page in one read transaction, so writers on
other connections (WAL) go on and the copy is the store as it was at one instant. PostgreSQL: pg_dump
--format=custom under a snapshot exported by our own transaction (the row counts we print are of that
same snapshot); pg_restore --clean --if-exists --no-owner brings it back. A restore checks the file first
(a backup of this schema, not newer than the code) and changes nothing when it is not.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from glob import glob
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import URL, make_url

from storage import migrate

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message (maybe several lines) says what to do."""


@dataclass(frozen=True)
class Outcome:
    path: Path
    tables: int
    rows: int
    size: int
    seconds: float
    before: str | None = None  # restore: the backup's schema revision
    after: str | None = None  # restore: the revision after upgrading


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover


def count_rows(connection: Connection) -> tuple[int, int]:
    """(tables, rows) of the store's own tables, as this connection sees them."""
    names = [n for n in inspect(connection).get_table_names() if n != "alembic_version"]
    rows = sum(
        int(connection.execute(select(func.count()).select_from(table(n))).scalar() or 0) for n in names
    )
    return len(names), rows


def is_empty(engine: Engine) -> bool:
    with engine.connect() as connection:
        return count_rows(connection)[1] == 0


# --- checks shared by both engines --------------------------------------------------------------


def _check_target(path: Path, force: bool) -> None:
    if path.is_dir():
        raise BackupError(f"{path} is a directory; give the name of the backup file to write")
    if not path.parent.is_dir():
        raise BackupError(f"the directory {path.parent} does not exist; create it or choose another place")
    if path.exists() and not force:
        raise BackupError(f"{path} already exists; choose another name, or add --force to overwrite it")


def _check_revision(revision: str | None, path: Path) -> str:
    if revision is None:
        raise BackupError(f"{path} is not a crm backup: it has no schema revision (alembic_version)")
    if revision not in migrate.known_revisions():
        raise BackupError(
            f"{path} was made by a newer crm-assistant (schema revision {revision}, this one knows up to "
            f"{migrate.head_revision()}); upgrade crm-assistant, then restore it"
        )
    return revision


def _magic(path: Path) -> bytes:
    if not path.is_file():
        raise BackupError(f"no such backup file: {path}")
    with path.open("rb") as stream:
        return stream.read(16)


def _check_store_empty(engine: Engine, force: bool) -> None:
    if not force and not is_empty(engine):
        raise BackupError(
            "the store already holds data; a restore replaces all of it: add --force if that is what you "
            "want (perhaps crm backup it first)"
        )


@contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    """A temporary file in the target's directory, moved onto it only when the work succeeded."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
    finally:
        temporary.unlink(missing_ok=True)


# --- SQLite ----------------------------------------------------------------------------------------


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored; use a file")
    return Path(url.database)


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
    ).fetchone()
    if not found:
        return None
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else None


def _sqlite_backup(url: URL, path: Path) -> tuple[int, int]:
    source = _sqlite_file(url)
    if not source.is_file():
        raise BackupError(f"there is no database at {source}; nothing to back up (check --db)")
    with _temporary_beside(path) as temporary:
        live = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        copy = sqlite3.connect(temporary)
        try:
            live.backup(copy)  # all pages in one step: one read transaction, one instant
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            copy.close()
            live.close()
        engine = create_engine(f"sqlite:///{temporary}")
        try:
            with engine.connect() as connection:
                counts = count_rows(connection)
        finally:
            engine.dispose()
        os.replace(temporary, path)
    return counts


def _sqlite_restore(engine: Engine, url: URL, path: Path, force: bool) -> str:
    target = _sqlite_file(url)
    if _magic(path) != SQLITE_MAGIC:
        if _magic(path).startswith(PGDUMP_MAGIC):
            raise BackupError(f"{path} is a PostgreSQL backup; restore it into a PostgreSQL store (--db)")
        raise BackupError(f"{path} is not a crm backup (not a SQLite database)")
    if target.exists() and target.resolve() == path.resolve():
        raise BackupError(f"{path} is the store itself; restore from a backup file")
    backup = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        try:
            revision = _check_revision(_sqlite_revision(backup), path)
        except sqlite3.DatabaseError as problem:
            raise BackupError(f"{path} is not a crm backup ({problem})") from None
        if target.exists():
            _check_store_empty(engine, force)
        engine.dispose()
        target.parent.mkdir(parents=True, exist_ok=True)
        live = sqlite3.connect(target, timeout=30)
        try:
            backup.backup(live)
        finally:
            live.close()
    finally:
        backup.close()
    return revision


# --- PostgreSQL ------------------------------------------------------------------------------------

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)")


def _tool_version(program: str) -> int | None:
    try:
        out = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    found = _VERSION.search(out)
    return int(found.group(1)) if found else None


def find_tool(name: str) -> tuple[str | None, int | None]:
    """The newest pg_dump/pg_restore on PATH or in Debian's /usr/lib/postgresql/*/bin: (path, major)."""
    candidates = [shutil.which(name), *sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))]
    best: tuple[str | None, int | None] = (None, None)
    for program in filter(None, candidates):
        version = _tool_version(program)
        if version is not None and (best[1] is None or version > best[1]):
            best = (program, version)
    return best


def _server_major(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar() or 0) // 10000


def _pg_env(url: URL) -> dict[str, str]:
    """The connection as libpq environment variables, so no password is ever on a command line."""
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
        ("PGSSLMODE", url.query.get("sslmode")),
    ):
        if value is not None:
            env[key] = str(value)
    return env


def _pg_shown(url: URL) -> str:
    """The same connection as a user could type it, with the password left as a placeholder."""
    parts = [f"PG{k}={v}" for k, v in (("HOST", url.host), ("PORT", url.port), ("USER", url.username)) if v]
    if url.password:
        parts.append("PGPASSWORD='your password'")
    return " ".join(parts)


def _missing_tool(name: str, found: tuple[str | None, int | None], server: int, command: str) -> BackupError:
    program, version = found
    problem = (
        f"{name} was not found"
        if program is None
        else f"{program} is version {version}, older than the server (PostgreSQL {server})"
    )
    return BackupError(
        f"{problem}; it needs the PostgreSQL {server} client tools or newer.\n"
        f"Install them, e.g. on Debian/Ubuntu: sudo apt-get install postgresql-client-{server} "
        f"(from apt.postgresql.org if your release lacks it); on macOS: brew install libpq.\n"
        f"Then run this again, or run it yourself:\n  {command}"
    )


def _run(args: list[str], url: URL) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=_pg_env(url), capture_output=True, text=True)


def _pg_backup(engine: Engine, url: URL, path: Path) -> tuple[int, int]:
    with engine.connect() as connection:
        server = _server_major(connection)
        found = find_tool("pg_dump")
        if found[0] is None or (found[1] or 0) < server:
            shown = f"{_pg_shown(url)} pg_dump --format=custom --file={path} {url.database}".strip()
            raise _missing_tool("pg_dump", found, server, shown)
        connection.rollback()  # SET TRANSACTION must come first in the snapshot's transaction
        connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        snapshot = str(connection.execute(text("SELECT pg_export_snapshot()")).scalar())
        counts = count_rows(connection)
        with _temporary_beside(path) as temporary:
            done = _run(
                [str(found[0]), "--format=custom", f"--snapshot={snapshot}", f"--file={temporary}"], url
            )
            if done.returncode != 0:
                raise BackupError(f"pg_dump failed: {_first_line(done.stderr)}")
            os.replace(temporary, path)
        connection.rollback()
    return counts


def _first_line(message: str) -> str:
    lines = [line for line in message.strip().splitlines() if line.strip()]
    return lines[0] if lines else "no message"


_COPY = re.compile(r"^COPY\s+\S*alembic_version\s.*?FROM stdin;\n(.*?)\n\\\.", re.M | re.S)


def _pg_restore(engine: Engine, url: URL, path: Path, force: bool) -> str:
    magic = _magic(path)
    if magic == SQLITE_MAGIC:
        raise BackupError(f"{path} is a SQLite backup; restore it into a SQLite store (--db sqlite:///...)")
    if not magic.startswith(PGDUMP_MAGIC):
        raise BackupError(f"{path} is not a crm backup (not a pg_dump custom-format archive)")
    with engine.connect() as connection:
        server = _server_major(connection)
    found = find_tool("pg_restore")
    if found[0] is None or (found[1] or 0) < server:
        shown = f"{_pg_shown(url)} pg_restore --clean --if-exists --no-owner --dbname={url.database} {path}"
        raise _missing_tool("pg_restore", found, server, shown.strip())
    program = str(found[0])
    listed = _run([program, "--data-only", "--table=alembic_version", "--file=-", str(path)], url)
    if listed.returncode != 0:
        raise BackupError(f"{path} is not a readable backup: {_first_line(listed.stderr)}")
    data = _COPY.search(listed.stdout)
    revision = _check_revision(data.group(1).strip().splitlines()[0] if data else None, path)
    _check_store_empty(engine, force)
    engine.dispose()
    done = _run(
        [
            program,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={url.database}",
            str(path),
        ],
        url,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed, the store is as it was: {_first_line(done.stderr)}")
    return revision


# --- the two commands ------------------------------------------------------------------------------


def backup(engine: Engine, path: Path, force: bool = False) -> Outcome:
    """Writes a consistent copy of the store behind `engine` to `path` (replacing it only with force)."""
    started = time.perf_counter()
    _check_target(path, force)
    url = engine.url
    if url.get_backend_name() == "sqlite":
        tables, rows = _sqlite_backup(url, path)
    else:
        tables, rows = _pg_backup(engine, url, path)
    return Outcome(path, tables, rows, path.stat().st_size, time.perf_counter() - started)


def restore(engine: Engine, path: Path, force: bool = False) -> Outcome:
    """Replaces the store with the backup at `path`, then upgrades its schema if it is older.

    Refuses (changing nothing) a file that is not a backup of this schema, and a store that holds data
    unless force.
    """
    started = time.perf_counter()
    url = make_url(engine.url)
    if url.get_backend_name() == "sqlite":
        revision = _sqlite_restore(engine, url, path, force)
    else:
        revision = _pg_restore(engine, url, path, force)
    engine.dispose()
    _, after = migrate.upgrade(engine)
    with engine.connect() as connection:
        tables, rows = count_rows(connection)
    return Outcome(path, tables, rows, path.stat().st_size, time.perf_counter() - started, revision, after)
