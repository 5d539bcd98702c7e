"""kill -9 `crm import` while it writes a big file, on SQLite and PostgreSQL: nothing of the file is in
the store afterwards (the import is one transaction), and running it again imports the whole file."""

from __future__ import annotations

import csv
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from storage.db import make_engine
from storage.models import Account, AuditEntry

CRM = [sys.executable, "-c", "from adapters.cli.main import main; raise SystemExit(main())"]
ROWS = 100_000
SEED = 16


def big_csv(path: Path) -> Path:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "domain", "industry"])
        for n in range(ROWS):
            writer.writerow([f"Fault Account {n:06d}", f"fault{n}.example", "Software"])
    return path


def writing(database_url: str) -> bool:
    """Whether some transaction has written into the store and not committed yet."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        wal = Path(f"{url.database}-wal")
        return wal.exists() and wal.stat().st_size > 1 << 20  # the import's batches, before the commit
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            others = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
                )
            )
            return bool(others.scalar())
    finally:
        engine.dispose()


def imported(database_url: str) -> tuple[int, int]:
    """(accounts of the file, audit entries of account imports) in the store."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            accounts = connection.scalar(
                select(func.count()).select_from(Account).where(Account.name.like("Fault Account %"))
            )
            audited = connection.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "import", AuditEntry.entity == "accounts")
            )
    finally:
        engine.dispose()
    return int(accounts or 0), int(audited or 0)


def test_an_import_killed_while_it_writes_leaves_nothing_and_runs_again_whole(
    database_url: str, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    path = big_csv(tmp_path / "accounts.csv")
    command = [*CRM, "import", "accounts", str(path), "--db", database_url]
    env = {k: v for k, v in os.environ.items() if k != "CRM_NOW"}
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not writing(database_url):
        assert process.poll() is None, f"the import ended before it was seen writing: {process.communicate()}"
        assert time.monotonic() < deadline, "the import never started writing"
        time.sleep(0.02)
    time.sleep(rng.uniform(0.0, 0.2))  # a seeded moment inside the writing
    assert process.poll() is None, "the import finished before the kill: make the file bigger"
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL

    assert imported(database_url) == (0, 0)  # nothing of the file, not even its audit entry

    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"{ROWS} created" in again.stdout
    accounts, audited = imported(database_url)
    assert accounts == ROWS and audited >= 1
