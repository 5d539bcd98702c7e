"""What an utterance mentions, before anyone asks which intent it is.

Dates and periods (both readings: forwards and backwards in time), money and numbers, e-mails, phone
numbers, web sites and record names become spans over the tokens. The classifier reads the utterance
with those spans replaced by placeholders, so it learns "log a call with ACCOUNT", not company names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from intents.datafiles import read_json
from intents.keyword_typos import corrected
from intents.names import NameIndex, NameMention
from intents.numbers import find_numbers
from intents.text import Token, clean, joined, tokenize
from intents.timeparse import find_time_mentions

_EMAIL = re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")
_DOMAINS = "|".join(sorted(read_json("web_domains.json")["generic"], key=len, reverse=True))
_URL = re.compile(rf"^(https?://)?(www\.)?[a-z0-9-]{{2,}}(\.[a-z0-9-]+)*\.({_DOMAINS}|[a-z]{{2}})(/\S*)?$")
_PHONE = re.compile(
    r"(?<![\w$+])(?:"
    r"(?:\+|00)\d{1,3}(?:[\s.-]?\(\d{1,5}\)|[\s.-]?\d{1,5}){1,6}"  # international: +44 20 7946 0958
    r"|0\d{2,4}[\s.-]?\d{3,4}[\s.-]?\d{3,4}"  # national with a trunk 0: 07700 900461, 020 7946 0958
    r"|(\+?\d{1,3}[\s.-]?)?(\(\d{3}\)\s?|\d{3}[\s.-])\d{3,4}([\s.-]\d{4})?"  # 555 0100, (415) 555-0199
    r")(?![\w])"
)
_TICKET = re.compile(r"^#\d{2,7}$")
FINAL_STOPS = {".", "!", "...", "…"}  # sentence ends the classifier need not see

PLACEHOLDER = {
    "date": "ent_date",
    "datetime": "ent_date",
    "period": "ent_period",
    "money": "ent_money",
    "number": "ent_num",
    "ordinal": "ent_num",
    "email": "ent_email",
    "phone": "ent_phone",
    "url": "ent_url",
    "account": "ent_account",
    "contact": "ent_person",
    "user": "ent_person",
}


@dataclass
class Span:
    first: int  # token indexes, end exclusive
    last: int
    kind: str  # date, datetime, period, money, number, ordinal, email, phone, url, name
    value: Any = None
    past: Any = None  # for times: the value read backwards (a past activity)
    past_kind: str | None = None
    name: NameMention | None = None
    relative_week: bool = False


@dataclass
class Analysis:
    raw: str
    tokens: list[Token]
    spans: list[Span]

    def span_at(self, i: int) -> Span | None:
        for span in self.spans:
            if span.first <= i < span.last:
                return span
        return None

    def of_kind(self, *kinds: str) -> list[Span]:
        return [s for s in self.spans if s.kind in kinds]

    def names(self) -> list[NameMention]:
        return [s.name for s in self.spans if s.name is not None]

    def features(self, drop_final_stops: bool = False) -> str:
        """The utterance for the classifier: lower-case words, spans as placeholders. A parse drops
        full stops and exclamation marks at the end: "No." is typed as often as "no", and says the
        same (a question mark stays: it tells a question from a command)."""
        out: list[str] = []
        end = len(self.tokens)
        while (
            drop_final_stops
            and end > 1
            and self.tokens[end - 1].punct
            and self.tokens[end - 1].norm in FINAL_STOPS
        ):
            end -= 1
        i = 0
        while i < end:
            span = self.span_at(i)
            if span is None:
                out.append(self.tokens[i].norm)
                i += 1
                continue
            if span.name is not None:
                kinds = span.name.kinds()
                # a deal is named after its account, and the templates write both as {account}
                kind = "account" if kinds & {"account", "deal"} else "contact"
                out.append(PLACEHOLDER[kind])
            else:
                out.append(PLACEHOLDER[span.kind])
            i = span.last
        return " ".join(out)

    def text_between(self, first: int, last: int) -> str:
        """The raw words of tokens first..last-1, as written."""
        if first >= last:
            return ""
        return self.raw[self.tokens[first].start : self.tokens[last - 1].end]


def _token_range(offsets: list[int], tokens: list[Token], start: int, end: int) -> tuple[int, int] | None:
    first = last = None
    for i, off in enumerate(offsets):
        tok_end = off + len(tokens[i].norm)
        if off < end and tok_end > start:
            first = i if first is None else first
            last = i + 1
    return (first, last) if first is not None and last is not None else None


def _spelt(token: Token, raw: str, names: NameIndex) -> Token:
    """The token with a misspelt command word corrected ("emaild" -> "emailed"); a word written with a
    capital is a name ("Redline Motors"), never corrected."""
    if token.punct or not raw[token.start : token.end].islower():
        return token
    fixed = corrected(token.norm, names.common_words, names.words)
    return replace(token, norm=fixed) if fixed else token


def analyse(text: str, now: datetime, names: NameIndex) -> Analysis:
    raw = clean(text)
    tokens = [_spelt(t, raw, names) for t in tokenize(raw)]
    taken = [False] * len(tokens)
    spans: list[Span] = []

    def claim(first: int, last: int, span: Span) -> bool:
        if any(taken[first:last]):
            return False
        for j in range(first, last):
            taken[j] = True
        spans.append(span)
        return True

    for i, token in enumerate(tokens):
        if token.punct:
            continue
        if _EMAIL.match(token.norm):
            claim(i, i + 1, Span(i, i + 1, "email", raw[token.start : token.end]))
        elif _URL.match(token.norm):
            claim(i, i + 1, Span(i, i + 1, "url", raw[token.start : token.end]))
        elif _TICKET.match(token.norm):
            claim(i, i + 1, Span(i, i + 1, "number", int(token.norm[1:])))

    for match in _PHONE.finditer(raw):
        covered = [i for i, t in enumerate(tokens) if t.start < match.end() and t.end > match.start()]
        digits = sum(c.isdigit() for c in match.group())
        if covered and digits >= 7:
            first, last = covered[0], covered[-1] + 1
            claim(first, last, Span(first, last, "phone", match.group().strip()))

    norm, offsets = joined(tokens)
    masked = list(norm)
    for span in spans:
        for j in range(span.first, span.last):
            for c in range(offsets[j], offsets[j] + len(tokens[j].norm)):
                masked[c] = " "
    masked_text = "".join(masked)
    future = find_time_mentions(masked_text, now, "future")
    # the past reading is only ever looked up for a future mention's span: with none, it is not made
    past = {(m.start, m.end): m for m in find_time_mentions(masked_text, now, "past")} if future else {}
    for mention in future:
        rng = _token_range(offsets, tokens, mention.start, mention.end)
        if rng is None:
            continue
        back = past.get((mention.start, mention.end))
        claim(
            *rng,
            Span(
                *rng,
                mention.kind,
                mention.value,
                back.value if back else mention.value,
                back.kind if back else mention.kind,
                relative_week=mention.relative_week,
            ),
        )
    for name in names.find(tokens, taken):
        claim(name.first, name.last, Span(name.first, name.last, "name", name=name))
    for c_range in ((offsets[j], offsets[j] + len(tokens[j].norm)) for j in range(len(tokens)) if taken[j]):
        for c in range(*c_range):
            masked[c] = " "
    for number in find_numbers("".join(masked)):
        rng = _token_range(offsets, tokens, number.start, number.end)
        if rng is not None:
            claim(*rng, Span(*rng, number.kind, number.value))

    spans.sort(key=lambda s: s.first)
    return Analysis(raw, tokens, spans)
