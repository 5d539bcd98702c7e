"""Corrections to a question about a write: "no, Thursday" to "Log a call ... follow-up Tue 1 Dec?".

Said to a read-back (voice) or to a confirmation, a correction changes what was asked about and the
question is asked again, instead of a "no" that drops the request and makes the speaker start over.
Only what the correction names changes: its free text (a note's words, a task's title) is the lead's
leftovers, never a new note.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

FREE_TEXT = ("notes", "task", "subject")
DATES = ("when", "follow_up", "due", "close_date")
_LEAD_WORD = re.compile(r"[\s,.!;:-]*([A-Za-z']+)[\s,.!;:-]*")


@cache
def _words() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        resources.files("assistant").joinpath("dialogue_words.json").read_text("utf-8")
    )
    return data


def without_lead(text: str) -> tuple[str, bool]:
    """The correction's words after "no", "actually", "make it"..., and whether any such lead was said."""
    lead = set(_words()["correction_lead"])
    rest, led = text, False
    while (match := _LEAD_WORD.match(rest)) is not None and match.group(1).lower() in lead:
        rest, led = rest[match.end() :], True
    return rest.strip(" .!?,"), led


def changes(
    read: Mapping[str, Any], asked: Mapping[str, Any], read_cued: Callable[[str], Mapping[str, Any]]
) -> dict[str, Any]:
    """The slots a correction changes: `read` is the correction read as the request, `asked` the
    request's slots; a lone date goes to the request's one date, read again after that slot's cue by
    `read_cued` ("follow up thursday" is next Thursday, where the "thursday" of a call is the last one)."""
    said = {k: v for k, v in read.items() if v is not None and not k.startswith("_") and k not in FREE_TEXT}
    dates = [k for k in said if k in DATES]
    had = [k for k in DATES if asked.get(k)]
    if len(dates) == 1 and dates[0] not in asked and len(had) == 1:
        target = had[0]
        cue = _words()["date_cues"].get(target)
        value = read_cued(cue).get(target) if cue else said[dates[0]]
        del said[dates[0]]
        if value is not None:
            said[target] = value
    return said
