"""`crm chat` and the terminal rendering of a Reply (shared/spec/cli.md, architecture.md).

Rendering is tested on hand-built Replies, so a change in the engine's wording cannot hide a rendering
bug; the end-to-end tests run the real assistant on the demo store, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import rendering, terminal
from adapters.cli.main import main
from assistant.messages import Button, Message, Reply, Table

NOW = ["--tz", "UTC", "--now", "2026-11-23T09:00"]
DANIEL = "daniel.okafor@northwind.example"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

DEALS = Table(
    columns=("Deal", "Stage", "Amount"),
    rows=(("Acme renewal", "negotiation", "€120,000"), ("Globex pilot", "proposal", "€8,500")),
    numeric=(False, False, True),
    total=("Total", "", "€128,500"),
)
YES_NO_UNDO = [Button("Yes", "yes", "confirm"), Button("No", "no", "cancel"), Button("Undo", "undo", "undo")]


# --- rendering ----------------------------------------------------------------------------------------


def test_a_table_aligns_columns_and_right_aligns_amounts() -> None:
    lines = rendering.text_table(DEALS)
    assert lines == [
        "Deal          Stage          Amount",
        "------------  -----------  --------",
        "Acme renewal  negotiation  €120,000",
        "Globex pilot  proposal       €8,500",
        "------------  -----------  --------",
        "Total                      €128,500",
    ]
    assert len({len(line) for line in lines}) == 1  # every line ends on the amounts' last digit


def test_numeric_columns_are_inferred_when_the_table_does_not_say() -> None:
    table = Table(columns=("Rep", "Deals", "Won"), rows=(("Maria", "12", "45 %"), ("Daniel", "3", "100 %")))
    assert rendering.numeric_columns(table) == (False, True, True)
    assert rendering.text_table(table)[2:] == ["Maria      12   45 %", "Daniel      3  100 %"]


def test_a_table_pads_short_rows_and_counts_wide_characters() -> None:
    table = Table(columns=("Name", "City"), rows=(("東京商事", "Tokyo"), ("Acme",)))
    lines = rendering.text_table(table)
    assert lines[2] == "東京商事  Tokyo"
    assert lines[3] == "Acme"
    assert rendering.display_width(lines[2]) == rendering.display_width(lines[0]) + 1  # "City" < "Tokyo"


def test_button_hint_numbers_answers_and_names_undo() -> None:
    assert rendering.button_hint(YES_NO_UNDO) == "  [1] Yes  [2] No  [undo]"
    assert rendering.resolve_button("1", YES_NO_UNDO) == "yes"
    assert rendering.resolve_button(" NO ", YES_NO_UNDO) == "no"
    assert rendering.resolve_button("undo", YES_NO_UNDO) == "undo"
    assert rendering.resolve_button("3", YES_NO_UNDO) == "3"  # not a button: sent as typed
    assert rendering.resolve_button("move it anyway", []) == "move it anyway"


def test_a_pick_list_keeps_the_replys_own_numbers() -> None:
    """The reply's text says "1. Acme Corp": typing 1 must pick it, wherever Cancel sits."""
    picks = [Button("Cancel", "cancel", "cancel"), Button("Acme Corp", "1"), Button("Acme Labs", "2")]
    assert rendering.button_keys(picks) == ["3", "1", "2"]
    assert rendering.button_hint(picks) == "  [3] Cancel  [1] Acme Corp  [2] Acme Labs"
    assert rendering.resolve_button("1", picks) == "1"
    assert rendering.resolve_button("3", picks) == "cancel"
    assert rendering.resolve_button("acme labs", picks) == "2"


def test_plain_rendering_has_no_escapes_and_colour_marks_bold_and_hints() -> None:
    reply = Reply(text="Moved *Acme renewal* to *negotiation*.", buttons=YES_NO_UNDO, table=DEALS)
    plain = terminal.TerminalChannel().render(reply)
    assert plain.splitlines() == ["Moved Acme renewal to negotiation.", *rendering.text_table(DEALS)]
    assert "\x1b" not in plain and "[undo]" not in plain  # hints only where a person can press them
    coloured = terminal.TerminalChannel(colour=True, hints=True, width=100).render(reply)
    assert "Moved \x1b[1mAcme renewal\x1b[0m to \x1b[1mnegotiation\x1b[0m." in coloured
    assert coloured.endswith("\x1b[2m  [1] Yes  [2] No  [undo]\x1b[0m")
    shown = ANSI.sub("", coloured).splitlines()
    rows = [line for line in shown if line.startswith(("Acme renewal", "Globex pilot", "Total"))]
    assert len(rows) == 3 and len({len(r.rstrip()) for r in rows}) == 1  # amounts end in one column
    assert rows[0].split() == ["Acme", "renewal", "negotiation", "€120,000"]


def test_colour_keeps_arithmetic_and_brackets_and_strips_control_characters() -> None:
    assert terminal.marked("2 * 3 = 6, *ok*").plain == "2 * 3 = 6, ok"
    screen = terminal.TerminalChannel(colour=True, width=100)
    shown = screen.render_text(Reply("Acme\x1b[31m red\x07 [bold]not markup[/bold]"))
    assert ANSI.sub("", shown) == "Acme[31m red [bold]not markup[/bold]"


def test_colour_needs_a_terminal_and_no_NO_COLOR() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert terminal.use_colour(Tty(), env={})
    assert not terminal.use_colour(Tty(), env={"NO_COLOR": ""})
    assert not terminal.use_colour(io.StringIO(), env={})


def test_turn_json_carries_the_contract_fields() -> None:
    reply = Reply(text="*2* deals", intent="query_deals", slots={"period": "this month"}, table=DEALS)
    record = terminal.turn_json("top deals", reply)
    assert record["text"] == "top deals" and record["reply"] == "2 deals"
    assert record["intent"] == "query_deals" and record["slots"] == {"period": "this month"}
    assert record["buttons"] == [] and record["table"]["total"] == ["Total", "", "€128,500"]
    assert "sent" not in record
    assert terminal.turn_json("1", reply, sent="yes")["sent"] == "yes"


# --- the loop, on a stand-in assistant -----------------------------------------------------------------


class Echo:
    """Answers every message with a yes/no question, and fails on "boom" like a broken skill would."""

    def __init__(self) -> None:
        self.seen: list[Message] = []

    def __call__(self, message: Message) -> Reply:
        self.seen.append(message)
        if message.text == "boom":
            raise RuntimeError("a bug deep in a skill")
        return Reply(text=f"You said *{message.text}*. Sure?", buttons=YES_NO_UNDO, intent="echo")


def test_piped_lines_are_turns_and_a_failure_is_an_apology(capsys: pytest.CaptureFixture[str]) -> None:
    echo = Echo()
    chat = terminal.Chat(echo, "ann@x.example")
    out = io.StringIO()
    assert terminal.run_lines(chat, ["hello\n", "\n", "boom\n", "2\n", "/quit\n", "never\n"], out) == 0
    assert out.getvalue() == (
        f"You said hello. Sure?\n\n{terminal.SORRY}\n\nYou said 2. Sure?\n\n"  # no buttons after the apology
    )
    assert [m.text for m in echo.seen] == ["hello", "boom", "2"]
    assert all(m.channel == "terminal" and m.sender == "ann@x.example" and not m.customer for m in echo.seen)
    assert "Traceback" not in capsys.readouterr().err


def test_piped_jsonl_records_button_presses() -> None:
    chat = terminal.Chat(Echo(), "terminal-customer", customer=True)
    out = io.StringIO()
    terminal.run_lines(chat, ["hello", "1"], out, jsonl=True)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["text"] == "hello" and first["intent"] == "echo" and len(first["buttons"]) == 3
    assert second["text"] == "1" and second["sent"] == "yes" and second["reply"] == "You said yes. Sure?"


def test_interactive_chat_greets_helps_presses_buttons_and_leaves(tmp_path: Path) -> None:
    typed: Iterator[str] = iter(["/help", "hello", "", "1", "/nope", "/quit", "never"])
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        return next(typed)

    echo = Echo()
    out = io.StringIO()
    chat = terminal.Chat(echo, DANIEL)
    hello = terminal.greeting(DANIEL, False, "postgresql://crm:secret@db/crm")
    assert terminal.run_interactive(chat, out, hello, colour=False, read=read) == 0
    text = out.getvalue()
    assert text.startswith(f"crm chat: you are {DANIEL}, on postgresql://crm:***@db/crm.\n")
    assert "secret" not in text and "/quit" in text and "  [1] Yes  [2] No  [undo]" in text
    assert "You said yes. Sure?" in text and "Unknown command /nope" in text
    assert [m.text for m in echo.seen] == ["hello", "yes"]
    assert set(prompts) == {"you> "} and len(prompts) == 6


@pytest.mark.parametrize("ending", [EOFError, KeyboardInterrupt])
def test_ctrl_d_and_ctrl_c_leave_cleanly(ending: type[BaseException]) -> None:
    def read(prompt: str) -> str:
        raise ending

    out = io.StringIO()
    assert terminal.run_interactive(terminal.Chat(Echo(), DANIEL), out, "hi", colour=True, read=read) == 0
    assert out.getvalue() == "hi\n\n"


def test_history_is_saved_between_sessions(tmp_path: Path) -> None:
    readline = pytest.importorskip("readline")
    path = tmp_path / "sub" / "chat_history"
    save = terminal.load_history(path)
    assert save is not None
    readline.clear_history()
    readline.add_history("tell me about acme")
    save()
    assert "tell me about acme" in path.read_text()
    readline.clear_history()


# --- the real assistant on the demo store --------------------------------------------------------------


@pytest.fixture
def demo_db(database_url: str, capsys: pytest.CaptureFixture[str]) -> str:
    pytest.importorskip("assistant.engine")
    assert main(["--db", database_url, *NOW, "demo"]) == 0
    capsys.readouterr()
    return database_url


def chat(db: str, monkeypatch: pytest.MonkeyPatch, lines: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    monkeypatch.delenv("CRM_USER", raising=False)
    return main(["--db", db, *NOW, "chat", *args])


def test_chat_jsonl_on_the_demo_store(
    demo_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = "tell me about acme\n\ntop deals this month\n"
    assert chat(demo_db, monkeypatch, lines, "--as", DANIEL, "--jsonl") == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    turns = [json.loads(line) for line in out.splitlines()]
    assert [t["text"] for t in turns] == ["tell me about acme", "top deals this month"]
    for turn in turns:
        assert set(turn) >= {"text", "intent", "slots", "reply", "buttons", "table"}
        assert turn["reply"] and turn["reply"] != terminal.SORRY
    assert turns[0]["intent"] == "account_summary" and "Acme" in turns[0]["reply"]
    assert turns[1]["intent"] == "query_deals"
    assert turns[1]["slots"]["period"] == {"start": "2026-11-01", "end": "2026-11-30"}


def test_chat_plain_on_the_demo_store(
    demo_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert chat(demo_db, monkeypatch, "tell me about acme\ntop deals this month\n", "--as", DANIEL) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "\x1b" not in out and "you> " not in out
    turns = out.split("\n\n")
    assert len([t for t in turns if t.strip()]) == 2 and out.endswith("\n\n")
    assert "Acme" in turns[0] and terminal.SORRY not in out


def test_an_unknown_user_is_refused_clearly(
    demo_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = chat(demo_db, monkeypatch, "top deals this month\n", "--as", "ghost@nowhere.example", "--jsonl")
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    (turn,) = [json.loads(line) for line in out.splitlines()]
    assert turn["intent"] == "unknown_user" and turn["table"] is None
    assert "don't know you" in turn["reply"] and "ghost@nowhere.example" in turn["reply"]
    assert "crm users add" in turn["reply"]


def test_interactive_chat_through_crm_chat(
    demo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Keyboard(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(terminal, "history_path", lambda: tmp_path / "chat_history")
    monkeypatch.setattr("sys.stdin", Keyboard("log a call with acme\nUndo\n/quit\n"))
    assert main(["--db", demo_db, *NOW, "chat", "--as", DANIEL]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"crm chat: you are {DANIEL}, on ")
    assert "you> " in out and "Logged a call with Acme Corporation" in out and "  [undo]" in out
    assert "Undone: a call with Acme Corporation" in out  # the button's label sent its value
    assert "\x1b" not in out  # stdout is not a terminal here


def test_who_you_are_is_required_when_the_store_has_many_staff(
    demo_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert chat(demo_db, monkeypatch, "hi\n") == 2
    assert capsys.readouterr().err == "crm chat: say who you are: crm chat --as EMAIL\n"


def test_crm_user_names_the_staff_user(
    demo_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("tell me about acme\n"))
    monkeypatch.setenv("CRM_USER", DANIEL)
    assert main(["--db", demo_db, *NOW, "chat", "--jsonl"]) == 0
    assert json.loads(capsys.readouterr().out)["intent"] == "account_summary"


def test_chat_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["chat", "--help"])
    assert done.value.code == 0
    assert "--as EMAIL" in capsys.readouterr().out


def test_a_failing_turn_is_one_plain_line_never_a_traceback(
    demo_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.engine import Assistant

    def broken(self: Assistant, message: Message) -> Reply:
        raise ZeroDivisionError("a bug deep in a skill")

    monkeypatch.setattr(Assistant, "_handle", broken)
    assert chat(demo_db, monkeypatch, "tell me about acme\nhi\n", "--as", DANIEL, "--jsonl") == 0
    out, err = capsys.readouterr()
    turns = [json.loads(line) for line in out.splitlines()]
    assert len(turns) == 2 and all("nothing was changed" in t["reply"] for t in turns)
    assert "Traceback" not in out + err and "ZeroDivisionError" not in err
    assert err.splitlines() == ["crm chat: turn failed: 'tell me about acme'", "crm chat: turn failed: 'hi'"]
