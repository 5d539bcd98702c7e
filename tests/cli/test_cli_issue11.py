"""Issue 11 at the command line: `crm demo` piped says why no chat opened; `crm import` refuses a blank
required value and reads headers in any case; the terminal's /help says what can be said."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from adapters import terminal
from adapters.cli.main import main
from assistant.messages import Message, Reply

NOW = ["--tz", "UTC", "--now", "2026-11-23T09:00"]
DANIEL = "daniel.okafor@northwind.example"


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def crm(database_url: str, *args: str) -> int:
    return main(["--db", database_url, *NOW, *args])


def test_demo_piped_seeds_and_says_why_no_chat_opened(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert crm(database_url, "demo") == 0
    out, err = capsys.readouterr()
    assert "Seeded the demo company" in out and "chat not opened" not in out
    assert err.strip() == (
        "crm demo: chat not opened: stdin and stdout are not a terminal; "
        f"run crm chat --as {DANIEL} with the same --db in a terminal to talk to the demo company."
    )
    monkeypatch.setattr(sys, "stdin", Tty(""))  # typed at, but the output goes to a pipe
    assert crm(database_url, "demo") == 0
    out, err = capsys.readouterr()
    assert "already holds data" in out
    assert "chat not opened: stdout is not a terminal; run crm chat --as" in err


def test_import_refuses_a_blank_name_by_line(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "accounts.csv"
    bad.write_text("name,industry\nGood Co,Software\n,Retail\n")
    assert crm(database_url, "import", "accounts", str(bad)) == 1
    err = capsys.readouterr().err
    assert "line 3, column name: a required value is blank" in err and "nothing was imported" in err
    assert crm(database_url, "export", "accounts") == 0
    assert "Good Co" not in capsys.readouterr().out


def test_import_reads_headers_in_any_case(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("Name,Industry\nCase Co,Software\n")
    assert crm(database_url, "import", "accounts", str(accounts)) == 0
    deals = tmp_path / "deals.csv"
    deals.write_text("Name,Account,Amount\nCase Deal,Case Co,1000\n")
    assert crm(database_url, "import", "deals", str(deals)) == 0
    assert "Imported deals: 1 created" in capsys.readouterr().out
    assert crm(database_url, "export", "deals", "--format", "jsonl") == 0
    deal = json.loads(capsys.readouterr().out.splitlines()[0])
    assert (deal["name"], deal["account"]) == ("Case Deal", "Case Co")


class Silent:
    def __call__(self, message: Message) -> Reply:
        return Reply(text=f"echo {message.text}")


@pytest.mark.parametrize("customer", [False, True])
def test_slash_help_says_what_can_be_said(customer: bool) -> None:
    typed = iter(["/help", "/quit"])
    out = io.StringIO()
    chat = terminal.Chat(Silent(), DANIEL, customer)
    assert terminal.run_interactive(chat, out, "hi", colour=False, read=lambda _p: next(typed)) == 0
    text = out.getvalue()
    if customer:
        assert "open a support ticket" in text and "log a call" not in text
    else:
        assert "log a call with Acme" in text and "what's on my plate today" in text
    assert "/quit   leave" in text


def test_piped_slash_help_is_the_help_turn() -> None:
    seen: list[str] = []

    def handle(message: Message) -> Reply:
        seen.append(message.text)
        return Reply(text="help text")

    out = io.StringIO()
    terminal.run_lines(terminal.Chat(handle, DANIEL), ["/help\n"], out, jsonl=True)
    assert seen == ["help"]
    assert json.loads(out.getvalue())["text"] == "/help"
