"""`crm backup FILE` and `crm restore FILE`, on SQLite and PostgreSQL: a consistent copy taken while the
store is in use, and a restore that gives back exactly what was saved, or refuses and changes nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from seeded import seed_demo
from sqlalchemy import func, select, text

from adapters.cli.main import main
from assistant import admin
from assistant.runtime import Runtime
from storage import backup
from storage.db import make_engine, transaction
from storage.models import Account, Contact, Deal


def crm(database_url: str, *args: str) -> int:
    return main(["--db", database_url, "--tz", "UTC", "--now", "2026-11-23T09:00", *args])


def snapshot(runtime: Runtime) -> dict[str, object]:
    with runtime.sessions() as session:
        return {
            "accounts": sorted(session.scalars(select(Account.name))),
            "deals": sorted(
                tuple(row) for row in session.execute(select(Deal.name, Deal.amount, Deal.stage))
            ),
            "contacts": session.scalar(select(func.count(Contact.id))),
        }


def test_round_trip_gives_back_the_store(runtime: Runtime, tmp_path: Path) -> None:
    seed_demo(runtime)
    before = snapshot(runtime)
    saved = admin.backup_store(runtime, tmp_path / "crm.backup")
    assert saved.rows > 900 and saved.tables > 10 and saved.size > 0

    with transaction(runtime.sessions) as session:
        session.execute(text("DELETE FROM activities"))
        deal = session.scalars(select(Deal).order_by(Deal.id).limit(1)).one()
        deal.amount = 1
        session.add(Account(name="Added After", name_key="added after"))
    assert snapshot(runtime) != before

    restored = admin.restore_store(runtime, tmp_path / "crm.backup", force=True)
    assert (restored.tables, restored.rows) == (saved.tables, saved.rows)
    assert snapshot(runtime) == before


def test_backup_while_another_thread_writes_is_consistent(runtime: Runtime, tmp_path: Path) -> None:
    seed_demo(runtime)
    writer = make_engine(runtime.database_url)
    stop = threading.Event()
    written = 0

    def keep_writing() -> None:
        nonlocal written
        from storage.db import session_factory

        sessions = session_factory(writer)
        while not stop.is_set():
            with transaction(sessions) as session:  # an account and its contact, always together
                account = Account(name=f"Writer {written}", name_key=f"writer {written}")
                session.add(account)
                session.flush()
                session.add(Contact(name=f"Pat {written}", name_key=f"pat {written}", account_id=account.id))
            written += 1

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        while written < 5:
            stop.wait(0.01)
        admin.backup_store(runtime, tmp_path / "live.backup")
        during = written
    finally:
        stop.set()
        thread.join()
        writer.dispose()
    assert during >= 5

    admin.restore_store(runtime, tmp_path / "live.backup", force=True)
    with runtime.sessions() as session:
        accounts = session.scalar(select(func.count()).where(Account.name.like("Writer %")))
        contacts = session.scalar(select(func.count()).where(Contact.name.like("Pat %")))
    assert accounts == contacts and accounts is not None and accounts >= 5
    if runtime.engine.dialect.name == "sqlite":
        with runtime.engine.connect() as connection:
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def test_restore_refuses_a_store_with_data_without_force(runtime: Runtime, tmp_path: Path) -> None:
    seed_demo(runtime)
    admin.backup_store(runtime, tmp_path / "crm.backup")
    with transaction(runtime.sessions) as session:
        session.add(Account(name="Keep Me", name_key="keep me"))
    before = snapshot(runtime)
    with pytest.raises(backup.BackupError, match=r"already holds data.*--force"):
        admin.restore_store(runtime, tmp_path / "crm.backup")
    assert snapshot(runtime) == before


@pytest.mark.parametrize("content", [b"not a backup\n", b"", b"SQLite format 3\x00" + b"\x00" * 200])
def test_restore_refuses_a_file_that_is_not_a_backup(
    runtime: Runtime, tmp_path: Path, content: bytes
) -> None:
    seed_demo(runtime)
    before = snapshot(runtime)
    bogus = tmp_path / "bogus.backup"
    bogus.write_bytes(content)
    with pytest.raises(backup.BackupError, match=r"not a crm backup|SQLite backup"):
        admin.restore_store(runtime, bogus, force=True)
    assert snapshot(runtime) == before


# SQLite only: both engines share the revision check (storage/backup.py _check_revision), and a SQLite
# backup is a file a test can edit, a pg_dump archive is not
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_restore_refuses_a_backup_newer_than_the_code(runtime: Runtime, tmp_path: Path) -> None:
    seed_demo(runtime)
    admin.backup_store(runtime, tmp_path / "crm.backup")
    copy = make_engine(f"sqlite:///{tmp_path / 'crm.backup'}")
    with copy.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    copy.dispose()
    with pytest.raises(backup.BackupError, match="newer crm-assistant"):
        admin.restore_store(runtime, tmp_path / "crm.backup", force=True)


def test_cli_backup_and_restore(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert crm(database_url, "demo") == 0
    capsys.readouterr()
    file = tmp_path / "crm.backup"

    assert crm(database_url, "backup", str(file)) == 0
    out = capsys.readouterr().out
    assert (
        out.startswith("Saved ") and "tables" in out and "rows" in out and str(file) in out and " s." in out
    )

    assert crm(database_url, "backup", str(file)) == 1
    assert "already exists" in capsys.readouterr().err
    assert crm(database_url, "backup", str(file), "--force") == 0
    capsys.readouterr()

    assert crm(database_url, "backup", str(tmp_path / "missing" / "x.backup")) == 1
    assert "does not exist" in capsys.readouterr().err

    assert crm(database_url, "restore", str(file)) == 1
    err = capsys.readouterr().err
    assert err.startswith("crm restore: ") and "--force" in err and "Traceback" not in err

    assert crm(database_url, "restore", str(tmp_path / "nothing.backup")) == 1
    assert "no such backup file" in capsys.readouterr().err

    assert crm(database_url, "restore", str(file), "--force") == 0
    assert capsys.readouterr().out.startswith("Restored ")


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage: crm" in out and "--force" in out and "FILE" in out


@pytest.mark.postgres
def test_postgres_without_pg_dump_explains(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(backup, "find_tool", lambda name: (None, None))
    url = postgres_url.replace("postgres@", "postgres:s3cret@", 1)
    assert crm(url, "backup", str(tmp_path / "x.dump")) == 1
    err = capsys.readouterr().err
    assert "pg_dump was not found" in err and "apt-get install postgresql-client-" in err
    assert "pg_dump --format=custom" in err and "s3cret" not in err
    assert not (tmp_path / "x.dump").exists()

    monkeypatch.setattr(backup, "find_tool", lambda name: ("/usr/bin/pg_dump", 9))
    assert crm(postgres_url, "backup", str(tmp_path / "x.dump")) == 1
    assert "older than the server" in capsys.readouterr().err
