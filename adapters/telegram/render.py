"""A `Reply` as Telegram messages: HTML text, tables monospaced, buttons as an inline keyboard, all
within Telegram's limits (4096 characters a message, 64 bytes of callback data a button).

Pure functions, no network: the bot (adapters/telegram/bot.py) sends what these return.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.rendering import clean, text_table
from assistant.messages import Button, Reply

MESSAGE_LIMIT = 4096
CALLBACK_LIMIT = 64  # bytes of callback_data Telegram keeps per button
LABEL_LIMIT = 60  # characters of a button's label (Telegram cuts longer ones itself)
ROW_LABELS = 30  # buttons whose labels fit in this many characters share one row
BUTTONS_ONLY = "👇"  # the text of a reply that is only buttons
CHOSEN = "·"  # the callback data of a pressed keyboard's one button: nothing more to do
LONG_VALUES = 10_000  # values too long for callback data, remembered by their hash in this process
_BOLD = re.compile(r"\*([^*\n]+)\*")


@dataclass(frozen=True)
class Chunk:
    """One Telegram message: HTML text, and the keyboard under the last one of a reply."""

    html: str
    keyboard: InlineKeyboardMarkup | None = None


class ButtonValues:
    """Button values as callback data: the value itself when it fits in 64 bytes, else a hash this
    process remembers (a press after a restart of such a button asks to type it instead)."""

    def __init__(self, size: int = LONG_VALUES) -> None:
        self._long: OrderedDict[str, str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def data(self, value: str) -> str:
        if len(value.encode()) <= CALLBACK_LIMIT and not value.startswith("#") and value != CHOSEN:
            return value
        key = "#" + hashlib.sha256(value.encode()).hexdigest()[:24]
        with self._lock:
            self._long[key] = value
            self._long.move_to_end(key)
            if len(self._long) > self._size:
                self._long.popitem(last=False)
        return key

    def value(self, data: str) -> str | None:
        """The text a pressed button sends; None for a pressed keyboard, or a forgotten long value."""
        if data == CHOSEN:
            return None
        if data.startswith("#"):
            with self._lock:
                return self._long.get(data)
        return data


def chunks(reply: Reply, values: ButtonValues, hints: bool = False) -> list[Chunk]:
    """The reply's text (its *bold* as <b>), its table in <pre>, split at line ends into messages of at
    most 4096 characters; the keyboard goes under the last."""
    lines: list[tuple[bool, str]] = [(False, line) for line in _html(reply.text).split("\n")]
    if reply.table is not None and reply.table.columns:
        lines += [(True, html.escape(line, quote=False)) for line in text_table(reply.table)]
    texts = list(_pack(lines))
    keyboard = inline_keyboard(reply.buttons, values) if reply.buttons else None
    if not texts and keyboard is not None:
        texts = [BUTTONS_ONLY]  # Telegram sends no message without text
    if not texts:
        return []  # nothing to say (the bot keeps quiet while a person handles the chat)
    return [Chunk(t, keyboard if i == len(texts) - 1 else None) for i, t in enumerate(texts)]


def inline_keyboard(buttons: Sequence[Button], values: ButtonValues) -> InlineKeyboardMarkup:
    """Short buttons side by side (Yes / No / Undo), long ones (the choices of a list) one per row."""
    keys = [
        InlineKeyboardButton(_label(b.label) or b.value, callback_data=values.data(b.value)) for b in buttons
    ]
    if sum(len(k.text) for k in keys) <= ROW_LABELS:
        return InlineKeyboardMarkup([keys])
    return InlineKeyboardMarkup([[k] for k in keys])


def chosen_keyboard(label: str) -> InlineKeyboardMarkup:
    """What a pressed keyboard becomes: one button saying what was chosen, which does nothing."""
    return InlineKeyboardMarkup([[InlineKeyboardButton(_label(f"✓ {label}"), callback_data=CHOSEN)]])


def pressed_label(keyboard: InlineKeyboardMarkup | None, data: str) -> str | None:
    for row in keyboard.inline_keyboard if keyboard else ():
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


def _label(text: str) -> str:
    return clean(text).replace("\n", " ")[:LABEL_LIMIT]


def _html(text: str) -> str:
    return _BOLD.sub(r"<b>\1</b>", html.escape(clean(text), quote=False)).strip("\n")


def _pack(lines: list[tuple[bool, str]]) -> Iterator[str]:
    """Whole lines into messages under the limit; a monospaced run is closed and reopened across a
    split, and a line longer than a message is cut."""
    budget = MESSAGE_LIMIT - len("<pre></pre>")
    current: list[tuple[bool, str]] = []
    for mono, line in ((m, piece) for m, text in lines for piece in _cut(text, budget)):
        if current and len(_join([*current, (mono, line)])) > MESSAGE_LIMIT:
            yield _join(current)
            current = []
        current.append((mono, line))
    if current and any(line for _, line in current):
        yield _join(current)


def _cut(line: str, budget: int) -> list[str]:
    if len(line) <= budget:
        return [line]
    pieces = []
    while line:
        cut = budget
        amp = line.rfind("&", max(0, cut - 8), cut)  # never inside an &amp; entity
        if amp != -1 and ";" not in line[amp:cut]:
            cut = amp
        pieces.append(line[:cut])
        line = line[cut:]
    return pieces


def _join(lines: list[tuple[bool, str]]) -> str:
    out: list[str] = []
    run: list[str] = []
    mono = False
    for is_mono, line in lines:
        if is_mono != mono and run:
            out.append(f"<pre>{chr(10).join(run)}</pre>" if mono else "\n".join(run))
            run = []
        mono = is_mono
        run.append(line)
    if run:
        out.append(f"<pre>{chr(10).join(run)}</pre>" if mono else "\n".join(run))
    return "\n".join(out).strip("\n")
