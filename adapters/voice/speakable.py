"""A reply's short form as it is said aloud: what reads well on a screen ("Tue 1 Dec", "$20,000",
"09:00") is written out for the speech engine ("Tuesday 1 December", "20,000 dollars", "9 AM")."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from adapters.rendering import clean
from assistant.messages import Reply

_CLOCK = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
_MONEY = re.compile(r"([$€£])\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s?(k|K|m|M|bn|B)?\b")
_SCALED = re.compile(r"\b(\d+(?:\.\d+)?)(k|K|bn)\b")
_BRACKETS = re.compile(r"\s*[()\[\]]\s*")


@cache
def _data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(__file__).with_name("speakable.json").read_text("utf-8"))
    return data


def _clock(match: re.Match[str]) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    half = "AM" if hour < 12 else "PM"
    shown = hour % 12 or 12
    return f"{shown} {half}" if minute == 0 else f"{shown}:{minute:02d} {half}"


def _money(match: re.Match[str]) -> str:
    data = _data()
    scale = f" {data['scales'][match.group(4)]}" if match.group(4) else ""
    return f"{match.group(2)}{match.group(3) or ''}{scale} {data['currencies'][match.group(1)]}"


def speakable(text: str) -> str:
    """`text` for the speech engine: clock times, sums and abbreviations written out, brackets
    and the markup of a screen dropped."""
    data = _data()
    said = _CLOCK.sub(_clock, text.replace("*", "").replace("_", " "))
    said = _MONEY.sub(_money, said)
    said = _SCALED.sub(lambda m: f"{m.group(1)} {data['scales'][m.group(2)]}", said)
    words, dates = data["words"], data["dates"]
    said = re.sub(r"(?<![\w/])([A-Za-z]+/?)(?![\w/])", lambda m: words.get(m.group(1), m.group(1)), said)
    near_a_number = r"\b([A-Z][a-z]{2,3})\b(?=\s+\d)|(?<=\d\s)([A-Z][a-z]{2,3})\b"
    said = re.sub(near_a_number, lambda m: dates.get(m.group(0), m.group(0)), said)
    said = _BRACKETS.sub(", ", said)
    said = re.sub(r"\s*,(\s*[,.;:?!])+", lambda m: m.group(0)[-1], said)
    return re.sub(r"\s+([,.;:?!])", r"\1", said).strip(" ,")


def spoken(reply: Reply) -> str:
    """What a reply says aloud: its short speakable form, never its table."""
    return speakable(clean(reply.speech or reply.plain))
