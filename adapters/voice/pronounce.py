"""Pronunciations: the recogniser's own dictionary first, espeak-ng's phonemes for every other word.

A name no dictionary has ("Hooli", "Initech", "Priya") is read by espeak-ng in IPA and mapped onto the
ARPAbet phones of PocketSphinx's model (ipa_arpabet.json), so it is recognised instead of dropped.
espeak-ng is run once per batch of words, on both cores.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

ESPEAK = "espeak-ng"
ESPEAK_VOICE = "en-us"
WORKERS = 2


class PronounceError(RuntimeError):
    pass


@cache
def read_dictionary(path: Path) -> dict[str, tuple[str, ...]]:
    """word -> its pronunciations (ARPAbet, space-separated), from a CMU-format dictionary file."""
    out: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            word, _, phones = line.strip().partition(" ")
            if phones:
                out.setdefault(word.split("(")[0], []).append(phones.strip())
    return {word: tuple(prons) for word, prons in out.items()}


@cache
def _ipa_table() -> tuple[tuple[str, str], ...]:
    table: dict[str, str] = json.loads((Path(__file__).parent / "ipa_arpabet.json").read_text("utf-8"))[
        "phones"
    ]
    return tuple(sorted(table.items(), key=lambda kv: -len(kv[0])))


def ipa_to_arpabet(ipa: str) -> str:
    """An IPA string as ARPAbet phones, longest symbols first; marks without a phone are silent."""
    phones: list[str] = []
    i = 0
    while i < len(ipa):
        for symbol, arpabet in _ipa_table():
            if ipa.startswith(symbol, i):
                phones += arpabet.split()
                i += len(symbol)
                break
        else:
            i += 1
    return " ".join(phones)


_SIBILANTS = {"S", "Z", "SH", "ZH", "CH", "JH"}
_VOICELESS = {"P", "T", "K", "F", "TH"}


def possessive(phones: str) -> str:
    """A word's pronunciation with 's: "doe" D OW -> D OW Z, "smith" ... TH S, "lopez" ... Z IH Z."""
    last = phones.split()[-1]
    return f"{phones} {'IH Z' if last in _SIBILANTS else 'S' if last in _VOICELESS else 'Z'}"


def _espeak_batch(words: Sequence[str], voice: str = ESPEAK_VOICE) -> list[str]:
    text = "".join(f"{word}.\n" for word in words)  # one sentence, so one line out, per word
    run = subprocess.run(
        [ESPEAK, "-q", "--ipa", "-v", voice],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line.strip() for line in run.stdout.splitlines() if line.strip()]
    if len(lines) != len(words):
        raise PronounceError(f"espeak-ng gave {len(lines)} pronunciations for {len(words)} words")
    return lines


def espeak_pronunciations(words: Iterable[str], voice: str = ESPEAK_VOICE) -> dict[str, str]:
    """word -> ARPAbet phones by espeak-ng in `voice` (its accent), for words no dictionary has."""
    todo = sorted(set(words))
    if not todo:
        return {}
    if shutil.which(ESPEAK) is None:
        raise PronounceError(f"{ESPEAK} is not installed: `make install` installs it")
    size = -(-len(todo) // WORKERS)
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    with ThreadPoolExecutor(WORKERS) as pool:
        ipa = [line for chunk in pool.map(lambda c: _espeak_batch(c, voice), chunks) for line in chunk]
    out = {word: ipa_to_arpabet(text) for word, text in zip(todo, ipa, strict=True)}
    return {word: phones for word, phones in out.items() if phones}
