"""Rendering helpers every adapter shares: a `Reply` as plain text, the one fallback for whatever a
platform does not show richly.

Pure functions, no platform: stored text cleaned of control characters, tables aligned on their
numbers, buttons as typed keys ("[1] Yes  [2] No  [undo]") and a typed key turned back into the
button's value. The terminal, Slack's monospaced tables and any text-only channel use the same ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from assistant.messages import Button, Reply, Table

# Control characters from stored data must not reach a terminal or a client (escape-sequence injection).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A cell that reads as a number: 12, -3.5, 1,250, €12,000, $3.2k, 45 %, (120), 12 000 EUR.
_NUMBER = re.compile(
    r"^[(+\-−]?\s*(?:[$€£¥₹]|[A-Z]{3}\s)?\s*\d[\d,.\u00a0\u202f' ]*"
    r"(?:\s?(?:%|[kKmMbB]n?|[$€£¥₹]|[A-Z]{3}))?\)?$"
)


def clean(text: str) -> str:
    """Drops control characters (tabs become spaces) so stored text cannot drive the screen."""
    return _CONTROL.sub("", text.replace("\t", "    ").replace("\r\n", "\n"))


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


def table_cells(table: Table) -> tuple[list[str], list[list[str]], list[str] | None]:
    """Header, rows and total as clean one-line cells, every row as wide as the header."""
    count = len(table.columns)

    def fit(row: Iterable[str]) -> list[str]:
        cells = [clean(str(c)).replace("\n", " ") for c in row][:count]
        return cells + [""] * (count - len(cells))

    return fit(table.columns), [fit(row) for row in table.rows], fit(table.total) if table.total else None


def _pad(cell: str, width: int, right: bool) -> str:
    gap = " " * (width - display_width(cell))
    return gap + cell if right else cell + gap


def text_table(table: Table) -> list[str]:
    """Aligned columns two spaces apart: a header, a rule, the rows, and a ruled-off total row if any.

    Numeric columns are right-aligned (header too) so that amounts line up on their last digit.
    """
    header, rows, total = table_cells(table)
    right = numeric_columns(table)
    every = [header, *rows, *([total] if total else [])]
    widths = [max(display_width(r[i]) for r in every) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(_pad(c, w, r) for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    lines = [line(header), rule, *(line(r) for r in rows)]
    if total:
        lines += [rule, line(total)]
    return lines


def button_keys(buttons: Sequence[Button]) -> list[str]:
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


def button_hint(buttons: Sequence[Button]) -> str:
    """`  [1] Yes  [2] No  [undo]`: a button whose key is its own label shows only the key."""
    if not buttons:
        return ""
    parts = []
    for key, button in zip(button_keys(buttons), buttons, strict=True):
        label = clean(button.label).replace("\n", " ")
        parts.append(f"[{key}]" if key.casefold() == label.casefold() else f"[{key}] {label}")
    return "  " + "  ".join(parts)


def resolve_button(line: str, buttons: Sequence[Button]) -> str:
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


def plain_reply(reply: Reply, hints: bool = True) -> str:
    """The whole reply as plain text: its plain form, the table, and (with `hints`) the button keys.
    A chart is left out: the table beside it carries the same figures."""
    parts = [clean(reply.plain)]
    if reply.table is not None and reply.table.columns:
        parts.append("\n".join(text_table(reply.table)))
    if hints and reply.buttons:
        parts.append(button_hint(reply.buttons))
    return "\n".join(p for p in parts if p)
