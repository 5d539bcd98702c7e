"""Which writes are confirmed before they are made: a silent write to the wrong record is the worst bug
this product can have, an unneeded question a small one.

A write is asked about first when the parser was not sure of the request (its confidence is below
`write_sure` in gate.json, calibrated by `tests/nlu/calibrate_gate.py` on the labelled sets that are no
longer blind), and when a record's name was read from a typo ("dunder mifflen": "Did you mean Dunder
Mifflin Paper Company? Log a meeting ...?"). A name further away is never guessed: the dialogue asks
"did you mean ...?" with the candidates (assistant/dialogue.py).
Everything else is written at once and echoed with undo. `crm eval-nlu` counts, with the same rule,
the writes that would have gone wrong and the confirmations that were not needed.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from assistant.messages import Reply
from assistant.replies import day, money, say
from assistant.skills.activities import activity_article
from assistant.turn import Confirm
from intents.catalogue import catalogue
from intents.parse import Parse, ambiguous

SURE = "_sure"  # set in the slots once the user said yes: the write goes ahead without asking again
READ_BACK = "_read_back"  # set once a spoken write was read back and the speaker said yes to it
SHOWN = (
    "account",
    "contact",
    "deal",
    "task",
    "stage",
    "amount",
    "close_date",
    "due",
    "when",
    "follow_up",
    "owner",
    "assignee",
    "notes",
    "message",
)
DATES = ("close_date", "due", "when", "follow_up")
QUOTED = ("task", "notes", "message")
ACTIVITIES = ("call", "meeting", "email", "note")


@cache
def _settings() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files("assistant").joinpath("gate.json").read_text("utf-8"))
    return data


def write_sure() -> float:
    return float(_settings()["write_sure"])


def is_write(intent: str) -> bool:
    return intent in catalogue().writes


def asks_first(parse: Parse, sure: float | None = None) -> bool:
    """True when this parse's write must be confirmed (or a record chosen) before anything changes;
    `sure` tries another threshold than gate.json's (the calibration does)."""
    if not is_write(parse.intent) or parse.slots.get(SURE):
        return False
    if parse.intent in _settings()["bare_creates"] and not any(parse.slots.values()):
        return False  # "new deal": the skill asks what the deal is before anything is made
    unsure = parse.confidence < (write_sure() if sure is None else sure)
    return unsure or ambiguous(parse.slots) or bool(parse.spelt)


def confirmation(parse: Parse, today: date) -> str:
    """'Log a call (Soylent Corp, "pricing")?': the request as it was read, to say yes or no to; after
    "Did you mean Dunder Mifflin Paper Company?" when a name was read from a typo."""
    details = ", ".join(
        _value(slot, parse.slots[slot], today) for slot in SHOWN if _shown(parse.slots.get(slot))
    )
    asked = say("gate_confirm", action=_action(parse), details=f" ({details})" if details else "")
    if not parse.spelt:
        return asked
    return say("gate_spelt", names=say("choose_or").join(sorted(set(parse.spelt.values()))), asked=asked)


def read_back(done: Reply) -> Confirm:
    """A spoken write's question: the reply it would give, word for word, to say yes, no or a
    correction to ("no, Thursday"). Nothing is saved until the yes."""
    what = " ".join(line.strip() for line in done.plain.splitlines() if line.strip())
    return Confirm(say("read_back", what=what), READ_BACK, speech=say("read_back_speech", what=what))


def _action(parse: Parse) -> str:
    actions = {
        "log_activity": say("gate_log_activity", activity=_activity(parse.slots.get("activity_type"))),
        "create_deal": say("gate_create_deal"),
        "update_deal": say("gate_update_deal"),
        "create_account": say("gate_create_account"),
        "create_contact": say("gate_create_contact"),
        "update_contact": say("gate_update_contact"),
        "create_task": say("gate_create_task"),
        "complete_task": say("gate_complete_task"),
        "snooze_task": say("gate_snooze_task"),
        "undo": say("gate_undo"),
        "reply_ticket": say("gate_reply_ticket", ticket=parse.slots.get("ticket", "")),
        "close_ticket": say("gate_close_ticket", ticket=parse.slots.get("ticket", "")),
        "assign_ticket": say("gate_assign_ticket", ticket=parse.slots.get("ticket", "")),
    }
    return actions[parse.intent]


def _activity(kind: Any) -> str:
    return activity_article(kind) if kind in ACTIVITIES else say("gate_activity")


def _shown(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _value(slot: str, value: Any, today: date) -> str:
    if slot == "amount":
        return money(value)
    if slot in DATES and isinstance(value, str):
        try:
            shown = day(datetime.fromisoformat(value), today)
        except ValueError:
            shown = value
        return say("gate_follow_up", day=shown) if slot == "follow_up" else shown
    return f'"{value}"' if slot in QUOTED else str(value)
