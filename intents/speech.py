"""The voice language model: the same templates and the same names as the text parser, as n-grams.

One source of truth for text and speech (Home Assistant's speech-to-phrase, Rhasspy): the templates
are sampled into sentences (as `intents.templates` samples them for training), with the answers a
hands-free speaker gives to a read-back ("yes", "no, thursday", "actually make it forty k",
"goodbye"); every phrase the `NameIndex` finds a record by is put into a few of them, and a trigram
model is estimated from the lot. A recogniser decoding with it hears commands, names and the words of
notes, and still takes word orders no template has; the text parser re-reads every transcript, as it
reads a typed line.
A sentence with a word the recogniser cannot say is left out (the caller says which words it can);
names are never among them: the engine makes a pronunciation for every word of a name first.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from intents.datafiles import read_json
from intents.names import NameIndex, name_words
from intents.number_words import CARDINALS, ORDINALS, TEENS, TENS, UNITS
from intents.templates import (
    Nodes,
    load_templates,
    load_values,
    parse_template,
    sample,
    slots_of,
    template_files,
)
from intents.text import fold

FORMAT = "speech-5"  # part of the hash: a change to how the model is made rebuilds it
START, END = "<s>", "</s>"
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|\d+(?:st|nd|rd|th)\b|\d+(?:\.\d+)?")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
_SAY = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at "}


@cache
def _config() -> dict[str, Any]:
    data: dict[str, Any] = read_json("speech.json")
    return data


@cache
def _full_names(table: str) -> tuple[str, ...]:
    """The longest word for each month or weekday ("january", not "jan"): what a speaker says."""
    longest: dict[int, str] = {}
    for word, value in read_json("time_words.json")[table].items():
        if len(word) > len(longest.get(value, "")):
            longest[value] = word
    return tuple(longest[v] for v in sorted(longest))


@cache
def _number_words() -> dict[int, str]:
    """value -> word, for numbers below a hundred."""
    return {v: w for table in (UNITS, TEENS, TENS) for w, v in table.items() if w != "fourty"}


SCALE_WORDS = {1_000_000: "million", 1000: "thousand", 100: "hundred"}


def say_number(n: int) -> list[str]:
    """An integer as it is read out: 1042 -> one thousand forty two (digit by digit past a billion)."""
    small = _number_words()
    if n >= 1_000_000_000:
        return [small[int(d)] for d in str(n)]
    if n < 100:
        return [small[n]] if n in small else [small[n - n % 10], small[n % 10]]
    scale = next(s for s in SCALE_WORDS if n >= s)
    head, rest = divmod(n, scale)
    return [*say_number(head), SCALE_WORDS[scale], *(say_number(rest) if rest else [])]


@cache
def _ordinal_words() -> dict[str, str]:
    """cardinal word -> its ordinal ("one" -> "first", "twenty" -> "twentieth")."""
    ordinals = {v: w for w, v in ORDINALS.items() if w != "zeroth"}
    return {w: ordinals[v] for w, v in CARDINALS.items() if v in ordinals and w != "fourty"}


def say_ordinal(n: int) -> list[str]:
    """21 -> twenty first."""
    words = say_number(n)
    return [*words[:-1], _ordinal_words()[words[-1]]]


def spoken(text: str) -> list[str]:
    """Written text as the words a speaker says: "Halvorsen & Berg" -> halvorsen and berg, "$50,000"
    -> fifty thousand, "1.2m" -> one point two m; other punctuation is silent."""
    text = _THOUSANDS.sub("", fold(text))
    for symbol, words in _SAY.items():
        text = text.replace(symbol, words)
    out: list[str] = []
    for token in _TOKEN.findall(text):
        if not token[0].isdigit():
            out.append(token)
            continue
        if token[-1].isalpha():  # 5th, 21st
            out += say_ordinal(int(token[:-2]))
            continue
        whole, _, decimals = token.partition(".")
        out += say_number(int(whole))
        if decimals:
            out += ["point", *(say_number(int(d))[0] for d in decimals)]
    return out


def name_phrases(index: NameIndex) -> dict[str, set[str]]:
    """kind -> the phrases the parser finds records of that kind by (already folded, one space apart),
    but for the run-together spellings of typed text ("bobsmith"): said, they are the name itself."""
    out: dict[str, set[str]] = {}
    for phrase, candidates in index.phrases.items():
        for candidate in candidates:
            if " " in phrase or phrase in name_words(candidate.record.name):
                out.setdefault(candidate.record.kind, set()).add(phrase)
    return out


def spoken_name_words(index: NameIndex) -> set[str]:
    """Every word of every name phrase: the recogniser must have a pronunciation for each."""
    return {w for phrases in name_phrases(index).values() for p in phrases for w in spoken(p)}


def speech_hash(index: NameIndex) -> str:
    """Everything the model is made of: templates, values, this module's settings and the names.
    The caller rebuilds only when it changes."""
    digest = hashlib.sha256(FORMAT.encode())
    for entry in sorted(template_files().iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".txt", ".json")):
            digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    for name in ("speech.json", "time_words.json", "number_words.json"):
        digest.update(repr(read_json(name)).encode())
    for kind, phrases in sorted(name_phrases(index).items()):
        digest.update(kind.encode() + b"\0" + "\n".join(sorted(phrases)).encode())
    return digest.hexdigest()[:16]


@dataclass
class Corpus:
    """The sentences a voice model is estimated from, as words."""

    sentences: list[list[str]] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)  # words the recogniser can't say, left out

    def words(self) -> set[str]:
        return {w for sentence in self.sentences for w in sentence}

    def arpa(self) -> str:
        return arpa(self.sentences, _config()["order"], _config()["discount"])

    def add(self, text: str, known: Callable[[str], bool]) -> None:
        """The sentence, unless it holds a word the recogniser cannot say."""
        words = spoken(text)
        unknown = [w for w in words if not known(w)]
        if unknown:
            self.dropped.update(unknown)
        elif words:
            self.sentences.append(words)


def _generate(pattern: str, rng: random.Random) -> str:
    """One filling of a generated value's pattern ("{month} {ordinal}" -> "march twenty first")."""
    fillers = {
        "number": lambda: say_number(rng.choice((rng.randint(1, 20), rng.randint(1, 999)))),
        # a deal's size: round tens and fives as often as any number, so that "sixty thousand" is
        # no less likely than "sixteen thousand" (a plain 1-20 or 1-999 made the teens 5 times likelier)
        "amount": lambda: say_number(
            rng.choice((rng.randint(1, 20), 5 * rng.randint(2, 19), rng.randint(1, 999)))
        ),
        "ordinal": lambda: say_ordinal(rng.randint(1, 31)),
        "month": lambda: [rng.choice(_full_names("months"))],
        "weekday": lambda: [rng.choice(_full_names("weekdays"))],
    }
    return _PLACEHOLDER.sub(lambda m: " ".join(fillers[m.group(1)]()), pattern)


def _slot_values(names: dict[str, set[str]], rng: random.Random) -> dict[str, list[str]]:
    config = _config()
    values = {slot: list(v) for slot, v in load_values().items()}
    for slot, extra in config["extra"].items():
        values[slot] = values.get(slot, []) + extra
    for slot, patterns in config["generated"].items():
        made = [_generate(p, rng) for p in patterns for _ in range(config["per_pattern"])]
        values[slot] = values.get(slot, []) + made
    for slot, kinds in config["records"].items():
        values[slot] = sorted({p for kind in kinds for p in names.get(kind, ())})
    return {slot: v for slot, v in values.items() if v}


def build_corpus(index: NameIndex, known: Callable[[str], bool], seed: int = 0) -> Corpus:
    """Sentences from every template, the answers to a read-back, and a few more for each name phrase
    of `index`; `known` says which words the recogniser can say (names get pronunciations first, see
    `spoken_name_words`)."""
    config = _config()
    names = name_phrases(index)
    corpus = Corpus()
    rng = random.Random(seed)
    values = _slot_values(names, rng)
    holding: dict[str, list[Nodes]] = defaultdict(list)  # slot -> the templates that have it
    for templates in load_templates().values():
        for template in templates:
            slots = slots_of(template)
            if not slots <= values.keys():
                continue
            for slot in slots:
                holding[slot].append(template)
            for _ in range(config["per_template"] if slots else 1):
                corpus.add(sample(template, rng, values), known)
    for line in config["answers"]:  # "yes", "no, thursday", "actually make it forty k", "goodbye"
        answer = parse_template(line)
        if slots_of(answer) <= values.keys():
            for _ in range(config["per_answer"]):
                corpus.add(sample(answer, rng, values), known)
    for slot in config["records"]:
        for phrase in values.get(slot, ()) if holding[slot] else ():
            for _ in range(config["per_name"]):
                corpus.add(sample(rng.choice(holding[slot]), rng, {**values, slot: [phrase]}), known)
    return corpus


def arpa(sentences: Sequence[Sequence[str]], order: int = 3, discount: float = 0.7) -> str:
    """An n-gram model in ARPA text: absolute discounting, interpolated, written in backoff form."""
    counts: list[Counter[tuple[str, ...]]] = [Counter() for _ in range(order + 1)]
    for sentence in sentences:
        words = (START, *sentence, END)
        for n in range(1, order + 1):
            for i in range(max(0, 1 if n == 1 else 0), len(words) - n + 1):
                counts[n][words[i : i + n]] += 1
    vocabulary = sorted({g[0] for g in counts[1]} | {START})
    total = sum(counts[1].values())
    prob: dict[tuple[str, ...], float] = {(w,): counts[1][(w,)] / total for w in vocabulary if w != START}
    floor = 1e-7
    for w in vocabulary:
        prob[(w,)] = max(prob.get((w,), 0.0), floor) if w != START else 0.0
    backoff: dict[tuple[str, ...], float] = {}
    for n in range(2, order + 1):
        by_history: dict[tuple[str, ...], list[tuple[str, int]]] = defaultdict(list)
        for gram, count in counts[n].items():
            by_history[gram[:-1]].append((gram[-1], count))
        for history, followers in by_history.items():
            seen = sum(c for _, c in followers)
            mass = discount * len(followers) / seen
            lower = history[1:]
            for word, count in followers:
                prob[(*history, word)] = (count - discount) / seen + mass * _lower(prob, backoff, lower, word)
            kept = sum(prob[(*history, w)] for w, _ in followers)
            kept_lower = sum(_lower(prob, backoff, lower, w) for w, _ in followers)
            backoff[history] = max(1.0 - kept, 1e-9) / max(1.0 - kept_lower, 1e-9)
    lines = ["\\data\\"]
    grams = [[(w,) for w in vocabulary]] + [sorted(counts[n]) for n in range(2, order + 1)]
    lines += [f"ngram {n}={len(g)}" for n, g in enumerate(grams, 1)]
    for n, level in enumerate(grams, 1):
        lines += ["", f"\\{n}-grams:"]
        for gram in level:
            p = -99.0 if gram == (START,) else math.log10(prob[gram])
            line = f"{p:.5f}\t{' '.join(gram)}"
            if n < order and gram[-1] != END:
                line += f"\t{math.log10(backoff.get(gram, 1.0)):.5f}"
            lines.append(line)
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)


def _lower(
    prob: dict[tuple[str, ...], float],
    backoff: dict[tuple[str, ...], float],
    history: tuple[str, ...],
    word: str,
) -> float:
    """P(word | history) of the model one order down, backing off as far as needed."""
    gram = (*history, word)
    if gram in prob:
        return prob[gram]
    return backoff.get(history, 1.0) * _lower(prob, backoff, history[1:], word)
