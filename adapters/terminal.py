"""The terminal channel: its output side (`TerminalChannel`, on rich) and the loop behind `crm chat`.

Piped, a reply is the plain text every channel falls back to (adapters/channel.py); at a terminal,
rich draws the bold, the tables and the dim button hints. The loop keeps the I/O thin: it reads a line,
turns a typed button number or label into the button's value, asks the assistant, shows the reply.
A turn never prints a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from adapters.channel import OutputChannel
from adapters.rendering import clean, numeric_columns, resolve_button, table_cells
from assistant.messages import Button, Message, Reply, Table
from assistant.replies import say

SORRY = "Sorry, something went wrong; nothing was changed."
PROMPT = "you> "
QUIT_COMMANDS = ("/quit", "/exit")
HELP = (
    "When a reply offers buttons like [1] Yes  [2] No  [undo], type the number or the label.\n"
    "  /help   this list\n"
    "  /quit   leave (also /exit, Ctrl-D or Ctrl-C)"
)

# *bold*: the star must hug a non-space on both sides, so "2 * 3" or a lone "*" stays as it is.
_BOLD_MARK = re.compile(r"\*(?=\S)([^*\n]*?\S)\*")
_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


# --- rendering ----------------------------------------------------------------------------------------


def use_colour(stream: TextIO, env: Mapping[str, str] = os.environ) -> bool:
    """Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org)."""
    if "NO_COLOR" in env or env.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def marked(text: str) -> Text:
    """Light markdown as rich text: *bold* spans bold, everything else literal (never rich markup, so a
    stored "[red]" is shown as typed)."""
    out = Text()
    position = 0
    for match in _BOLD_MARK.finditer(text):
        out.append(text[position : match.start()])
        out.append(match.group(1), style="bold")
        position = match.end()
    out.append(text[position:])
    return out


def rich_table(table: Table) -> RichTable:
    """The reply's table as rich draws it: numbers right-aligned, a bold header and total."""
    header, rows, total = table_cells(table)
    drawn = RichTable(
        box=box.SIMPLE,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
        footer_style="bold",
        show_footer=total is not None,
    )
    for i, (name, right) in enumerate(zip(header, numeric_columns(table), strict=True)):
        drawn.add_column(
            Text(name), footer=Text(total[i]) if total else "", justify="right" if right else "left"
        )
    for row in rows:
        drawn.add_row(*(Text(cell) for cell in row))
    return drawn


@dataclass
class TerminalChannel(OutputChannel):
    """The terminal's output side: plain text when piped; with colour, rich's bold, tables and dim
    button hints. Hints only where a person can press them."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    colour: bool = False
    hints: bool = False
    width: int | None = None  # columns for rich to lay tables out in; None: the terminal's
    name: str = "terminal"

    def _console(self) -> Console:
        return Console(
            file=io.StringIO(),
            force_terminal=True,
            color_system="standard",
            width=self.width or shutil.get_terminal_size().columns,
            highlight=False,
            emoji=False,
            markup=False,
        )

    def styled(self, renderable: Text | RichTable) -> str:
        """A rich renderable as the escape sequences a terminal shows, without a trailing newline."""
        console = self._console()
        with console.capture() as captured:
            console.print(renderable, soft_wrap=isinstance(renderable, Text))
        return captured.get().rstrip("\n")

    def render_text(self, reply: Reply) -> str:
        return self.styled(marked(clean(reply.text))) if self.colour else super().render_text(reply)

    def render_table(self, table: Table) -> str:
        return self.styled(rich_table(table)) if self.colour else super().render_table(table)

    def render_buttons(self, buttons: Sequence[Button]) -> str:
        if not self.hints:
            return ""
        return self.aside(super().render_buttons(buttons))

    def aside(self, text: str) -> str:
        """Hints and asides: dim with colour, as they are without."""
        return self.styled(Text(text, style="dim")) if self.colour and text else text

    def strong(self, text: str) -> str:
        return self.styled(Text(text, style="bold")) if self.colour and text else text

    def send_text(self, recipient: str, text: str, key: str | None = None) -> None:
        self.out.write(text + "\n\n")
        self.out.flush()


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
    screen = TerminalChannel(colour=colour)
    return "\n".join(
        [
            f"crm chat: you are {screen.strong(clean(who))}, on {describe_database(database)}.",
            screen.aside("Type /help for help, /quit to leave."),
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
    channel: str = "terminal"  # or "voice": `crm voice` speaks through the same conversation
    spoken: bool = False  # the lines were heard (crm voice): writes are read back first

    def say(self, line: str) -> tuple[str, Reply]:
        """Sends one typed line (a button number or label becomes its value); returns what was sent and
        the reply. Any failure becomes the apology reply: the engine runs each turn in one transaction."""
        sent = resolve_button(line, self.buttons)
        try:
            message = Message(
                self.channel,
                self.sender,
                sent,
                customer=self.customer,
                sender_is_email=True,
                spoken=self.spoken,
            )
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
    screen = TerminalChannel(out)
    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.casefold() in QUIT_COMMANDS:
            break
        sent, reply = chat.say("help" if line.casefold() == "/help" else line)  # /help: what help says
        if jsonl:
            out.write(json.dumps(turn_json(line, reply, sent), ensure_ascii=False, default=str) + "\n")
            out.flush()
        else:
            screen.send_reply(chat.sender, reply)
    return 0


def help_text(customer: bool, screen: TerminalChannel) -> str:
    """/help: what can be said, as the assistant's own "help" answers, then the terminal's commands."""
    said = say("help_customer" if customer else "help_staff")
    return screen.render_text(Reply(said)) + "\n\n" + screen.aside(HELP)


def prompt_text(colour: bool) -> str:
    """The prompt, bold with colour; its escapes are wrapped in \\001..\\002 so that readline counts
    only the visible width (rich's own `Console.input` prints the prompt apart from readline)."""
    if not colour:
        return PROMPT
    return _ESCAPE.sub(lambda m: f"\001{m.group(0)}\002", TerminalChannel(colour=True).strong(PROMPT))


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
    screen = TerminalChannel(out, colour, hints=True)
    out.write(hello + "\n")
    for reply in waiting:  # reminders delivered while no chat was open: nothing left to press
        TerminalChannel(out, colour).send_reply(chat.sender, reply)
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
                out.write(help_text(chat.customer, screen) + "\n\n")
                continue
            if command.startswith("/") and " " not in command:
                out.write(screen.aside(f"Unknown command {line}; /help lists them.") + "\n\n")
                continue
            _sent, reply = chat.say(line)
            screen.send_reply(chat.sender, reply)
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
