"""The terminal channel: a `Reply` rendered as text, and the loop behind `crm chat`.

Rendering is a handful of small pure functions (markup, tables, button hints) so that the pattern is
easy to copy: each adapter turns the same neutral `Reply` into its own platform's form. The loop keeps
the I/O thin: it reads a line, turns a typed button number or label into the button's value, asks the
assistant, prints the reply. A turn never prints a traceback.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import traceback
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from assistant.messages import Button, Message, Reply, Table

BOLD, DIM, NORMAL = "\x1b[1m", "\x1b[2m", "\x1b[22m"
SORRY = "Sorry, something went wrong; nothing was changed."
PROMPT = "you> "
QUIT_COMMANDS = ("/quit", "/exit")
HELP = (
    "Type what you want in plain words, e.g. 'tell me about acme' or 'top deals this month'.\n"
    "When a reply offers buttons like [1] Yes  [2] No  [undo], type the number or the label.\n"
    "  /help   this list\n"
    "  /quit   leave (also /exit, Ctrl-D or Ctrl-C)"
)

# *bold*: the star must hug a non-space on both sides, so "2 * 3" or a lone "*" stays as it is.
_BOLD_MARK = re.compile(r"\*(?=\S)([^*\n]*?\S)\*")
# Control characters from stored data must not reach the terminal (escape-sequence injection).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A cell that reads as a number: 12, -3.5, 1,250, €12,000, $3.2k, 45 %, (120), 12 000 EUR.
_NUMBER = re.compile(
    r"^[(+\-−]?\s*(?:[$€£¥₹]|[A-Z]{3}\s)?\s*\d[\d,.\u00a0\u202f' ]*"
    r"(?:\s?(?:%|[kKmMbB]n?|[$€£¥₹]|[A-Z]{3}))?\)?$"
)


# --- rendering: pure functions ------------------------------------------------------------------------


def use_colour(stream: TextIO, env: Mapping[str, str] = os.environ) -> bool:
    """Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org)."""
    if "NO_COLOR" in env or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def clean(text: str) -> str:
    """Drops control characters (tabs become spaces) so stored text cannot drive the terminal."""
    return _CONTROL.sub("", text.replace("\t", "    ").replace("\r\n", "\n"))


def markup(text: str, colour: bool) -> str:
    """Light markdown to the terminal: *bold* becomes bold with colour, plain words without."""
    replacement = rf"{BOLD}\1{NORMAL}" if colour else r"\1"
    return _BOLD_MARK.sub(replacement, clean(text))


def dim(text: str, colour: bool) -> str:
    """Hints and asides: dim with colour, as they are without."""
    return f"{DIM}{text}{NORMAL}" if colour and text else text


def bold(text: str, colour: bool) -> str:
    return f"{BOLD}{text}{NORMAL}" if colour and text else text


def display_width(text: str) -> int:
    """Columns a string takes: wide East Asian characters take two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def is_numeric(cell: str) -> bool:
    return bool(_NUMBER.match(cell.strip()))


def numeric_columns(table: Table) -> tuple[bool, ...]:
    """The table's own say, else a column is numeric when every non-empty cell reads as a number."""
    count = len(table.columns)
    if table.numeric:
        return tuple(table.numeric[i] if i < len(table.numeric) else False for i in range(count))
    cells = [[row[i] for row in table.rows if i < len(row) and row[i].strip()] for i in range(count)]
    return tuple(bool(column) and all(is_numeric(c) for c in column) for column in cells)


def _pad(cell: str, width: int, right: bool) -> str:
    gap = " " * (width - display_width(cell))
    return gap + cell if right else cell + gap


def render_table(table: Table, colour: bool = False) -> list[str]:
    """Aligned columns two spaces apart: a header, a rule, the rows, and a ruled-off total row if any.

    Numeric columns are right-aligned (header too) so that amounts line up on their last digit.
    """
    count = len(table.columns)

    def fit(row: Iterable[str]) -> list[str]:
        cells = [clean(str(c)).replace("\n", " ") for c in row][:count]
        return cells + [""] * (count - len(cells))

    header = fit(table.columns)
    rows = [fit(row) for row in table.rows]
    total = fit(table.total) if table.total else None
    right = numeric_columns(table)
    every = [header, *rows, *([total] if total else [])]
    widths = [max(display_width(r[i]) for r in every) for i in range(count)]

    def line(cells: list[str]) -> str:
        return "  ".join(_pad(c, w, r) for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    lines = [bold(line(header), colour), dim(rule, colour), *(line(r) for r in rows)]
    if total:
        lines += [dim(rule, colour), bold(line(total), colour)]
    return lines


def button_keys(buttons: list[Button]) -> list[str]:
    """What to type for each button: its own number when its value is one (the reply's numbering wins),
    the word itself for undo, else the next free number."""
    taken = {b.value.strip() for b in buttons if b.value.strip().isdigit()}
    keys: list[str] = []
    number = 0
    for button in buttons:
        value = button.value.strip()
        if value.isdigit() or (button.kind == "undo" and value):
            keys.append(value)
            continue
        number += 1
        while str(number) in taken:
            number += 1
        keys.append(str(number))
    return keys


def button_hint(buttons: list[Button], colour: bool = False) -> str:
    """`  [1] Yes  [2] No  [undo]`: a button whose key is its own label shows only the key."""
    if not buttons:
        return ""
    parts = []
    for key, button in zip(button_keys(buttons), buttons, strict=True):
        label = clean(button.label).replace("\n", " ")
        parts.append(f"[{key}]" if key.casefold() == label.casefold() else f"[{key}] {label}")
    return dim("  " + "  ".join(parts), colour)


def resolve_button(line: str, buttons: list[Button]) -> str:
    """The text a typed line sends: a button's value when it names a button by key or label."""
    typed = line.strip()
    wanted = typed.casefold()
    if buttons and wanted:
        for key, button in zip(button_keys(buttons), buttons, strict=True):
            if wanted == key.casefold():
                return button.value
        for button in buttons:
            if wanted == button.label.strip().casefold():
                return button.value
    return typed


def render_reply(reply: Reply, colour: bool = False, hints: bool = False) -> str:
    """A whole reply as terminal text: the text (marked up, or the plain fallback), the table, the hint."""
    parts = [markup(reply.text, True) if colour else clean(reply.plain)]
    if reply.table is not None and reply.table.columns:
        parts.append("\n".join(render_table(reply.table, colour)))
    if hints and reply.buttons:
        parts.append(button_hint(reply.buttons, colour))
    return "\n".join(p for p in parts if p)


def turn_json(text: str, reply: Reply, sent: str | None = None) -> dict[str, Any]:
    """One `--jsonl` line: the spec's {"text", "intent", "slots", "reply"} plus buttons and table;
    "sent" appears only when a typed button number or label was sent as that button's value."""
    rich = reply.to_json()
    record: dict[str, Any] = {
        "text": text,
        "intent": reply.intent,
        "slots": reply.slots,
        "reply": reply.plain,
        "buttons": rich["buttons"],
        "table": rich["table"],
    }
    if sent is not None and sent != text:
        record["sent"] = sent
    return record


def describe_database(url: str) -> str:
    """The database for the greeting, with any password hidden."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the configured database"


def greeting(sender: str, customer: bool, database: str, colour: bool = False) -> str:
    who = f"a customer ({sender})" if customer else sender
    return "\n".join(
        [
            f"crm chat: you are {bold(who, colour)}, on {describe_database(database)}.",
            dim("Type /help for help, /quit to leave.", colour),
        ]
    )


# --- the conversation ---------------------------------------------------------------------------------


@dataclass
class Chat:
    """One sender's conversation: builds Messages, remembers the last reply's buttons, never raises."""

    handle: Callable[[Message], Reply]
    sender: str
    customer: bool = False
    debug: bool = False
    buttons: list[Button] = field(default_factory=list)

    def say(self, line: str) -> tuple[str, Reply]:
        """Sends one typed line (a button number or label becomes its value); returns what was sent and
        the reply. Any failure becomes the apology reply: the engine runs each turn in one transaction."""
        sent = resolve_button(line, self.buttons)
        try:
            message = Message(channel="terminal", sender=self.sender, text=sent, customer=self.customer)
            reply = self.handle(message)
            if not isinstance(reply, Reply):
                raise TypeError(f"the assistant answered {type(reply).__name__}, not a Reply")
        except Exception:
            if self.debug:
                traceback.print_exc(file=sys.stderr)
            reply = Reply(text=SORRY)
        self.buttons = list(reply.buttons)
        return sent, reply


def run_lines(chat: Chat, lines: Iterable[str], out: TextIO, jsonl: bool = False) -> int:
    """Stdin not a terminal: one turn per non-empty line, the plain reply and a blank line (or one JSON
    object per turn), flushed each time so a driving program can read a reply before writing the next."""
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.casefold() in QUIT_COMMANDS:
            break
        sent, reply = chat.say(line)
        if jsonl:
            out.write(json.dumps(turn_json(line, reply, sent), ensure_ascii=False, default=str) + "\n")
        else:
            out.write(render_reply(reply) + "\n\n")
        out.flush()
    return 0


def prompt_text(colour: bool) -> str:
    """The prompt; with colour, the escapes are wrapped in \\001..\\002 so readline counts its width."""
    return f"\001{BOLD}\002{PROMPT}\001{NORMAL}\002" if colour else PROMPT


def run_interactive(
    chat: Chat,
    out: TextIO,
    hello: str,
    colour: bool,
    read: Callable[[str], str] = input,
    history: Path | None = None,
    waiting: Sequence[Reply] = (),
) -> int:
    """A person at a terminal: greeting, prompt, replies with colour and button hints; /quit, /exit,
    Ctrl-D and Ctrl-C leave cleanly. Line editing and history come from readline when it is there."""
    forget = load_history(history) if history else None
    prompt = prompt_text(colour)
    out.write(hello + "\n")
    for reply in waiting:  # reminders delivered while no chat was open
        out.write(render_reply(reply, colour, hints=False) + "\n\n")
    out.flush()
    try:
        while True:
            try:
                line = read(prompt).strip()
            except EOFError:
                out.write("\n")
                break
            if not line:
                continue
            command = line.casefold()
            if command in QUIT_COMMANDS:
                break
            if command == "/help":
                out.write(dim(HELP, colour) + "\n\n")
                continue
            if command.startswith("/") and " " not in command:
                out.write(dim(f"Unknown command {line}; /help lists them.", colour) + "\n\n")
                continue
            _sent, reply = chat.say(line)
            out.write(render_reply(reply, colour, hints=True) + "\n\n")
            out.flush()
    except KeyboardInterrupt:
        out.write("\n")
    finally:
        if forget:
            forget()
        out.flush()
    return 0


def load_history(path: Path) -> Callable[[], None] | None:
    """Reads readline history from `path` and returns the function that saves it; None without readline."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input() still works
        return None
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)

    def save() -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)
        except OSError:
            pass

    return save


def history_path() -> Path:
    """~/.local/share/crm-assistant/chat_history on Linux: the same data directory as the default store."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("crm-assistant", appauthor=False)) / "chat_history"
