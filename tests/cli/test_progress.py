"""Progress of the long commands: the work reports rows (or deals) done of a total, in order and up to
the total, once per batch; a terminal gets bars on stderr, a pipe gets the same clean output as before."""

from __future__ import annotations

import io
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.cli.main import main
from adapters.cli.progress import progress_bars
from assistant import admin
from assistant.runtime import Runtime
from storage import importing
from storage.synthetic import store

Reports = list[tuple[str, int, int]]


def rising_to_the_total(reports: Reports, phase: str) -> list[int]:
    """The counts reported for one phase, checked to rise to that phase's total."""
    counts = [done for name, done, _ in reports if name == phase]
    totals = {total for name, _, total in reports if name == phase}
    assert len(totals) == 1, totals
    assert counts == sorted(counts) and counts[-1] == totals.pop(), counts
    return counts


def accounts_file(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text("name\nZorblax Ltd\n", encoding="utf-8")
    return path


def deals_file(tmp_path: Path, n: int) -> Path:
    rows = "".join(f"Deal {i:03d},Zorblax Ltd,{1000 + i},lead,2026-12-31\n" for i in range(n))
    path = tmp_path / "deals.csv"
    path.write_text("name,account,amount,stage,close_date\n" + rows, encoding="utf-8")
    return path


def test_an_import_reports_checking_then_writing_per_batch(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin.import_file(runtime, "accounts", accounts_file(tmp_path))
    monkeypatch.setattr(importing, "BATCH", 10)
    reports: Reports = []
    admin.import_file(runtime, "deals", deals_file(tmp_path, 35), progress=lambda *r: reports.append(r))
    assert [name for name, *_ in reports] == ["checking"] * 5 + ["writing"] * 5
    assert rising_to_the_total(reports, "checking") == [0, 10, 20, 30, 35]
    assert rising_to_the_total(reports, "writing") == [0, 10, 20, 30, 35]
    again: Reports = []  # the same file again updates every deal
    admin.import_file(runtime, "deals", deals_file(tmp_path, 35), progress=lambda *r: again.append(r))
    assert rising_to_the_total(again, "writing") == [0, 10, 20, 30, 35]


def test_a_synthetic_build_reports_deals_written(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "FLUSH_ROWS", 200)
    reports: list[tuple[int, int]] = []
    now = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("UTC"))
    with runtime.engine.begin() as connection:
        store.build(connection, 1000, now, progress=lambda done, total: reports.append((done, total)))
    counts = [done for done, _ in reports]
    assert len(reports) > 2 and counts == sorted(counts) and reports[-1] == (1000, 1000)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_bars_and_a_pipe_or_json_gets_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    for stream, quiet, drawn in (
        (Terminal(), False, True),
        (io.StringIO(), False, False),
        (Terminal(), True, False),
    ):
        monkeypatch.setattr(sys, "stderr", stream)
        with progress_bars("crm import deals", quiet=quiet) as report:
            report("checking", 0, 10)
            report("checking", 10, 10)
            report("writing", 5, 10)
        assert ("crm import deals: writing" in stream.getvalue()) is drawn
        assert bool(stream.getvalue()) is drawn


def test_a_piped_import_prints_its_line_and_no_escape_codes(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--db", database_url, "import", "accounts", str(accounts_file(tmp_path))]) == 0
    assert main(["--db", database_url, "import", "deals", str(deals_file(tmp_path, 30))]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[-1] == "Imported deals: 30 created, 0 updated."
    assert err == "" and "\x1b" not in out
