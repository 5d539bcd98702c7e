"""The names the parser recognises, read through a narrow read-only interface, matched fast and fuzzily.

A `NameSource` hands over records (accounts, contacts, deals, users) and knowledge-base articles; the
`NameIndex` turns every name into the phrases people use for it ("Acme", "acme corp", "piedpiper",
a contact's first name) and finds them in an utterance with dictionary look-ups, so matching stays fast
with 100,000 names. Typos are caught with a symmetric-deletion index (edit distance 1 per word).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations
from typing import Literal, Protocol

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from intents.datafiles import read_json
from intents.text import Token, fold

Kind = Literal["account", "contact", "deal", "user"]
MAX_PHRASE = 6
NEAR_RATIO = 75  # how alike a word must be to a name's word to be offered as "did you mean"
NEAR_LIMIT = 3
MAX_DEAL_WORDS = 5  # of a deal's own words (after its account's), the first this many make phrases
DEAL_WORDS_SCORE = 0.9  # "hooli migration": below a full name, so an exact name wins a tie
INNER_WORD_SCORE = 0.9  # "the valley team": an inner word of an account's name before a group word
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class NamedRecord:
    kind: Kind
    name: str
    account: str | None = None  # the account of a contact or a deal


@dataclass(frozen=True)
class KbArticleText:
    key: str
    title: str
    questions: tuple[str, ...]
    answer: str = ""


class NameSource(Protocol):
    """What the parser may read of the store: names only, never a session."""

    def records(self) -> Iterable[NamedRecord]: ...

    def articles(self) -> Iterable[KbArticleText]: ...


@dataclass
class StaticNames:
    """A NameSource from lists: for tests, training and benchmarks."""

    items: Sequence[NamedRecord] = ()
    kb: Sequence[KbArticleText] = ()

    def records(self) -> Iterable[NamedRecord]:
        return self.items

    def articles(self) -> Iterable[KbArticleText]:
        return self.kb


@dataclass(frozen=True)
class Candidate:
    record: NamedRecord
    score: float


@dataclass
class NameMention:
    first: int  # token indexes, end exclusive
    last: int
    candidates: list[Candidate]
    fuzzy: bool = False

    def best(self, kind: Kind | None = None) -> list[Candidate]:
        """The top-scoring candidates (of one kind), several when the mention is ambiguous."""
        pool = [c for c in self.candidates if kind is None or c.record.kind == kind]
        if not pool:
            return []
        top = max(c.score for c in pool)
        seen: dict[str, Candidate] = {}
        for c in pool:
            if c.score >= top - 1e-9:
                seen.setdefault(c.record.name, c)
        return list(seen.values())

    def kinds(self) -> set[Kind]:
        return {c.record.kind for c in self.candidates}


@cache
def _suffix_groups() -> list[list[str]]:
    raw = read_json("legal_suffixes.json")
    return [[fold(w).replace(".", "") for w in group] for group in raw["groups"]]


@cache
def _deal_words() -> dict[str, frozenset[str]]:
    raw = read_json("deal_words.json")
    return {key: frozenset(raw[key]) for key in ("glue", "vague")}


@cache
def _group_words() -> frozenset[str]:
    return frozenset(read_json("account_words.json")["groups"])


@cache
def _suffix_spellings() -> dict[str, list[str]]:
    return {word: group for group in _suffix_groups() for word in group}


# "<kind of place> of <name>": people say the name alone ("Lakeview" for "City of Lakeview").
_OF_PREFIXES = {
    "city",
    "town",
    "county",
    "state",
    "village",
    "borough",
    "district",
    "port",
    "province",
    "commonwealth",
    "university",
    "college",
}


def name_words(name: str) -> list[str]:
    """A name as the words it is matched by: 'O'Neill & Co.' -> ['oneill', 'and', 'co']."""
    return _WORD.findall(_as_name_word(fold(name).replace("&", " and ")))


def _as_name_word(word: str) -> str:
    """A word as `name_words` writes it, so that "o'neill" is no typo of "oneill"."""
    return word.replace("'", "").replace(".", "") or word


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@dataclass
class NameIndex:
    """Phrase -> candidates, plus a typo index over the words of all phrases."""

    common_words: frozenset[str] = frozenset()
    phrases: dict[str, list[Candidate]] = field(default_factory=dict)
    words: set[str] = field(default_factory=set)
    typo: dict[str, set[str]] = field(default_factory=dict)
    inner: dict[str, list[Candidate]] = field(default_factory=dict)  # an account name's inner word -> it
    articles: list[KbArticleText] = field(default_factory=list)
    size: int = 0

    @classmethod
    def build(cls, source: NameSource, common_words: Iterable[str] = ()) -> NameIndex:
        index = cls(common_words=frozenset(common_words))
        for record in source.records():
            index.add(record)
        index.articles = list(source.articles())
        return index

    def _put(self, words: Sequence[str], record: NamedRecord, score: float) -> None:
        if not words or len(words) > MAX_PHRASE:
            return
        key = " ".join(words)
        bucket = self.phrases.setdefault(key, [])
        for i, existing in enumerate(bucket):
            if existing.record == record:
                if existing.score < score:
                    bucket[i] = Candidate(record, score)
                return
        bucket.append(Candidate(record, score))

    def _is_common(self, words: Sequence[str]) -> bool:
        return len(words) == 1 and (words[0] in self.common_words or len(words[0]) < 3)

    def add(self, record: NamedRecord) -> None:
        words = name_words(record.name)
        if not words:
            return
        self.size += 1
        self._put(words, record, 1.0 if not self._is_common(words) else 0.7)
        spellings = _suffix_spellings()
        if record.kind == "account":
            core = list(words)
            while len(core) > 1 and core[-1] in spellings:
                core.pop()
            suffix = words[len(core) :]
            if suffix:
                self._put(core, record, 0.98 if not self._is_common(core) else 0.6)
                if len(suffix) == 1:
                    for spelling in spellings[suffix[0]]:
                        self._put([*core, spelling], record, 0.99)
            for n in range(1, len(core)):
                prefix = core[:n]
                if not self._is_common(prefix) and prefix[-1] not in ("and", "of", "the"):
                    self._put(prefix, record, 0.9)
            if len(core) > 1:
                self._put(["".join(core)], record, 0.95)
            for word in core[1:]:  # "the valley team": an inner word said of the account's people
                if len(word) >= 4 and not self._is_common([word]) and word not in _deal_words()["glue"]:
                    named = self.inner.setdefault(word, [])
                    if not named or named[-1].record != record:
                        named.append(Candidate(record, INNER_WORD_SCORE))
            if (
                len(core) > 2
                and core[0] in _OF_PREFIXES
                and core[1] == "of"
                and not self._is_common(core[2:])
            ):
                self._put(core[2:], record, 0.9)  # "City of Lakeview" -> "lakeview"
        elif record.kind in ("contact", "user") and len(words) > 1:
            if not self._is_common(words[:1]):
                self._put(words[:1], record, 0.85)
            if not self._is_common(words[-1:]):
                self._put(words[-1:], record, 0.8)
            self._put(["".join(words)], record, 0.95)
        elif record.kind == "deal" and record.account:
            self._add_deal_words(words, record)
        for word in words:
            if len(word) >= 4 and word not in self.words:
                self.words.add(word)
                for deleted in _deletes(word):
                    self.typo.setdefault(deleted, set()).add(word)

    def _account_aliases(self, account: list[str]) -> list[list[str]]:
        """The account's name and its shorter forms: without its legal suffix, its leading words
        ('westbrook' of 'Westbrook County'), 'lakeview' of 'City of Lakeview'."""
        spellings = _suffix_spellings()
        core = list(account)
        while len(core) > 1 and core[-1] in spellings:
            core.pop()
        out = [account, core]  # a common word is kept: "umbrella upgrade" is two words
        out += [core[:n] for n in range(1, len(core)) if core[n - 1] not in ("and", "of", "the")]
        if len(core) > 2 and core[0] in _OF_PREFIXES and core[1] == "of":
            out.append(core[2:])
        return out

    def _add_deal_words(self, words: list[str], record: NamedRecord) -> None:
        """A deal called by its account and some of its own words: "Hooli Data Migration Services" is
        also "hooli migration", "hooli data migration"; "Westbrook County Premium Support" is
        "westbrook premium support". A phrase two deals share names both (an ambiguous mention)."""
        assert record.account is not None
        aliases = {" ".join(a): a for a in self._account_aliases(name_words(record.account))}
        lead = max(
            (len(a) for a in aliases.values() if words[: len(a)] == a and len(a) < len(words)), default=0
        )
        if not lead:
            return  # a deal not named after its account: only its full name finds it
        own = words[lead:][:MAX_DEAL_WORDS]
        rules = _deal_words()
        subsets = {tuple(own)}
        for size in (1, 2):
            for picked in combinations(own, size):
                if not set(picked) & rules["glue"] and not (size == 1 and picked[0] in rules["vague"]):
                    subsets.add(picked)
        for alias in aliases.values():
            for picked in subsets:
                if (*alias, *picked) != tuple(words):
                    self._put([*alias, *picked], record, DEAL_WORDS_SCORE)

    def correct(self, word: str) -> str | None:
        """The one indexed word within edit distance 1 of `word` (by symmetric deletes), if any."""
        if len(word) < 4 or word in self.words or word in self.common_words:
            return None
        found: set[str] = set(self.typo.get(word, ()))
        for deleted in _deletes(word):
            if deleted in self.words:
                found.add(deleted)
            found.update(self.typo.get(deleted, ()))
        found = {w for w in found if w[0] == word[0] and OSA.distance(w, word) <= 1}
        return next(iter(found)) if len(found) == 1 else None

    def near(self, word: str) -> list[NamedRecord]:
        """Accounts and people with a word like `word`, past what `correct` dares to fix on its own:
        what "did you mean ...?" offers for a name that matches nothing."""
        found: dict[str, NamedRecord] = {}
        alike = process.extract(
            word, self.words, scorer=fuzz.ratio, score_cutoff=NEAR_RATIO, limit=NEAR_LIMIT
        )
        for similar, _score, _ in alike:
            for candidate in self.phrases.get(similar, ()):
                if candidate.record.kind in ("account", "contact"):
                    found.setdefault(candidate.record.name, candidate.record)
        return list(found.values())[:NEAR_LIMIT]

    def find(self, tokens: Sequence[Token], skip: Sequence[bool] = ()) -> list[NameMention]:
        """Non-overlapping mentions, longest and best first; tokens marked in `skip` are not names."""
        norms = [_as_name_word(t.norm) if not t.punct else "" for t in tokens]
        fixed = [(self.correct(w) or w) if w and not (skip and skip[i]) else w for i, w in enumerate(norms)]
        found: list[tuple[int, float, int, int, list[Candidate], bool]] = []
        for i in range(len(tokens)):
            if not norms[i] or (skip and skip[i]):
                continue
            for n in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
                span = range(i, i + n)
                if any(not norms[j] or (skip and skip[j]) for j in span):
                    continue
                last_word = norms[i + n - 1]
                bare = last_word[:-1] if len(last_word) > 3 and last_word.endswith("s") else ""
                variants = [(norms[i : i + n], False), (fixed[i : i + n], True)]
                if (
                    bare and last_word not in self.common_words and bare not in self.common_words
                ):  # "sofias plate": a possessive without its apostrophe
                    variants.append(([*norms[i : i + n - 1], bare], False))
                for words, fuzzy in variants:
                    if fuzzy and words == norms[i : i + n]:
                        continue
                    hits = self.phrases.get(" ".join(words))
                    if hits and fuzzy and n == 1:
                        # a typo'd lone first or last name is too weak a sign; a company's word is not
                        hits = [c for c in hits if c.record.kind == "account" or c.score >= 0.9]
                    if hits:
                        penalty = 0.9 if fuzzy else 1.0
                        top = max(c.score for c in hits) * penalty
                        found.append(
                            (n, top, i, i + n, [Candidate(c.record, c.score * penalty) for c in hits], fuzzy)
                        )
                        break
            group = norms[i + 1] if i + 1 < len(tokens) and not (skip and skip[i + 1]) else ""
            if group in _group_words() and (hits := self.inner.get(norms[i]) or self.inner.get(fixed[i])):
                found.append((2, INNER_WORD_SCORE, i, i + 2, hits, norms[i] not in self.inner))
        found.sort(key=lambda f: (-f[0], -f[1], f[2]))
        taken = [False] * len(tokens)
        mentions: list[NameMention] = []
        for _n, _top, first, last, candidates, fuzzy in found:
            if any(taken[first:last]):
                continue
            for j in range(first, last):
                taken[j] = True
            mentions.append(NameMention(first, last, candidates, fuzzy))
        return sorted(mentions, key=lambda m: m.first)
