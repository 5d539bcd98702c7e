"""`crm parse` and `crm eval-nlu` against a demo store (shared/spec/cli.md, intents.md)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from adapters.cli.main import main

NOW = ["--tz", "UTC", "--now", "2026-11-23T09:00"]


@pytest.fixture
def demo_db(database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["--db", database_url, *NOW, "demo"]) == 0
    capsys.readouterr()
    return database_url


def test_parse_text_prints_the_contract_shape(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["--db", demo_db, *NOW, "parse", "--json", "log a call with Acme, follow up next Tuesday"]) == 0
    )
    parse = json.loads(capsys.readouterr().out)
    assert set(parse) == {"text", "intent", "confidence", "slots"}
    assert parse["intent"] == "log_activity"
    assert parse["slots"]["account"] == "Acme Corporation"
    assert parse["slots"]["follow_up"] == "2026-12-01"


def test_parse_jsonl_reads_plain_and_json_lines_with_roles(
    demo_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = 'top deals this week\n{"text": "any update on ticket 1042?", "role": "customer"}\nhi\n'
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    assert main(["--db", demo_db, *NOW, "parse", "--jsonl"]) == 0
    parses = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["intent"] for p in parses] == ["query_deals", "ticket_status", "greet"]
    assert parses[0]["slots"]["period"] == {"start": "2026-11-23", "end": "2026-11-29"}
    assert parses[1]["slots"] == {"ticket": 1042}


def test_a_customer_never_gets_a_staff_intent(demo_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", demo_db, *NOW, "parse", "--role", "customer", "move Globex to negotiation"]) == 0
    assert json.loads(capsys.readouterr().out)["intent"] in ("out_of_scope", "faq", "open_ticket", "help")


def test_eval_nlu_scores_a_file_and_enforces_a_bar(demo_db: str, tmp_path: Path, capsys) -> None:
    labelled = tmp_path / "set.jsonl"
    rows = [
        {"text": "move globex to negotiation", "intent": "update_deal",
         "slots": {"account": "Globex Inc", "stage": "negotiation"}},
        {"text": "what's the weather", "intent": "out_of_scope", "slots": {}},
    ]  # fmt: skip
    labelled.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert main(["--db", demo_db, *NOW, "eval-nlu", str(labelled), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["intent_accuracy"] == 1.0 and report["frame_accuracy"] == 1.0
    labelled.write_text(json.dumps({**rows[0], "intent": "create_deal"}) + "\n")
    assert main(["--db", demo_db, *NOW, "eval-nlu", str(labelled), "--min-intent", "0.95"]) == 1
    assert "below the bar" in capsys.readouterr().err


def test_eval_nlu_names_a_bad_line(demo_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labelled = tmp_path / "bad.jsonl"
    labelled.write_text('{"text": "hi", "intent": "greet", "slots": {}}\nnot json\n')
    assert main(["--db", demo_db, *NOW, "eval-nlu", str(labelled)]) == 1
    assert "line 2" in capsys.readouterr().err
