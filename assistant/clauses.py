"""More than one request in one message: "met jane at acme, she wants a demo, bump the deal to 60k and
remind me friday" is a meeting, a deal change and a task.

The message is cut at commas, semicolons, "and" and "then". A piece starts a request of its own when
it reads, alone, as a sure write of another kind than the request before it, asking for something
(a stage, an amount, a date). A reminder that an activity reads as its follow-up ("log call w/ acme,
f/u tues") stays with that activity; every other piece stays with the request before it, as its
notes. One request found means no split: the whole message is read as one, as always.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from assistant.references import RECORDS
from intents.catalogue import catalogue
from intents.parse import Parse
from intents.parser import Parser

CLAUSE_SURE = 0.8  # a piece this sure of being a write of its own starts a request
_CUT = re.compile(r"\s*[,;]\s*|\s+(?:and then|and|then)\s+", re.IGNORECASE)
_RECORDS = {*RECORDS, "owner", "assignee"}
_FREE = {"notes", "task", "subject", "title"}
REMINDERS = ("create_task", "snooze_task")


def requests(parser: Parser, text: str, now: datetime, role: str) -> list[str]:
    """The message's requests, in order; one (the whole text) unless pieces stand as requests alone."""
    pieces = [p for p in _CUT.split(text.strip()) if p and p.strip(" .!?")]
    if len(pieces) < 2:
        return [text]
    groups: list[list[str]] = [[pieces[0]]]
    for piece in pieces[1:]:
        alone = parser.parse(piece, now, role)
        if (activity := _follows_up(parser, groups, piece, alone, now, role)) is not None:
            activity.append(piece)  # "..., f/u tuesday": the activity's follow-up, no request of its own
        elif _sure_write(alone) and alone.intent != parser.parse(", ".join(groups[-1]), now, role).intent:
            groups.append([piece])  # a request of another kind than the one before it
        else:
            groups[-1].append(piece)  # words about the request before it: "she wants a demo"
    return [", ".join(group) for group in groups] if len(groups) > 1 else [text]


def _sure_write(piece: Parse) -> bool:
    """A piece that reads, alone, as a sure write asking for something itself (a stage, an amount...)."""
    return piece.intent in catalogue().writes and piece.confidence >= CLAUSE_SURE and bool(_says(piece))


def _follows_up(
    parser: Parser, groups: list[list[str]], piece: str, alone: Parse, now: datetime, role: str
) -> list[str] | None:
    """The group of an activity this piece gives the follow-up date of, if any."""
    due = alone.slots.get("due")
    if alone.intent not in REMINDERS or not isinstance(due, str):
        return None
    for group in groups:
        joined = parser.parse(", ".join([*group, piece]), now, role)
        follow_up = joined.slots.get("follow_up")
        if joined.intent == "log_activity" and isinstance(follow_up, str) and follow_up[:10] == due[:10]:
            return group
    return None


def _says(piece: Parse) -> dict[str, Any]:
    """What a piece asks for beyond naming records and free text: a stage, an amount, a date."""
    return {k: v for k, v in piece.slots.items() if k not in _RECORDS | _FREE}
