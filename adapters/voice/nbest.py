"""A weak transcript's alternatives, re-read by the text parser: the recogniser's n-best list.

PocketSphinx's best path is the likeliest string of words, not the likeliest command: "do we about
new lead" may sit above "do we about hooli" in its list. When the parser reads the best transcript as
no command (out of scope) or barely one, the next few hypotheses are read too, and the first that
the parser reads as a command with confidence replaces it. A transcript the parser is happy with is
never second-guessed, so a sure command costs nothing more, and a real out-of-scope question stays one
when no alternative is clearly a command. Nor is an answer to a read-back ("no, thursday", "actually
next friday"): on its own the parser reads it as little, but the dialogue reads it with its question.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice

from intents.classifier import load_classifier
from intents.names import NameIndex
from intents.parser import Parser

WEAK_BELOW = 0.7  # a best transcript read with less confidence than this has its alternatives read
SURE_FROM = 0.8  # an alternative replaces it only if read with at least this confidence
ALTERNATIVES = 10  # hypotheses looked at (the list repeats a string with other silences and fillers)
OUT_OF_SCOPE = "out_of_scope"
ANSWER_LEADS = {"no", "nope", "nah", "actually", "yes", "yeah", "yep"}  # an answer's first word


@dataclass
class Reader:
    parser: Parser

    @classmethod
    def on(cls, names: NameIndex) -> Reader:
        """The text parser on the store's names (the intent model is loaded once per process)."""
        return cls(Parser(names, load_classifier()))

    def understood(self, text: str) -> bool:
        """Whether `text` reads as one of the assistant's commands at all: what decides that a grammar
        engine's transcript gets Whisper's second hearing (adapters/voice/fallback.py)."""
        return self.confidence(text) > 0.0

    def confidence(self, text: str) -> float:
        """How sure the parser is that `text` is one of the assistant's commands (0 for none)."""
        if not text.strip():
            return 0.0
        parse = self.parser.parse(text, datetime.now(UTC))
        return 0.0 if parse.intent == OUT_OF_SCOPE else parse.confidence

    def pick(self, best: str, alternatives: Iterable[str]) -> str:
        """`best`, unless it reads as no command and one of the first `ALTERNATIVES` clearly does."""
        if best.split(" ", 1)[0] in ANSWER_LEADS or self.confidence(best) >= WEAK_BELOW:
            return best
        tried = {best}
        for text in islice(alternatives, ALTERNATIVES):
            if text in tried:
                continue
            tried.add(text)
            if self.confidence(text) >= SURE_FROM:
                return text
        return best
