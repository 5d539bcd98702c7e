"""The `crm` command's contract: exit codes, plain error lines, --help everywhere (shared/spec/cli.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.cli.main import main
from assistant import admin
from storage.db import make_engine

HELP_PATHS = [
    [],
    ["init"],
    ["import"],
    ["export"],
    ["users"],
    ["users", "add"],
    ["users", "link-code"],
    ["demo"],
    ["parse"],
    ["eval-nlu"],
]


def crm(database_url: str, *args: str) -> int:
    return main(["--db", database_url, "--tz", "UTC", "--now", "2026-11-23T09:00", *args])


@pytest.mark.parametrize("path", HELP_PATHS, ids=lambda p: " ".join(p) or "crm")
def test_every_level_has_help(path: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([*path, "--help"])
    assert done.value.code == 0
    assert "usage: crm" in capsys.readouterr().out


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["import", "planets", "x.csv"])
    assert done.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_init_demo_export_and_users(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert crm(database_url, "init") == 0
    assert "current" in capsys.readouterr().out
    assert crm(database_url, "demo") == 0
    out = capsys.readouterr().out
    assert "40 accounts" in out and "maria.gonzalez@northwind.example" in out
    assert (
        crm(
            database_url,
            "users",
            "add",
            "--name",
            "Ann Lee",
            "--email",
            "ann@x.example",
            "--role",
            "rep",
            "--slack-id",
            "U9",
        )
        == 0
    )
    capsys.readouterr()
    assert crm(database_url, "export", "users", "--format", "jsonl") == 0
    users = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {
        "name": "Ann Lee",
        "email": "ann@x.example",
        "role": "rep",
        "slack_id": "U9",
        "telegram_id": None,
    } in users


def test_errors_are_one_plain_line_with_exit_1(database_url: str, tmp_path: Path, capsys) -> None:
    assert crm(database_url, "users", "add", "--name", "A", "--email", "a@x.example", "--role", "rep") == 0
    capsys.readouterr()
    assert crm(database_url, "users", "add", "--name", "B", "--email", "A@x.example", "--role", "admin") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists already" in err and "Traceback" not in err

    assert crm(database_url, "import", "accounts", str(tmp_path / "missing.csv")) == 1
    assert "no such file" in capsys.readouterr().err


def test_a_refused_import_names_the_line_and_writes_nothing(
    database_url: str, tmp_path: Path, capsys
) -> None:
    bad = tmp_path / "accounts.csv"
    bad.write_text("name,owner_email\nGood Co,\nBad Co,ghost@x.example\n")
    assert crm(database_url, "import", "accounts", str(bad)) == 1
    err = capsys.readouterr().err
    assert "line 3, column owner_email" in err and "nothing was imported" in err
    assert crm(database_url, "export", "accounts") == 0
    assert capsys.readouterr().out.strip() == "name,domain,industry,owner_email"


def test_an_unreachable_database_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "init"]) == 1
    err = capsys.readouterr().err
    assert "the database cannot be used" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)  # SQLite keeps no statistics and has no visibility map
def test_a_big_import_leaves_postgresql_statistics_fresh(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an import of many rows the tables are vacuumed and analysed at once (PostgreSQL), so the
    next question is planned for the new row counts and gets index-only scans."""
    monkeypatch.setattr(admin, "BULK_ROWS", 3)  # "many", for a test
    rows = "\n".join(f"Bulk {n} Ltd,bulk{n}.example,Software," for n in range(5))
    (tmp_path / "accounts.csv").write_text("name,domain,industry,owner_email\n" + rows + "\n")
    assert crm(database_url, "import", "accounts", str(tmp_path / "accounts.csv")) == 0
    engine = make_engine(database_url)
    with engine.connect() as connection:
        visible, tuples = connection.execute(
            text("SELECT relallvisible, reltuples FROM pg_class WHERE relname = 'accounts'")
        ).one()
    engine.dispose()
    assert visible > 0 and tuples == 5
