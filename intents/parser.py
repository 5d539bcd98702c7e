"""The parser: text -> analysis -> intent (classifier, role gate, out-of-scope threshold) -> slots."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from intents.catalogue import catalogue
from intents.classifier import IntentClassifier, load_classifier
from intents.extract import Analysis, analyse
from intents.lexicon import find_cues
from intents.names import NameIndex, NameSource
from intents.parse import Parse
from intents.slots import fill

if TYPE_CHECKING:
    from intents.kb_classifier import KbClassifier

log = logging.getLogger(__name__)
OUT_OF_SCOPE_BELOW = 0.45  # a best guess this unsure is no guess: the user gets "I didn't get that"
KB_FIRST = {"out_of_scope", "help"}  # a customer's question the knowledge base answers well is a faq
SURE_HELP = 0.9
ANSWERS = {"affirm", "deny"}
PAYLOAD_SLOTS = {"message", "notes", "task", "subject"}  # free text: words kept, not read as a request
HEAD_WORDS = 8  # "reply to 1043: ...": a command this short before a colon...
HEAD_SURE = 0.5  # ...read this surely as a request with free text decides the intent, whatever follows
NEAR_MIN_LENGTH = 5  # shorter unknown words are too often plain words to be offered as names


@dataclass(frozen=True)
class NearName:
    said: str
    names: list[str]
    first: int = 0  # its first token


_DAYPARTS = {"morning", "afternoon", "evening"}
_GREETING_WORDS = _DAYPARTS | {
    "good",
    "all",
    "everyone",
    "team",
    "folks",
    "there",
    "hi",
    "hey",
    "hello",
    "and",
}


def _daypart_greeting(analysis: Analysis) -> bool:
    """'morning', 'good evening all': a greeting, though a bare part of the day also reads as a time."""
    words = [t.norm for t in analysis.tokens if not t.punct]
    return bool(words) and any(w in _DAYPARTS for w in words) and all(w in _GREETING_WORDS for w in words)


def _problem(analysis: Analysis) -> bool:
    """Something is broken, missing or wrong: the words of a complaint."""
    return bool(find_cues([t.norm for t in analysis.tokens], "problem_words"))


def _spelt(analysis: Analysis, slots: dict[str, Any]) -> dict[str, str]:
    """The slots' records that were read from a misspelt name ("dunder mifflen"): as written -> read."""
    values = {v for v in slots.values() if isinstance(v, str)}
    out: dict[str, str] = {}
    for span in analysis.spans:
        if span.name is None or not span.name.fuzzy:
            continue
        named = {c.record.name for c in span.name.candidates} | {
            c.record.account for c in span.name.candidates if c.record.account
        }
        for value in sorted(values & named):
            out[analysis.text_between(span.first, span.last)] = value
    return out


@dataclass
class Parser:
    index: NameIndex
    classifier: IntentClassifier
    _kb: KbClassifier | None = None

    @classmethod
    def build(cls, source: NameSource) -> Parser:
        classifier = load_classifier()
        return cls(NameIndex.build(source, classifier.common), classifier)

    def refresh(self, source: NameSource) -> None:
        """Re-reads the names after the store changed; the knowledge-base classifier is read again on
        its next use, and trained again only if the articles changed (it is cached by their hash)."""
        self.index = NameIndex.build(source, self.classifier.common)
        self._kb = None

    @property
    def kb(self) -> KbClassifier:
        """The knowledge base's classifier, loaded on the first question that needs it, so that a rep's
        `crm parse` never pays for importing scikit-learn."""
        if self._kb is None:
            from intents.kb_classifier import kb_classifier

            self._kb = kb_classifier(self.index.articles)
        return self._kb

    def parse_as(self, text: str, intent: str, now: datetime) -> dict[str, Any]:
        """The slots `text` carries if it is read as `intent`: how an answer to a question is read."""
        try:
            analysis = analyse(text, now, self.index)
            return fill(intent, analysis, now, lambda: self.kb, self.index.common_words)
        except Exception:
            log.exception("slot filling failed for %r", text)
            return {}

    def parse(self, text: str, now: datetime, role: str = "rep") -> Parse:
        analysis = analyse(text, now, self.index)
        features = analysis.features(drop_final_stops=True)
        allowed = catalogue().allowed(role)
        if not any(c.isalnum() for c in features):
            return Parse(text, "out_of_scope", 1.0)
        if _daypart_greeting(analysis):
            return Parse(text, "greet", 1.0)
        scores = self.classifier.scores(features, allowed)
        intent, confidence = max(scores.items(), key=lambda kv: kv[1])
        head = self._head(analysis, now, allowed)
        if head is not None and head[0] != intent:
            intent, confidence = head
        if intent == "greet" and role == "customer" and _problem(analysis) and "open_ticket" in scores:
            # "hey, our exports come out with garbled characters": a greeting in front of a complaint
            rest = scores["open_ticket"] / (1.0 - confidence or 1.0)
            if sum(not t.punct for t in analysis.tokens) > 4 and rest >= 0.2:
                intent, confidence = "open_ticket", max(rest, OUT_OF_SCOPE_BELOW)
        sure_help = intent == "help" and confidence >= SURE_HELP  # "how does this chat work" is about the bot
        long_answer = (
            intent in ANSWERS and sum(not t.punct for t in analysis.tokens) > 3
        )  # a question, not "yes"
        if (
            role == "customer"
            and not sure_help
            and (intent in KB_FIRST or long_answer or confidence < OUT_OF_SCOPE_BELOW)
        ):
            guess = self.kb.guess(analysis.raw)
            if guess is not None and guess.sure:
                return Parse(text, "faq", guess.confidence, {"article": guess.article})
        if (
            role == "customer"
            and intent == "open_ticket"
            and confidence < OUT_OF_SCOPE_BELOW
            and _problem(analysis)
        ):
            confidence = (
                OUT_OF_SCOPE_BELOW  # unsure of the words, sure it is a complaint: "exported files are empty"
            )
        if confidence < OUT_OF_SCOPE_BELOW:
            return Parse(text, "out_of_scope", 1.0 - confidence)
        slots = fill(intent, analysis, now, lambda: self.kb, self.index.common_words)
        return Parse(text, intent, confidence, slots, _spelt(analysis, slots))

    def _head(self, analysis: Analysis, now: datetime, allowed: frozenset[str]) -> tuple[str, float] | None:
        """The intent of a short command before a colon when it takes free text after it ("reply to 1043:
        please log a call with our admin" is a reply, whatever the reply says); None otherwise."""
        colon = next((i for i, t in enumerate(analysis.tokens) if t.punct and t.norm == ":"), None)
        if colon is None or not 0 < colon <= HEAD_WORDS or colon == len(analysis.tokens) - 1:
            return None
        head = analyse(analysis.text_between(0, colon), now, self.index)
        scores = self.classifier.scores(head.features(drop_final_stops=True), allowed)
        intent, confidence = max(scores.items(), key=lambda kv: kv[1])
        if confidence < HEAD_SURE or not PAYLOAD_SLOTS & set(catalogue().slots.get(intent, ())):
            return None
        return intent, confidence

    def near_names(self, text: str, now: datetime) -> list[NearName]:
        """Words of `text` that look like a name in the store but match none closely enough to be read
        as one ("vandaley"): each with the names it might be, for "did you mean ...?"."""
        analysis = analyse(text, now, self.index)
        out: list[NearName] = []
        last = -2
        for i, token in enumerate(analysis.tokens):
            word = token.norm
            if (
                token.punct
                or analysis.span_at(i) is not None
                or len(word) < NEAR_MIN_LENGTH
                or not word.isalpha()
                or word in self.index.common_words
                or word in self.index.words
            ):
                continue
            names = [r.name for r in self.index.near(word)]
            if names and out and last == i - 1 and set(names) & set(out[-1].names):
                # "olivr benet": two words of one name
                first = out[-1].first
                out[-1] = NearName(analysis.text_between(first, i + 1), out[-1].names, first)
            elif names:
                out.append(NearName(analysis.text_between(i, i + 1), names, i))
            last = i if names else last
        return out
