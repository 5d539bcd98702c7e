"""What an answer or a reference points at: "2", "the globex one" among the options of a question,
"the first one" in the list the last reply showed."""

from __future__ import annotations

import json
import re
from importlib import resources

from rapidfuzz import fuzz

from assistant.turn import Turn
from intents.number_words import ORDINAL_UNITS, UNITS
from intents.parse import Parse
from storage.models import Deal, Task

_WORDS = json.loads(resources.files("assistant").joinpath("dialogue_words.json").read_text("utf-8"))
FILLER = frozenset(_WORDS["filler"])  # words of an answer to "which one?" that name no option
WORD_ALIKE = 80  # how alike a word of the answer must be to a word of an option (typos allowed)
CHOICE_WORDS = {**UNITS, **ORDINAL_UNITS, "last": -1}  # "the second one", "two", "the last"
RECORDS = ("account", "contact", "deal")  # the slots that name the record a request is about
SHOWN_TARGETS = {"update_deal": ("deal", "_deal_id"), "complete_task": ("task", "_task_id")}
_NTH = re.compile(
    rf"\b({'|'.join(ORDINAL_UNITS)}|last|\d(?:st|nd|rd|th))\s+(?:one|deal|opp|opportunity|task|reminder|item)\b"
)


def pick(text: str, options: list[str], details: list[str] | None = None) -> str | None:
    """An answer to "which one?": a number, an ordinal word, or words of one option's name or details
    ("the globex one" for Jane Park of Globex Inc). Words that fit two options equally pick neither."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    said = [w for w in words if w not in FILLER]
    if said:  # names first: the "one" of "the globex one" is no number
        extra = details or [""] * len(options)
        scores = []
        for option, detail in zip(options, extra, strict=True):
            known = re.findall(r"[a-z0-9]+", f"{option} {detail}".lower())
            scores.append(sum(any(fuzz.ratio(w, k) >= WORD_ALIKE for k in known) for w in said))
        best = max(scores)
        if best and best * 2 >= len(said) and scores.count(best) == 1:
            return options[scores.index(best)]
    for word in words:
        number = int(word) if word.isdigit() else CHOICE_WORDS.get(word)
        if number is not None and (1 <= number <= len(options) or number == -1):
            return options[number - 1] if number > 0 else options[-1]
    return None


def shown_reference(turn: Turn, parse: Parse) -> tuple[Parse, bool]:
    """ "move the first one to negotiation", "mark the second task done": the record at that place in
    the list the last reply showed, when the request names no record itself. True beside the parse
    when it refers to a place in a list, but no such list was just shown."""
    target = SHOWN_TARGETS.get(parse.intent)
    match = _NTH.search(parse.text.lower())
    said = str(parse.slots.get("task") or "").lower()
    if said and match is not None and match.group(0) in said:
        said = ""  # "mark the first one done": the task's words are the reference itself
    if target is None or match is None or said or any(parse.slots.get(s) for s in RECORDS):
        return parse, False
    kind, slot = target
    word = match.group(1)
    n = -1 if word == "last" else int(word[:-2]) if word[0].isdigit() else ORDINAL_UNITS[word]
    record_id = turn.context.nth_shown(kind, n)
    if record_id is None:
        return parse, True
    record = turn.session.get(Deal, record_id) if kind == "deal" else turn.session.get(Task, record_id)
    if record is None:
        return parse, True
    named = {"deal": record.name} if isinstance(record, Deal) else {"task": record.title}
    return Parse(parse.text, parse.intent, parse.confidence, {**parse.slots, **named, slot: record_id}), False
