"""Cue phrases (data/lexicon.json) found in token sequences: stages, activity types, metrics, ..."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from intents.datafiles import read_json


@dataclass(frozen=True)
class Cue:
    first: int
    last: int
    value: str


@cache
def lexicon() -> dict[str, Any]:
    data: dict[str, Any] = read_json("lexicon.json")
    return data


@cache
def _phrases(group: str) -> tuple[tuple[tuple[str, ...], str], ...]:
    """(words, canonical value) pairs of one lexicon group, longest first."""
    raw = lexicon()[group]
    pairs = (
        [(tuple(p.split()), key) for key, phrases in raw.items() for p in phrases]
        if isinstance(raw, dict)
        else [(tuple(p.split()), group) for p in raw]
    )
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def find_cues(words: Sequence[str], group: str, blocked: Sequence[bool] = ()) -> list[Cue]:
    """Every non-overlapping cue of `group` in `words` (lower-case tokens), left to right."""
    found: list[Cue] = []
    taken = [bool(b) for b in blocked] if blocked else [False] * len(words)
    for phrase, value in _phrases(group):
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if tuple(words[i : i + n]) == phrase and not any(taken[i : i + n]):
                found.append(Cue(i, i + n, value))
                for j in range(i, i + n):
                    taken[j] = True
    return sorted(found, key=lambda c: c.first)
