"""Tokens of an utterance: normalised words for matching, with offsets back into what was written.

Matching works on lower-case, shorthand-expanded words ("w/" -> "with"); free-text slots are cut from
the original text, so every token keeps its span in the raw string.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from intents.datafiles import read_json

MAX_CHARS = 600  # longer input is read only this far: a chat turn is never longer, and latency stays bounded
_CHUNK = re.compile(r"\S+")
_EDGE_PUNCT = "\"'“”‘’()[]{}<>,.!?;:…*_~`"
_POSSESSIVE = re.compile(r"^(.+?)['’]s$|^(.+s)['’]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029]")


@dataclass(frozen=True)
class Token:
    norm: str  # lower case, shorthand expanded; "" never occurs
    start: int  # span in the raw text
    end: int
    possessive: bool = False
    punct: bool = False


@cache
def shorthand() -> dict[str, str]:
    raw = read_json("shorthand.json")
    return {k: v for k, v in raw.items() if not k.startswith("_")}


def fold(text: str) -> str:
    """Lower case without accents, apostrophes or dots: how names and words are compared."""
    if text.isascii():  # the common case, and the hot one when 100,000 names are indexed
        return text.lower()
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("’", "'")


def clean(text: str) -> str:
    return _CONTROL.sub(" ", text[:MAX_CHARS])


def tokenize(raw: str) -> list[Token]:
    """Words and edge punctuation of `raw` (already cleaned), shorthand expanded."""
    expand = shorthand()
    tokens: list[Token] = []
    for chunk in _CHUNK.finditer(raw):
        start, end = chunk.start(), chunk.end()
        word = chunk.group()
        lead = len(word) - len(word.lstrip(_EDGE_PUNCT))
        trail = len(word) - len(word.rstrip(_EDGE_PUNCT))
        folded = fold(word)
        if folded in expand:  # a shorthand with its own punctuation, like "re:" or "w/"
            lead = trail = 0
        elif lead == len(word):
            tokens.extend(Token(word[i], start + i, start + i + 1, punct=True) for i in range(len(word)))
            continue
        for i in range(lead):
            tokens.append(Token(word[i], start + i, start + i + 1, punct=True))
        core_start, core_end = start + lead, end - trail
        core = fold(raw[core_start:core_end])
        possessive = False
        match = _POSSESSIVE.match(core)
        if match and core not in expand and core not in ("it's", "let's"):
            core = match.group(1) or match.group(2)
            possessive = True
        words = expand.get(core, core).split()
        tokens.extend(
            Token(w, core_start, core_end, possessive and i == len(words) - 1) for i, w in enumerate(words)
        )
        for i in range(trail):
            pos = core_end + i
            tokens.append(Token(raw[pos], pos, pos + 1, punct=True))
    return tokens


def joined(tokens: list[Token]) -> tuple[str, list[int]]:
    """The tokens as one normalised string, and where each token starts in it."""
    offsets: list[int] = []
    parts: list[str] = []
    position = 0
    for token in tokens:
        offsets.append(position)
        parts.append(token.norm)
        position += len(token.norm) + 1
    return " ".join(parts), offsets
