"""Scores the parser on a labelled file: intent accuracy, per-slot P/R/F1, whole-frame accuracy, and
what a wrong parse would have done to the records.

Free-text slots (notes, task, subject) count as right when their words match after folding case and
punctuation; every other slot must be equal.

A **wrong write** is a line read as a write (intents.json's `writes`) that would have gone ahead
without a question and is not what was meant: another intent, or another record or value in any slot
but free text (a record the label says is ambiguous, taken as one of them, counts too). A parse that
names several candidates is asked about, so it writes nothing. A **needless confirmation** is a write
read right that would have been confirmed all the same; its rate is over the write lines read right.
Whether a parse is asked about first is the assistant's rule, given to `add` as `asked`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from intents.catalogue import catalogue
from intents.parse import ambiguous

FREE_TEXT = {"notes", "task", "subject", "title"}
_WORD = re.compile(r"[a-z0-9@.+]+")


def _words(value: str) -> list[str]:
    return [w.strip(".") for w in _WORD.findall(value.casefold()) if w.strip(".")]


def slot_equal(slot: str, expected: Any, got: Any) -> bool:
    if slot in FREE_TEXT and isinstance(expected, str) and isinstance(got, str):
        return _words(expected) == _words(got)
    if isinstance(expected, (int, float)) and isinstance(got, (int, float)):
        return abs(expected - got) < 1e-6
    return bool(expected == got)


@dataclass
class SlotScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    total: int = 0
    intent_right: int = 0
    frame_right: int = 0
    slots: dict[str, SlotScore] = field(default_factory=dict)
    per_intent: dict[str, Counter[str]] = field(default_factory=dict)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[dict[str, Any]] = field(default_factory=list)
    wrong_writes: list[dict[str, Any]] = field(default_factory=list)
    writes_right: int = 0  # write lines read right: the base of the needless-confirmation rate
    needless: int = 0
    needless_spelt: int = 0  # of those, asked because a name was read from a typo ("did you mean ...?")

    @property
    def intent_accuracy(self) -> float:
        return self.intent_right / self.total if self.total else 0.0

    @property
    def frame_accuracy(self) -> float:
        return self.frame_right / self.total if self.total else 0.0

    @property
    def needless_rate(self) -> float:
        return self.needless / self.writes_right if self.writes_right else 0.0

    def add(
        self,
        text: str,
        expected_intent: str,
        expected: dict[str, Any],
        intent: str,
        got: dict[str, Any],
        asked: bool = False,
        spelt: bool = False,
    ) -> None:
        self.total += 1
        counts = self.per_intent.setdefault(expected_intent, Counter())
        counts["n"] += 1
        intent_ok = intent == expected_intent
        self.intent_right += intent_ok
        counts["intent"] += intent_ok
        if not intent_ok:
            self.confusion[(expected_intent, intent)] += 1
        wrong: dict[str, Any] = {}
        for slot in set(expected) | set(got):
            score = self.slots.setdefault(slot, SlotScore())
            if slot in expected and slot in got and slot_equal(slot, expected[slot], got[slot]):
                score.tp += 1
                continue
            if slot in got:
                score.fp += 1
            if slot in expected:
                score.fn += 1
            wrong[slot] = {"expected": expected.get(slot), "got": got.get(slot)}
        frame_ok = intent_ok and not wrong
        self.frame_right += frame_ok
        counts["frame"] += frame_ok
        if not frame_ok:
            self.errors.append({"text": text, "expected": expected_intent, "got": intent, "slots": wrong})
        if intent not in catalogue().writes:
            return
        if frame_ok:
            self.writes_right += 1
            needless = asked and not ambiguous(expected)  # "which Jane?" is a question needed
            self.needless += needless
            self.needless_spelt += needless and spelt
        elif not asked and not ambiguous(got) and (not intent_ok or set(wrong) - FREE_TEXT):
            self.wrong_writes.append(
                {"text": text, "expected": expected_intent, "got": intent, "slots": wrong}
            )

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "intent_accuracy": round(self.intent_accuracy, 4),
            "frame_accuracy": round(self.frame_accuracy, 4),
            "slots": {
                s: {"precision": round(v.precision, 4), "recall": round(v.recall, 4), "f1": round(v.f1, 4)}
                for s, v in sorted(self.slots.items())
            },
            "per_intent": {
                i: {
                    "n": c["n"],
                    "intent": round(c["intent"] / c["n"], 4),
                    "frame": round(c["frame"] / c["n"], 4),
                }
                for i, c in sorted(self.per_intent.items())
            },
            "confusion": [{"expected": e, "got": g, "n": n} for (e, g), n in self.confusion.most_common()],
            "wrong_writes": len(self.wrong_writes),
            "needless_confirmations": self.needless,
            "needless_confirmation_rate": round(self.needless_rate, 4),
            "needless_confirmations_for_typos": self.needless_spelt,
            "wrong_write_lines": self.wrong_writes,
            "errors": self.errors,
        }

    def render(self, max_errors: int = 40) -> str:
        lines = [
            f"utterances        {self.total}",
            f"intent accuracy   {self.intent_accuracy:.4f}",
            f"frame accuracy    {self.frame_accuracy:.4f}",
            f"wrong writes      {len(self.wrong_writes)}",
            f"needless confirmations {self.needless} of {self.writes_right} writes read right"
            f" ({self.needless_rate:.3f}; {self.needless_spelt} of them for a name read from a typo)",
            "",
            f"{'intent':<18}{'n':>5}{'intent':>9}{'frame':>9}",
        ]
        for intent, c in sorted(self.per_intent.items()):
            lines.append(f"{intent:<18}{c['n']:>5}{c['intent'] / c['n']:>9.3f}{c['frame'] / c['n']:>9.3f}")
        lines += ["", f"{'slot':<18}{'prec':>8}{'recall':>8}{'f1':>8}{'tp':>6}{'fp':>6}{'fn':>6}"]
        for slot, v in sorted(self.slots.items()):
            lines.append(
                f"{slot:<18}{v.precision:>8.3f}{v.recall:>8.3f}{v.f1:>8.3f}{v.tp:>6}{v.fp:>6}{v.fn:>6}"
            )
        if self.confusion:
            lines += ["", "confusion (expected -> got)"]
            lines += [f"  {e} -> {g}: {n}" for (e, g), n in self.confusion.most_common(20)]
        if self.wrong_writes:
            lines += ["", "wrong writes (would have changed records without asking)"]
            lines += [
                f"  {w['text']!r}: {w['expected']} -> {w['got']} {w['slots'] or ''}"
                for w in self.wrong_writes
            ]
        if self.errors:
            lines += ["", f"errors ({len(self.errors)}, first {min(max_errors, len(self.errors))})"]
            for error in self.errors[:max_errors]:
                lines.append(
                    f"  {error['text']!r}: {error['expected']} -> {error['got']} {error['slots'] or ''}"
                )
        return "\n".join(lines)
