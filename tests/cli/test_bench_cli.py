"""`crm bench` (shared/spec/cli.md): the JSON contract, a mix that runs without an error reply, and the
store it builds in. Timings are never asserted: they depend on the machine."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from adapters.cli.main import main
from assistant.bench.mix import MIX
from assistant.replies import say

CLOCK = ["--tz", "UTC", "--now", "2026-11-23T09:00"]
SMALL = ["bench", "--deals", "300", "--rounds", "1", "--json"]


def bench(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main([*CLOCK, *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_bench_json_contract_and_every_kind_answers(database_url: str, capsys) -> None:
    data = bench(capsys, "--db", database_url, *SMALL)
    assert {"deals", "engine", "turn_ms", "sql_ms", "ratio_p50"} <= set(data)
    assert set(data["turn_ms"]) == set(data["sql_ms"]) == {"p50", "p95"}
    assert all(isinstance(v, float) for v in (*data["turn_ms"].values(), *data["sql_ms"].values()))
    assert isinstance(data["ratio_p50"], float)
    assert data["deals"] == 300
    assert data["engine"] == database_url.split(":")[0].split("+")[0]
    assert data["built"] is True
    assert len(data["kinds"]) >= 20
    assert {p["role"] for p in data["personas"]} == {"rep", "manager"}
    assert data["errors"] == []
    per_round = Counter(kind.key for kind in MIX)
    assert set(data["kinds"]) == set(per_round)
    for key, kind in data["kinds"].items():
        assert kind["errors"] == 0, key
        assert "something went wrong" not in kind["reply"].lower(), key
        assert say("error") not in kind["reply"], key
        assert kind["turns"] + kind["skipped"] == 2 * per_round[key], key  # as a rep and as the manager
        assert kind["intents"] == ({kind["expected_intent"]: kind["turns"]} if kind["turns"] else {}), key
    reads = [k for k in data["kinds"].values() if "sql_p50" in k]
    assert len(reads) >= 12 and all(k["turns"] == 2 for k in reads)


def test_bench_reuses_its_own_store_and_refuses_others(database_url: str, capsys) -> None:
    bench(capsys, "--db", database_url, *SMALL)
    assert main([*CLOCK, "--db", database_url, *SMALL]) == 1
    assert "already holds 300 deals" in capsys.readouterr().err
    again = bench(capsys, "--db", database_url, *SMALL, "--reuse")
    assert again["built"] is False and again["errors"] == []
    assert main([*CLOCK, "--db", database_url, "bench", "--deals", "400", "--reuse"]) == 1
    assert "exactly 400 deals" in capsys.readouterr().err


def test_bench_refuses_a_store_that_is_not_its_own(database_url: str, capsys) -> None:
    assert main([*CLOCK, "--db", database_url, "demo"]) == 0
    capsys.readouterr()
    assert main([*CLOCK, "--db", database_url, *SMALL, "--reuse"]) == 1
    assert "not built by crm bench" in capsys.readouterr().err


def test_without_db_it_uses_a_temporary_file_never_the_users_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    own = tmp_path / "own.sqlite3"
    monkeypatch.setenv("CRM_DATABASE_URL", f"sqlite:///{own}")
    data = bench(capsys, *SMALL)
    assert data["engine"] == "sqlite" and data["errors"] == []
    assert not own.exists()


def test_text_output_has_the_headline_and_a_row_per_kind(tmp_path: Path, capsys) -> None:
    assert (
        main(
            [
                *CLOCK,
                "--db",
                f"sqlite:///{tmp_path / 'b.sqlite3'}",
                "bench",
                "--deals",
                "300",
                "--rounds",
                "1",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "turn latency" in out and "hand-written SQL" in out and "ratio p50" in out
    for kind in ("pipeline_by_stage", "account_summary", "log_call", "undo", "out_of_scope"):
        assert f"\n{kind} " in out


def test_help_says_where_it_builds(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["bench", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage: crm bench" in out and "temporary SQLite file" in out and "--reuse" in out
