"""Knowledge-base article matching by word overlap: the article sharing the most (rare) words with what a
customer wrote. A question's words are stemmed, stop words dropped and the lexicon's KB synonyms added;
articles are read through the parser's narrow interface (`KbArticleText`), never from the store.
"""

from __future__ import annotations

import re
from functools import cache

from intents.datafiles import read_json
from intents.lexicon import lexicon
from intents.names import KbArticleText
from intents.text import fold

_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    """A crude stem: "changing", "changed", "changes" and "change" all become "chang"."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) >= 4 and word.endswith("e") else word  # "change", "changing" -> "chang"


_STOP = frozenset(read_json("kb_words.json")["stop"])  # words that say nothing about a topic


@cache
def _kb_synonyms() -> dict[str, set[str]]:
    """A customer's word -> the knowledge base's words for it ("yearly" -> "annual")."""
    out: dict[str, set[str]] = {}
    for key, variants in lexicon().get("kb_synonyms", {}).items():
        if not key.startswith("_"):
            for variant in variants:
                out.setdefault(variant, set()).add(_stem(key))
    return out


def _bag(text: str) -> set[str]:
    synonyms = _kb_synonyms()
    words = [w for w in _WORD.findall(fold(text)) if w not in _STOP]
    return {_stem(w) for w in words}.union(*(synonyms.get(w, ()) for w in words))


_Bags = tuple[dict[str, set[str]], dict[str, set[str]], dict[str, int]]  # strong, weak, frequency
_BAGS: list[tuple[list[KbArticleText], tuple[KbArticleText, ...], _Bags]] = []  # the last articles seen


def _article_bags(articles: list[KbArticleText]) -> _Bags:
    """Each article's strong words (questions, title) and weak words (answer), and in how many articles
    each word occurs; kept for the articles list last seen, as long as it is unchanged."""
    if _BAGS and _BAGS[0][0] is articles and _BAGS[0][1] == tuple(articles):
        return _BAGS[0][2]
    strong = {a.key: set().union(*(_bag(q) for q in (*a.questions, a.title))) for a in articles}
    weak = {a.key: _bag(a.answer) for a in articles}
    frequency: dict[str, int] = {}
    for key in strong:
        for word in strong[key] | weak[key]:
            frequency[word] = frequency.get(word, 0) + 1
    _BAGS[:] = [(articles, tuple(articles), (strong, weak, frequency))]
    return strong, weak, frequency


def best_article(text: str, articles: list[KbArticleText]) -> tuple[str, float] | None:
    """The knowledge-base article sharing the most (rare) words with `text`, and how much of `text`
    it covers (0..1). Questions and titles count fully, the answer's words half."""
    words = _bag(text)
    if not words or not articles:
        return None
    strong, weak, frequency = _article_bags(articles)
    weight = {w: 1.0 / frequency.get(w, 1) for w in words}
    best, best_score = None, 0.0
    for key in strong:
        score = sum(weight[w] * (1.0 if w in strong[key] else 0.5 if w in weak[key] else 0.0) for w in words)
        if score > best_score:
            best, best_score = key, score
    return (best, best_score / sum(weight.values())) if best else None
