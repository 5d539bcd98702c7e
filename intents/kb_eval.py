"""Scoring the knowledge-base classifier on labelled questions: what `crm eval-kb` and `make bench-kb`
print. A question labelled with no article is out of scope: refusing it is the right answer."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from intents.kb_classifier import KbClassifier

OUT_OF_SCOPE = "oos"
BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0)  # confidence bins of the calibration table


@dataclass(frozen=True)
class Labelled:
    text: str
    article: str | None  # None: no article answers it


@dataclass
class Bin:
    low: float
    high: float
    questions: int = 0
    right: int = 0  # the best article was the right one (out of scope: never)


@dataclass
class KbScore:
    """Counts of one run; the figures are properties."""

    in_scope: int = 0
    in_scope_right: int = 0  # answered with the right article
    out_of_scope: int = 0
    refused: int = 0  # out-of-scope questions refused
    bins: list[Bin] = field(default_factory=lambda: [Bin(lo, hi) for lo, hi in pairwise(BINS)])
    latencies: list[float] = field(default_factory=list)  # seconds per question
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # text, expected, got

    @property
    def accuracy(self) -> float:
        total = self.in_scope + self.out_of_scope
        return (self.in_scope_right + self.refused) / total if total else 0.0

    @property
    def in_scope_accuracy(self) -> float:
        return self.in_scope_right / self.in_scope if self.in_scope else 0.0

    @property
    def out_of_scope_recall(self) -> float:
        return self.refused / self.out_of_scope if self.out_of_scope else 0.0

    def latency(self, quantile: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] if ordered else 0.0


def read_labelled(path: Path) -> list[Labelled]:
    """A JSONL file of {"text", "article"}; an article of null or "oos" marks an out-of-scope question."""
    out = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text, article = item["text"], item.get("article")
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f'{path}:{number}: not a {{"text", "article"}} object ({error})') from None
        out.append(Labelled(str(text), None if article in (None, OUT_OF_SCOPE) else str(article)))
    return out


def score(classifier: KbClassifier, questions: Iterable[Labelled]) -> KbScore:
    """Asks the classifier each question, timing it, and counts what it got right."""
    result = KbScore()
    for item in questions:
        began = time.perf_counter()
        guess = classifier.guess(item.text)
        result.latencies.append(time.perf_counter() - began)
        answered = guess.article if guess is not None and guess.sure else None
        if item.article is None:
            result.out_of_scope += 1
            result.refused += answered is None
        else:
            result.in_scope += 1
            result.in_scope_right += answered == item.article
        if answered != item.article:
            result.errors.append((item.text, item.article or OUT_OF_SCOPE, answered or OUT_OF_SCOPE))
        if guess is not None:
            place = next(b for b in result.bins if guess.confidence <= b.high or b is result.bins[-1])
            place.questions += 1
            place.right += item.article is not None and guess.article == item.article
    return result


def report(result: KbScore, show_errors: int = 0) -> list[str]:
    """The figures as lines of text: totals, then the table of confidence against accuracy."""
    lines = [
        f"questions: {result.in_scope + result.out_of_scope} "
        f"({result.in_scope} in scope, {result.out_of_scope} out of scope)",
        f"accuracy (right answer or right refusal): {result.accuracy:.3f}",
        f"in-scope accuracy: {result.in_scope_accuracy:.3f}",
        f"out-of-scope recall: {result.out_of_scope_recall:.3f}",
        f"latency per question: p50 {result.latency(0.5) * 1000:.2f} ms, "
        f"p95 {result.latency(0.95) * 1000:.2f} ms",
        "",
        "confidence    questions  best article right",
    ]
    for b in result.bins:
        share = f"{b.right / b.questions:.3f}" if b.questions else "-"
        lines.append(f"{b.low:.1f}-{b.high:.1f}     {b.questions:>9}  {share:>18}")
    if show_errors and result.errors:
        lines += ["", "errors (text | expected | got):"]
        lines += [f"  {t} | {e} | {g}" for t, e, g in result.errors[:show_errors]]
    return lines


def labelled_articles(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Example questions grouped by label, in their order: how a labelled corpus becomes a knowledge base."""
    grouped: dict[str, list[str]] = {}
    for text, label in pairs:
        grouped.setdefault(label, []).append(text)
    return grouped
