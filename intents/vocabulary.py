"""Words that are never read as (parts of) names on their own: command words and everyday English."""

from __future__ import annotations

import json
import re
from functools import cache

from intents.datafiles import read_json
from intents.templates import load_values, template_files

_WORD = re.compile(r"[a-z]+")


@cache
def common_words() -> frozenset[str]:
    """Every word of the templates outside the name lists, the lexicon's cue words and spaCy's stop words."""
    from spacy.lang.en.stop_words import STOP_WORDS

    words: set[str] = set(STOP_WORDS)
    for entry in template_files().iterdir():
        if entry.name.endswith(".txt"):
            lines = entry.read_text("utf-8").splitlines()
            text = "\n".join(line for line in lines if not line.startswith("#"))
            words.update(_WORD.findall(re.sub(r"\{[^}]*\}", " ", text.lower())))
    for slot, values in load_values().items():
        if slot not in ("account", "contact", "user", "new_company"):  # names, never common words
            for value in values:
                words.update(_WORD.findall(value.lower()))
    words.update(_WORD.findall(json.dumps(read_json("lexicon.json")).lower()))
    return frozenset(words)
