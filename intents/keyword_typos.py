"""Misspelt command words read as the word meant: "emaild", "meetign", "negotation".

The words that decide an intent and its slots (activity types, stages, metrics, deal states) are few and
long, so a word one edit away from exactly one of them, and known as nothing else, is a typo of it. Names
are not corrected here: a misspelt name is the name index's business, and asked about when unsure.
"""

from __future__ import annotations

from collections.abc import Container
from functools import cache

from rapidfuzz.distance import OSA

from intents.lexicon import lexicon

KEY_GROUPS = ("activity_type", "stage", "metric", "deal_status")
MIN_LENGTH = 5  # shorter words are one edit from too many others


@cache
def _keywords() -> dict[str, str]:
    """Each single-word cue of the KEY_GROUPS -> its group and value ("emailed" -> "activity_type:email")."""
    words: dict[str, str] = {}
    for group in KEY_GROUPS:
        for value, phrases in lexicon()[group].items():
            for p in phrases:
                if " " not in p and p.isalpha() and len(p) >= MIN_LENGTH:
                    words.setdefault(p, f"{group}:{value}")
    return words


def corrected(word: str, *known: Container[str]) -> str | None:
    """The command word `word` misspells, or None: for a word of at least MIN_LENGTH letters in none of
    the `known` sets (common words, names' words), a keyword with its first letter one edit away, when
    all such keywords mean one thing; of those, the form closest in its ending ("emaild" -> "emailed")."""
    keywords = _keywords()
    if len(word) < MIN_LENGTH or not word.isalpha() or word in keywords or any(word in k for k in known):
        return None
    found = [
        k for k in keywords if k[0] == word[0] and abs(len(k) - len(word)) <= 1 and OSA.distance(k, word) <= 1
    ]
    if len({keywords[k] for k in found}) != 1:
        return None
    return min(found, key=lambda k: (k[-1] != word[-1], abs(len(k) - len(word)), k))
