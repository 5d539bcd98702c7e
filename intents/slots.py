"""Slot filling: once the intent is known, the spans and cue words of the utterance become slots.

Each intent has one small function; they share the helpers of `Filler` (record names, dates read
forwards or backwards, money with its cue, free text cut out of what was written).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from intents.datafiles import read_json
from intents.extract import Analysis, Span
from intents.lexicon import Cue, find_cues, lexicon
from intents.names import NameMention, name_words
from intents.numbers import find_numbers
from intents.text import fold

if TYPE_CHECKING:
    from intents.kb_classifier import KbClassifier

Slots = dict[str, Any]

_WORDS: dict[str, Any] = read_json("slot_words.json")


def _words(key: str) -> frozenset[str]:
    """One word set of data/slot_words.json."""
    return frozenset(_WORDS[key])


_EDGE = " \t,.;:!?-–—'\"“”‘’()"
_QUOTED = re.compile(r"[\"“'‘]([^\"”'’]{3,})[\"”'’]")
_WORD = re.compile(r"[a-z0-9]+")
TASK_STOP = _words("task_stop")
_PHRASAL = _words("phrasal")  # "the tariq check in": a verb's own word, not a date's preposition
_REQUEST_VERBS = _words("request_verbs")
_I_AUXILIARIES = _words("i_auxiliaries")
_ASKING_VERBS = _words("asking_verbs")


def iso(value: date | datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M") if isinstance(value, datetime) else value.isoformat()


def number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


class Filler:
    def __init__(
        self,
        analysis: Analysis,
        now: datetime,
        kb: Callable[[], KbClassifier],
        common: frozenset[str] = frozenset(),
    ) -> None:
        self.a = analysis
        self.common = common
        self.now = now
        self.kb = kb
        self.words = [t.norm for t in analysis.tokens]
        self.in_span = [analysis.span_at(i) is not None for i in range(len(self.words))]
        self.cased = any(c.islower() for c in analysis.raw)  # in ALL CAPS a capital tells nothing

    def capital(self, k: int) -> bool:
        """Token k is written with a capital, in a text that is not all capitals."""
        token = self.a.tokens[k]
        return self.cased and self.a.raw[token.start : token.end][:1].isupper()

    # cue words ------------------------------------------------------------------------------------

    def cues(self, group: str) -> list[Cue]:
        return find_cues(self.words, group, self.in_span)

    def cue(self, group: str) -> str | None:
        found = self.cues(group)
        return found[0].value if found else None

    def has(self, *phrases: str) -> bool:
        text = f" {' '.join(self.words)} "
        return any(f" {p} " in text for p in phrases)

    def index_of(self, *phrases: str, start: int = 0) -> tuple[int, int] | None:
        """The first (first, last) token range of any of `phrases` at or after `start`."""
        best: tuple[int, int] | None = None
        for phrase in phrases:
            words = phrase.split()
            for i in range(start, len(self.words) - len(words) + 1):
                if self.words[i : i + len(words)] == words and not any(self.in_span[i : i + len(words)]):
                    if best is None or i < best[0]:
                        best = (i, i + len(words))
                    break
        return best

    # records --------------------------------------------------------------------------------------

    def mentions(self) -> list[tuple[Span, str]]:
        """Each name span with the kind it most likely names."""
        out = []
        for span in self.a.of_kind("name"):
            assert span.name is not None
            top: dict[str, float] = {}
            for c in span.name.candidates:
                top[c.record.kind] = max(top.get(c.record.kind, 0.0), c.score)
            order = {"account": 0, "contact": 1, "user": 2, "deal": 3}
            kind = sorted(top, key=lambda k: (-round(top[k], 6), order[k]))[0]
            out.append((span, kind))
        return out

    def record(self, mention: NameMention, kind: str, account: str | None = None) -> Any:
        best = mention.best(kind)  # type: ignore[arg-type]
        if account and len(best) > 1:
            narrowed = [
                c for c in mention.candidates if c.record.kind == kind and c.record.account == account
            ]
            if narrowed:
                top = max(c.score for c in narrowed)
                best = [c for c in narrowed if c.score >= top - 1e-9]
        names = sorted({c.record.name for c in best})
        if not names:
            return None
        return names[0] if len(names) == 1 else {"ambiguous": names}

    def records(self, slots: Slots, wanted: dict[str, str], users_as: str | None = None) -> None:
        """Fills record slots: `wanted` maps a record kind to its slot name; users go to `users_as`."""
        found = self.mentions()
        account = next((self.record(s.name, "account") for s, k in found if k == "account" and s.name), None)
        for span, kind in found:
            assert span.name is not None
            if kind == "user":
                if users_as and users_as not in slots:
                    slots[users_as] = self.record(span.name, "user")
                continue
            slot = wanted.get(kind)
            if slot is None and kind == "contact" and "user" in span.name.kinds() and users_as:
                slots.setdefault(users_as, self.record(span.name, "user"))
                continue
            if kind == "deal" and "account" in wanted:  # "the hooli migration deal" names Hooli too
                owner = self.deal_account(span.name)
                if owner is not None and (slot is None or slot not in slots):
                    slots.setdefault(wanted["account"], owner)
            if slot is None or slot in slots:
                continue
            value = self.record(span.name, kind, account if isinstance(account, str) else None)
            if value is not None:
                slots[slot] = value

    def account_end(self, span: Span) -> int:
        """Where the account's words end in a mention: a deal named by its account and its own words
        ("tyrell renewal") ends its account part after "tyrell"; any other mention at its end."""
        assert span.name is not None
        if span.name.kinds() != {"deal"}:
            return span.last
        account = {w for c in span.name.candidates if c.record.account for w in name_words(c.record.account)}
        k = span.first
        while k < span.last - 1 and self.words[k] in account:
            k += 1
        return k if k > span.first else span.last

    def deal_account(self, mention: NameMention) -> Any:
        """The account of the deal(s) a mention names; ambiguous when they belong to several."""
        names = sorted({c.record.account for c in mention.best("deal") if c.record.account})
        if not names:
            return None
        return names[0] if len(names) == 1 else {"ambiguous": names}

    def me(self) -> bool:
        if any(w in ("my", "mine", "myself") for w in self.words) or self.has(
            "i own", "i have", "assigned to me"
        ):
            return True
        if self.i_do():
            return True
        hit = self.index_of("for me")  # "what's closing for me", not the favour "pull the pipeline for me"
        if hit is None:
            return False
        after = [w for k, w in enumerate(self.words[hit[1] :], hit[1]) if not self.a.tokens[k].punct]
        favour = not set(after) - {"please", "thanks"} and bool(_REQUEST_VERBS & set(self.words[: hit[0]]))
        return not favour

    def i_do(self) -> bool:
        """ "what am i forecasting", "how often do i win": I am the one who sells, not the one asking
        ("can i see the pipeline")."""
        for k, word in enumerate(self.words[1:-1], 1):
            if word == "i" and self.words[k - 1] in _I_AUXILIARIES and self.words[k + 1] not in _ASKING_VERBS:
                return True
        return False

    # times ----------------------------------------------------------------------------------------

    def times(self) -> list[Span]:
        return self.a.of_kind("date", "datetime", "period")

    def date_value(self, span: Span, past: bool = False, period_end: bool = False) -> str:
        value, kind = (span.past, span.past_kind) if past else (span.value, span.kind)
        if kind == "period":
            start, end = value
            if span.relative_week and not period_end:
                return iso(start)
            return iso(end if period_end else start)
        return iso(value)

    def period_value(self, span: Span, past: bool = False) -> dict[str, str]:
        """The span as a period; `past` reads it backwards ("won in october" said in November is the
        October just gone, "deals closing in october" the next one)."""
        value, kind = (
            (span.past, span.past_kind) if past and span.past is not None else (span.value, span.kind)
        )
        if kind == "period":
            start, end = value
        else:
            start = end = value.date() if isinstance(value, datetime) else value
        return {"start": iso(start), "end": iso(end)}

    # numbers --------------------------------------------------------------------------------------

    def moneys(self) -> list[Span]:
        return self.a.of_kind("money")

    def amount(self) -> Any:
        spans = self.moneys() or [s for s in self.a.of_kind("number") if s.value >= 1000]
        return number(spans[0].value) if spans else None

    def cue_before(self, span: Span, group: str, reach: int = 3) -> bool:
        window = self.words[max(0, span.first - reach) : span.first]
        return bool(find_cues(window, group))

    def cue_after(self, span: Span, group: str, reach: int = 3) -> bool:
        return bool(find_cues(self.words[span.last : span.last + reach], group))

    # free text ------------------------------------------------------------------------------------

    def text(self, first: int, last: int) -> str:
        return self.a.text_between(first, last).strip(_EDGE)

    def trim_times(self, first: int, last: int) -> tuple[int, int]:
        """Drops date phrases (with their preposition) and punctuation from both ends of a range."""
        changed = True
        while changed and first < last:
            changed = False
            span = self.a.span_at(last - 1)
            if span and span.kind in ("date", "datetime", "period") and span.first >= first:
                last = span.first
                changed = True
            elif self.a.tokens[last - 1].punct or (
                self.words[last - 1] in TASK_STOP | {"and", "then", "please"}
                and " ".join(self.words[max(first, last - 2) : last]) not in _PHRASAL
            ):
                last -= 1
                changed = True
            span = self.a.span_at(first)
            if first < last and span and span.kind in ("date", "datetime", "period") and span.last <= last:
                first = span.last
                changed = True
            elif first < last and (self.a.tokens[first].punct or self.words[first] in ("and", "then")):
                first += 1
                changed = True
        return first, last

    def quoted(self) -> str | None:
        match = _QUOTED.search(self.a.raw)
        return match.group(1).strip() if match else None


# one function per intent ----------------------------------------------------------------------------


def log_activity(f: Filler) -> Slots:
    slots: Slots = {}
    kind = f.cue("activity_type")
    if kind:
        slots["activity_type"] = kind
    f.records(slots, {"account": "account", "contact": "contact", "deal": "deal"})
    if "account" not in slots and "contact" not in slots:
        unknown = _unknown_record(f)
        if unknown:
            slots["account"] = f.text(*unknown)
    tail = len(f.words)
    follow = f.index_of(*lexicon()["follow_up"], "remind me", "reminder")
    unknown = _unknown_record(f) if "account" in slots and not f.a.of_kind("name") else None
    said = _notes_start(f, follow[0] if follow else tail, unknown)
    content = _content_times(f, said)
    for span in f.times():
        if follow and span.first >= follow[0]:
            slots.setdefault("follow_up", f.date_value(span))
        elif "when" not in slots and span not in content:
            slots["when"] = f.date_value(span, past=True)
    if follow:
        tail = follow[0]
    notes = _notes(f, tail, unknown, content)
    if notes:
        slots["notes"] = notes
    if "account" in slots:  # a person named in what was noted is not who the activity was with
        for span, kind in f.mentions():
            in_notes = kind == "contact" and span.first >= said
            if in_notes and span.name is not None and slots.get("contact") == f.record(span.name, "contact"):
                del slots["contact"]
    return slots


_CLAUSE_SUBJECTS = _words("clause_subjects")
_CLAUSE_BREAKS = (",", ";", ":", ".", "!", "?", "-", "–", "—")
_CONNECTING = _words("task_stop")  # "on", "by", "at", "in"...: words that only lead to a date
_CONTENT_PREPOSITIONS = _words("content_prepositions")


def _content_times(f: Filler, start: int) -> list[Span]:
    """Dates that are part of what was said about the activity, not when it happened: "they might
    delay until january", "she wants to start in q1", "budget hearing is dec 9". A date right after
    'until', 'before' and the like; in a clause of its own ("they ...", "she ...") inside the notes; or
    in a later clause of the message that says something before it (a clause that is only the date,
    ", yesterday", still says when)."""
    out = []
    for span in f.times():
        if span.first < start:
            continue
        before = f.words[start : span.first]
        if before[-1:] and before[-1] in _CONTENT_PREPOSITIONS:
            out.append(span)
            continue
        clause: list[str] = []
        later = False  # the date's clause is not the message's first
        for k in range(span.first):
            if f.a.tokens[k].punct and f.words[k] in _CLAUSE_BREAKS:
                clause, later = [], True
            else:
                clause.append(f.words[k])
        said = [w for w in clause if w not in _CONNECTING]
        if (_CLAUSE_SUBJECTS & set(clause[:1]) and len(clause) >= 3) or (later and len(said) >= 2):
            out.append(span)
    return out


def _unknown_record(f: Filler) -> tuple[int, int] | None:
    """A name the store does not know, right after 'with', 'at' or 'on': the words as written, when they
    read as a name (capitalised, or not words the assistant knows)."""
    hit = f.index_of("with", "at", "on")
    if hit is None:
        return None
    i = j = hit[1]
    while j < len(f.words) and j - i < 5:
        token = f.a.tokens[j]
        company = j > i and token.norm in lexicon()["company_words"]
        known = token.norm in f.common and not f.capital(j) and not company
        if token.punct or f.in_span[j] or known or find_cues([token.norm], "activity_type"):
            break
        j += 1
    return (i, j) if j > i else None


_FILLERS = _words("fillers")


def _notes_start(f: Filler, tail: int, unknown: tuple[int, int] | None = None) -> int:
    """Where what was said about the activity begins: after its introduction (who, what, when) and a
    connector like 'about' or ':'. A comma or colon after a record or a date ends the introduction."""
    intro = set(lexicon()["intro"]) | _FILLERS
    i = 0
    passed = False
    while i < tail:
        span = f.a.span_at(i)
        if unknown and unknown[0] <= i < unknown[1]:
            i = unknown[1]
            passed = True
        elif span is not None:
            i = span.last
            passed = True
        elif f.a.tokens[i].punct:
            i += 1
            ahead = i
            while ahead < tail and f.a.tokens[ahead].punct:
                ahead += 1
            record_next = ahead < tail and f.a.span_at(ahead) is not None
            separated = passed and f.words[i - 1] in (",", ":", ";", "-", "–", "—")
            if separated and (not record_next or _subject_of_clause(f, ahead, tail, intro)):
                break
        elif f.words[i] in intro or find_cues([f.words[i]], "activity_type"):
            if passed and f.words[i] in _ARTICLES and _plain_word(f, i + 1, tail, intro):
                break  # "emailed Brenda Hall the revised sow": the notes are "the revised sow"
            i += 1
        else:
            break
    while i < tail and f.a.tokens[i].punct:
        i += 1
    for connector in sorted(lexicon()["connectors"], key=lambda c: -len(c.split())):
        words = connector.split()
        if f.words[i : i + len(words)] == words:
            i += len(words)
            break
    return i


_ARTICLES = _words("articles")


def _subject_of_clause(f: Filler, at: int, tail: int, intro: set[str]) -> bool:
    """A name that a plain word follows starts a clause of the notes ("tyrell: irene is the decision
    maker"); a name standing alone still belongs to the introduction ("call w/ acme, jane doe")."""
    span = f.a.span_at(at)
    if span is None or span.name is None or span.last >= tail:
        return False
    after = span.last
    return not f.a.tokens[after].punct and f.a.span_at(after) is None and f.words[after] not in intro


def _plain_word(f: Filler, i: int, tail: int, intro: set[str]) -> bool:
    """Token i is an ordinary word: no record, date, punctuation, introduction or activity word."""
    return (
        i < tail
        and f.a.span_at(i) is None
        and not f.a.tokens[i].punct
        and f.words[i] not in intro
        and not find_cues([f.words[i]], "activity_type")
    )


def _notes(
    f: Filler, tail: int, unknown: tuple[int, int] | None = None, content: list[Span] | None = None
) -> str | None:
    """What was said about the activity: the words after its introduction, without its date phrase
    (a date that is part of what was said stays)."""
    i = _notes_start(f, tail, unknown)
    first, last = f.trim_times(i, tail)
    kept = [s.last for s in content or () if s.first >= first and last < s.last <= tail]
    if kept:
        last = max(kept)
    text = f.text(first, last)
    return text or None


def create_deal(f: Filler) -> Slots:
    slots: Slots = {}
    f.records(slots, {"account": "account", "deal": "deal"})
    if "account" not in slots:
        name = _new_name(f, ("for", "with", "at", "deal", "opportunity"))
        if name:
            slots["account"] = name
    amount = f.amount()
    if amount is not None:
        slots["amount"] = amount
    stage = f.cue("stage")
    if stage:
        slots["stage"] = stage
    times = f.times()
    if times:
        slots["close_date"] = f.date_value(times[0], period_end=True)
    return slots


def update_deal(f: Filler) -> Slots:
    slots: Slots = {}
    f.records(slots, {"account": "account", "deal": "deal"}, users_as="owner")
    stage = f.cue("stage")
    if stage:
        slots["stage"] = stage
    amount = f.amount()
    if amount is not None:
        slots["amount"] = amount
    times = f.times()
    if times:
        slots["close_date"] = f.date_value(times[0], period_end=True)
    if "owner" not in slots and f.has("to me", "assign me", "reassign to me", "give me", "over to me"):
        slots["owner"] = "me"
    return slots


_NAME_STOP = _words("name_stop")
_NAME_SKIP = _words("name_skip")
_INDUSTRY_FOLLOWERS = _words("industry_followers")


def _industries() -> dict[str, str]:
    return {fold(i): i for i in lexicon()["industries"]}


def _industry_at(f: Filler, j: int) -> int:
    """How many words of an industry name start at token j (0 if none)."""
    industries = _industries()
    for n in (2, 1):
        if j + n <= len(f.words) and " ".join(f.words[j : j + n]) in industries:
            return n
    return 0


def _new_name(f: Filler, cues: tuple[str, ...]) -> str | None:
    """A name that is not in the store, as written: the words after a cue like 'called'."""
    found = _new_name_range(f, cues)
    return f.text(*found) if found else None


_AS_A = _words("as_a")
_NAME_GLUE = _words("name_glue")


def _new_name_range(f: Filler, cues: tuple[str, ...]) -> tuple[int, int] | None:
    """The token range of a new name: the words after a cue like 'called', up to a stop word, a
    record, a stage or a trailing industry ("Crimson Media" keeps its capitalised "Media")."""
    n = len(f.words)
    for cue in ("called", "named", *cues):
        hit = f.index_of(cue)
        if hit is None:
            continue
        if hit[0] >= 2 and f.words[hit[0] - 1] in _AS_A and "as" in f.words[max(0, hit[0] - 3) : hit[0]]:
            continue  # "add X as an account": the name comes before the cue
        i = hit[1]
        while i < n and (f.words[i] in _NAME_SKIP or f.a.tokens[i].punct):
            i += 1
        j = i
        while j < n:
            token = f.a.tokens[j]
            ampersand = f.a.raw[token.start : token.end] == "&"
            if token.punct and token.norm not in (".", "'"):
                break
            capital_word = j > i and f.words[j] not in _NAME_GLUE and _capitalised_run(f, i, j + 1)
            if f.in_span[j] or (j > i and f.words[j] in _NAME_STOP and not ampersand and not capital_word):
                break  # a capitalised "Works" is part of "Polymer Works"
            if find_cues([f.words[j]], "stage"):
                break
            width = _industry_at(f, j)
            followed = j + width < n and f.words[j + width] in _INDUSTRY_FOLLOWERS
            if j > i and width and (followed or (j + width == n and not _capitalised_run(f, i, j + width))):
                break
            if j > i and width and _capitalised_run(f, i, j) and not _capitalised_run(f, j, j + width):
                break  # "Marlowe Retail Group retail": the lower-case word is the industry
            j += 1
        first, last = i, j
        while last > first and (f.a.tokens[last - 1].punct or not f.text(last - 1, last)):
            last -= 1
        if f.text(first, last):
            return first, last
    return None


def _capitalised_run(f: Filler, first: int, last: int) -> bool:
    """Every word of first..last written with a capital: a proper name ("Crimson Media")."""
    return all(f.capital(k) for k in range(first, last))


def _weak_person(span: Span | None) -> bool:
    """A lone first or last name of a known person: inside a new full name it is no mention."""
    if span is None or span.name is None or span.last - span.first != 1:
        return False
    candidates = span.name.candidates
    return all(c.record.kind in ("contact", "user") and c.score < 0.9 for c in candidates)


def _person_name(f: Filler) -> tuple[int, int] | None:
    """A new person's name: the first run of two or three words that are names, not command words."""
    common = f.common
    i = 0
    n = len(f.words)
    while i < n:
        j = i
        while j < n and j - i < 3:
            token = f.a.tokens[j]
            is_name = (
                not token.punct
                and (not f.in_span[j] or _weak_person(f.a.span_at(j)))
                and token.norm.replace("'", "").replace("-", "").isalpha()
                and token.norm not in _NAME_STOP
                and (token.norm not in common or f.capital(j))
            )
            if not is_name:
                break
            j += 1
        if j - i >= 2:
            return i, j
        i = max(j, i + 1)
    return None


def create_account(f: Filler) -> Slots:
    slots: Slots = {}
    found = [s for s, k in f.mentions() if k == "account"]
    named = _new_name_range(f, ("account", "company", "customer", "client", "prospect", "add", "create"))
    if named:
        slots["account"] = f.text(*named)
    elif found and found[0].name:
        slots["account"] = f.record(found[0].name, "account")
    industries = _industries()
    for n in (2, 1):
        for i in range(len(f.words) - n + 1):
            if named and i < named[1] and i + n > named[0]:
                continue  # "Ferro Logistics" names the company, not its industry
            phrase = " ".join(f.words[i : i + n])
            if phrase in industries and "industry" not in slots:
                slots["industry"] = industries[phrase]
    urls = f.a.of_kind("url")
    if urls:
        slots["website"] = urls[0].value
    return slots


_TITLE_CUES: tuple[str, ...] = tuple(_WORDS["title_cues"])
_TITLE_LEAD = _words("title_lead")
_NOT_TITLE = _words("not_title")


_CONTACT_DETAIL = _words("contact_detail")
_PRONOUNS = _words("pronouns")


def _until_entity(f: Filler, first: int, last: int) -> tuple[int, int]:
    """first..last cut before punctuation, a record span or 'at/from <record>'."""
    j = first
    while j < last:
        token = f.a.tokens[j]
        if (token.punct and token.norm not in ("&", ".", "/")) or f.in_span[j]:
            break
        if f.words[j] in ("at", "from", "with") and j + 1 < last and f.in_span[j + 1]:
            break
        j += 1
    return first, j


def _title(f: Filler, skip: tuple[int, int] | None = None) -> str | None:
    hit = f.index_of(*_TITLE_CUES)
    if hit:
        first = hit[1]
        while first < len(f.words) and f.words[first] in _TITLE_LEAD:
            first += 1
        text = f.text(*_until_entity(f, first, len(f.words)))
        if text and _real_title(text):
            return text
    segments: list[tuple[int, int]] = []
    start = 0
    for i, token in enumerate(f.a.tokens):
        if token.norm in (",", ";") or (token.norm == "-" and token.punct):
            segments.append((start, i))
            start = i + 1
    segments.append((start, len(f.words)))
    for first, last in segments:
        if skip and first <= skip[0] < max(last, first + 1):
            continue
        contact_detail = any(
            f.words[k] in _CONTACT_DETAIL
            or ((span := f.a.span_at(k)) is not None and span.kind in ("email", "phone", "url"))
            for k in range(first, last)
        )
        if (
            first < last
            and not f.in_span[first]
            and f.words[first] not in _NOT_TITLE | _PRONOUNS
            and not contact_detail
        ):
            text = f.text(*_until_entity(f, first, last))
            if text:
                return text
    accounts = [s for s in f.a.of_kind("name") if s.last < len(f.words)]
    if accounts:
        first, last = _until_entity(f, accounts[-1].last, len(f.words))
        if last - first >= 1 and not any(f.a.tokens[k].punct for k in range(first, last)):
            text = f.text(first, last)
            return text if text and _real_title(text) else None
    return None


def _real_title(text: str) -> bool:
    """Not just command words, contact details or filler ("as a contact", "email", "is now")."""
    return not set(_WORD.findall(fold(text))) <= _NOT_TITLE | _CONTACT_DETAIL | _FILLER_TITLE | _TITLE_LEAD


def create_contact(f: Filler) -> Slots:
    slots: Slots = {}
    accounts = [s for s, k in f.mentions() if k == "account"]
    if accounts and accounts[0].name:
        slots["account"] = f.record(accounts[0].name, "account")
    person = _person_name(f)
    if person:
        slots["contact"] = f.text(*person)
    else:
        person = _new_name_range(f, ("contact", "add", "create", "new"))
        if person:
            slots["contact"] = f.text(*person)
    emails, phones = f.a.of_kind("email"), f.a.of_kind("phone")
    if emails:
        slots["email"] = emails[0].value
    if phones:
        slots["phone"] = phones[0].value
    title = _title(f, skip=person)
    if title and title != slots.get("contact"):
        slots["title"] = title
    return slots


def update_contact(f: Filler) -> Slots:
    slots: Slots = {}
    f.records(slots, {"contact": "contact"})
    for span, kind in f.mentions():
        if kind == "account" and span.name and "contact" in slots:
            slots["account"] = f.record(span.name, "account")
    emails, phones = f.a.of_kind("email"), f.a.of_kind("phone")
    if emails:
        slots["email"] = emails[0].value
    if phones:
        slots["phone"] = phones[0].value
    if not emails and not phones and f.index_of(*_TITLE_CUES):
        title = _title(f)
        if title and not set(_WORD.findall(fold(title))) <= _FILLER_TITLE:
            slots["title"] = title
    return slots


_FILLER_TITLE = _words("filler_title")


_TASK_LEAD = _words("task_lead")
_PING_ME = tuple(_WORDS["ping_me"])  # "ping me tmrw to ring bob back": a reminder asked for


def _task_start(f: Filler) -> int:
    """Where the task's own words begin: after 'remind me ... to', 'task:', 'task for Tom to' and such."""
    n = len(f.words)
    colon = f.index_of(":")
    if colon and colon[0] <= 6:
        return colon[1]
    trigger = f.index_of("remind", "reminder", "task", "todo", "to do", *_PING_ME)
    if trigger:
        k = trigger[1]
        while k < min(n, trigger[1] + 8):
            span = f.a.span_at(k)
            if span is not None:
                k = span.last
                continue
            if f.words[k] == "to":
                after = f.a.span_at(k + 1)
                if after and after.name and after.last < n and f.words[after.last] == "to":
                    k = after.last
                    continue
                return k + 1
            if f.words[k] not in ("me", "for", "a", "an", "the", "myself", "us", "set", "new"):
                break
            k += 1
        k = trigger[1]
        while k < n:
            span = f.a.span_at(k)
            if span is not None and (span.name is None or "user" in span.name.kinds()):
                k = span.last
            elif f.words[k] in _TASK_LEAD:
                k += 1
            else:
                break
        return k
    k = 0
    while k < n and f.words[k] in _TASK_LEAD and f.words[k] != "to":
        k += 1
    if f.words[k : k + 1] == ["to"]:
        k += 1
    return k


def create_task(f: Filler) -> Slots:
    slots: Slots = {}
    f.records(slots, {"account": "account", "contact": "contact", "deal": "deal"}, users_as="assignee")
    times = f.times()
    if times:
        slots["due"] = f.date_value(times[0])
    start = _task_start(f)
    end = len(f.words)
    for span in times:
        if span.first > start:
            end = min(end, span.first)
            while end > start and f.words[end - 1] in TASK_STOP:
                end -= 1
    first, last = f.trim_times(start, end)
    task = f.text(first, last)
    if task:
        slots["task"] = task
    return slots


def snooze_task(f: Filler) -> Slots:
    times = f.times()
    return {"due": f.date_value(times[0])} if times else {}


def list_tasks(f: Filler) -> Slots:
    slots: Slots = {}
    times = f.times()
    if times:
        slots["period"] = f.period_value(times[0])
    status = f.cue("task_status")
    if status:
        slots["status"] = status
    f.records(slots, {}, users_as="assignee")
    return slots


_DONE_LEAD: tuple[str, ...] = tuple(_WORDS["done_lead"])


def complete_task(f: Filler) -> Slots:
    slots: Slots = {}
    f.records(slots, {"account": "account", "contact": "contact"})
    quoted = f.quoted()
    if quoted:
        slots["task"] = quoted
        return slots
    first, last = 0, len(f.words)
    colon = f.index_of(":")
    if colon:
        first = colon[1]
    moved = True
    while moved and first < last:
        moved = False
        for lead in sorted(_DONE_LEAD, key=lambda w: -len(w.split())):
            words = lead.split()
            if f.words[first : first + len(words)] == words:
                first += len(words)
                moved = True
                break
    moved = True
    while moved and first < last:
        moved = False
        if f.a.tokens[last - 1].punct:
            last -= 1
            moved = True
            continue
        for word in sorted(lexicon()["done_words"], key=lambda w: -len(w.split())):
            words = word.split()
            if last - len(words) > first and f.words[last - len(words) : last] == words:
                last -= len(words)
                moved = True
                break
    first, last = f.trim_times(first, last)
    article = int(f.words[first : first + 1] in (["the"], ["that"], ["this"]))
    span = f.a.span_at(first + article) if first + article < last else None
    end = f.account_end(span) if span is not None and span.name is not None else last
    if span is not None and span.first == first + article and end < last:
        first = end  # "the tyrell renewal task", "acme follow up ✅": the record is no part of the task
        for noun in (["to", "do"], ["task"], ["reminder"], ["item"]):
            if last - len(noun) > first and f.words[last - len(noun) : last] == noun:
                last -= len(noun)  # "the Tyrell renewal task is done": the task is "renewal"
                break
    task = f.text(first, last)
    if task:
        slots["task"] = task
    return slots


def query_deals(f: Filler) -> Slots:
    slots: Slots = {}
    f.records(slots, {"account": "account"}, users_as="owner")
    if "owner" not in slots and f.me():
        slots["owner"] = "me"
    inactive = f.cues("inactive")
    if inactive:
        days = _days(f, inactive[0])
        if days:
            slots["inactive_days"] = days
    times = [s for s in f.times() if not (inactive and _near(s, inactive[0]))]
    stage = f.cue("stage")
    status = f.cue("deal_status")
    if stage in ("won", "lost"):
        slots["status"] = stage
    elif stage:
        slots["stage"] = stage
    if status and "status" not in slots and not (status == "open" and stage):
        slots["status"] = status
    if times:  # deals won or lost in a period closed in the past; open deals close ahead
        slots["period"] = f.period_value(times[0], past=slots.get("status") in ("won", "lost"))
    amounts = f.moneys() or [s for s in f.a.of_kind("number") if s.value >= 1000]
    ends = _range_ends(f, amounts[0]) if len(amounts) == 1 else None
    if ends:
        slots["min_amount"], slots["max_amount"] = ends
    elif len(amounts) == 2 and f.has("between", "from"):
        low, high = sorted(number(s.value) for s in amounts)
        slots["min_amount"], slots["max_amount"] = low, high
    else:
        for span in amounts:
            if f.cue_before(span, "max_amount") or f.cue_after(span, "max_amount", 2):
                slots.setdefault("max_amount", number(span.value))
            else:
                slots.setdefault("min_amount", number(span.value))
    sort = f.cue("sort")
    soonest = f.index_of("next")
    if soonest and f.has("to close", "closing") and f.a.span_at(soonest[1]) in f.a.of_kind("number"):
        sort = "close_date"  # "the next 5 deals to close"
    if sort:
        slots["sort"] = sort
    cues = set(lexicon()["limit_cues"])
    for span in f.a.of_kind("number"):
        around = f.words[max(0, span.first - 2) : span.first] + f.words[span.last : span.last + 2]
        unit = f.words[span.last : span.last + 1]
        if span.value < 1000 and cues & set(around) and not (set(unit) & set(_DAYS_PER_UNIT)):
            slots["limit"] = int(span.value)
            if "sort" not in slots and not f.has("deals with", "deals without"):
                slots["sort"] = "amount"
            break
    if "limit" not in slots and _one_first(f):
        slots["limit"] = 1  # "largest open deal", "the next deal to close": one deal, the first in order
    return slots


def _range_ends(f: Filler, span: Span) -> tuple[int | float, int | float] | None:
    """ "the 20-50k range": one word, so one span, that holds both ends of a range."""
    found = find_numbers(f.text(span.first, span.last))
    if len(found) != 2:
        return None
    low, high = sorted(number(m.value) for m in found)
    return low, high


_SUPERLATIVES = _words("superlatives")


def _one_first(f: Filler) -> bool:
    """A superlative sort cue and one deal asked for: "deal" said, never "deals"."""
    said = {" ".join(f.words[c.first : c.last]) for c in f.cues("sort")}
    plain = [w for k, w in enumerate(f.words) if not f.in_span[k]]
    return bool(said & _SUPERLATIVES) and "deal" in plain and "deals" not in plain


def _near(span: Span, cue: Cue) -> bool:
    return 0 <= span.first - cue.last <= 3 or 0 <= cue.first - span.last <= 3


_DAYS_PER_UNIT: dict[str, int] = _WORDS["days_per_unit"]


def _days(f: Filler, cue: Cue) -> int | None:
    for span in f.a.of_kind("number"):
        if span.last < len(f.words) and f.words[span.last] in _DAYS_PER_UNIT:
            return int(span.value) * _DAYS_PER_UNIT[f.words[span.last]]
    for i, word in enumerate(f.words):
        if word in _DAYS_PER_UNIT and i > 0 and f.words[i - 1] in ("a", "one", "the", "last", "past"):
            return _DAYS_PER_UNIT[word]
    for span in f.times():
        if not _near(span, cue):
            continue
        if span.kind == "period":
            start, end = span.value
            return int((end - start).days) + 1
        day = span.value.date() if isinstance(span.value, datetime) else span.value
        return abs((day - f.now.date()).days) or None
    return None


CLOSED_METRICS = ("won", "lost", "win_rate")  # figures of deals already closed: their periods look back


def pipeline_report(f: Filler) -> Slots:
    slots: Slots = {}
    metrics = {c.value for c in f.cues("metric")}
    if "won" in metrics and f.has("how often"):
        metrics.add("win_rate")  # "how often do we win" asks for a rate
    for metric in ("win_rate", "count", "forecast", "lost", "won", "pipeline"):
        if metric in metrics:
            slots["metric"] = metric
            break
    group = f.cue("group_by")
    if group:
        slots["group_by"] = group
    times = f.times()
    if times:
        chosen = slots.get("metric")  # "how many deals did we win" counts closed deals: it looks back too
        past = chosen in CLOSED_METRICS or (chosen == "count" and bool(metrics & {"won", "lost"}))
        slots["period"] = f.period_value(times[0], past=past)
    f.records(slots, {}, users_as="owner")
    if "owner" not in slots and f.me():
        slots["owner"] = "me"
    slots.setdefault("metric", "pipeline")
    return slots


def account_summary(f: Filler) -> Slots:
    slots: Slots = {}
    f.records(slots, {"account": "account", "contact": "contact", "deal": "deal"})
    return slots


def find_contact(f: Filler) -> Slots:
    slots: Slots = {}
    f.records(slots, {"account": "account", "contact": "contact"})
    field = f.cue("field")
    words = [w for w in f.words if w.isalnum()]
    if not field and words[:2] in (["what", "does"], ["what", "do"]) and words[-1:] == ["do"]:
        field = "title"  # "what does Ines Carvalho do": her job
    if field:
        slots["field"] = field
    return slots


def faq(f: Filler) -> Slots:
    guess = f.kb().guess(f.a.raw)
    return {"article": guess.article} if guess is not None and guess.sure else {}


_TICKET_WORDS = _words("ticket_words")


_TICKET_BREAKS = (",", ":", ";", "?", "!", ".", "-", "–", "—")


_A_PROBLEM = [[a, p] for a in ("a", "an") for p in _WORDS["problem_nouns"]]


def open_ticket(f: Filler) -> Slots:
    """The problem as stated, without the request around it: greetings, "open a ticket", "can you help"
    and the like, whether they come before or after the problem; and an e-mail address to answer at."""
    emails = f.a.of_kind("email")
    slots: Slots = {"email": emails[0].value} if emails else {}
    problem = _problem_stated(f)
    return {**slots, **problem}


def _problem_stated(f: Filler) -> Slots:
    n = len(f.words)
    segments: list[tuple[int, int]] = []
    start = 0
    for i, token in enumerate(f.a.tokens):
        if token.punct and token.norm in _TICKET_BREAKS:
            segments.append((start, i))
            start = i + 1
    segments.append((start, n))
    filler = _TICKET_WORDS | set(lexicon()["ticket_filler"])
    stated = [
        (a, b)
        for a, b in segments
        if any(not f.a.tokens[k].punct and f.words[k] not in filler for k in range(a, b))
    ]
    if not stated:
        return {}  # "open a ticket" alone names no problem yet: the assistant asks for it
    first, last = stated[0][0], stated[-1][1]
    intro = f.index_of(*lexicon()["ticket_intro"], start=first)
    if intro and intro[0] <= first + 3 and intro[1] < last:
        first = intro[1]
        while first < last and f.words[first] in ("about", "with", "for", "that", "regarding", "-", ",", ":"):
            first += 1
            if f.words[first : first + 2] in _A_PROBLEM:
                first += 2
        if f.words[first : first + 2] in _A_PROBLEM:
            first += 2
            while first < last and f.words[first] in ("about", "with", "that", "regarding", "-", ",", ":"):
                first += 1
    subject = f.text(first, last)
    return {"subject": subject} if subject else {}


def ticket_status(f: Filler) -> Slots:
    numbers = [s for s in f.a.of_kind("number") if s.value >= 10]
    return {"ticket": int(numbers[0].value)} if numbers else {}


def rate_ticket(f: Filler) -> Slots:
    """A 1-5 rating ("5", "four stars", "I'd give you a 3") and maybe the ticket it rates."""
    slots = ticket_status(f)
    ratings = [s for s in f.a.of_kind("number") if s.value in range(1, 6) and s.value == int(s.value)]
    if ratings:
        slots["rating"] = int(ratings[0].value)
    return slots


def support_report(f: Filler) -> Slots:
    """Which support figure (CSAT unless tickets opened or resolved are asked for), over which period."""
    slots: Slots = {"metric": f.cue("support_metric") or "csat"}
    times = f.times()
    if times:
        slots["period"] = f.period_value(times[0], past=True)
    return slots


def list_tickets(f: Filler) -> Slots:
    """Which part of the help desk's queue: new, unassigned, pending, resolved or open (all unsolved),
    of one priority, someone's ("my tickets"), grouped by priority."""
    slots: Slots = {}
    if (queue := f.cue("ticket_queue")) is not None:
        slots["status"] = queue
    if (priority := f.cue("ticket_priority")) is not None:
        slots["priority"] = priority
    f.records(slots, {}, users_as="assignee")
    if "assignee" not in slots and (f.me() or f.has("to me")):
        slots["assignee"] = "me"
    if f.has("by priority", "per priority", "by urgency"):
        slots["group_by"] = "priority"
    return slots


def assign_ticket(f: Filler) -> Slots:
    """The ticket and who takes it: a colleague named, else the speaker ("I'll take 1042")."""
    slots = ticket_status(f)
    f.records(slots, {}, users_as="assignee")
    slots.setdefault("assignee", "me")
    return slots


_REPLY_LEAD = ("saying", "that", "with", "say", "answer", "reply", "know", "them")


def reply_ticket(f: Filler) -> Slots:
    """The ticket and the words to send: after a colon, or after "saying"/"that" past the number."""
    numbers = [s for s in f.a.of_kind("number") if s.value >= 10]
    slots: Slots = {"ticket": int(numbers[0].value)} if numbers else {}
    start = numbers[0].last if numbers else 0
    colon = f.index_of(":", start=start)
    if colon is not None:
        first = colon[1]
    else:
        first = start
        while first < len(f.words) and (f.words[first] in _REPLY_LEAD or f.a.tokens[first].punct):
            first += 1
        if first == start:
            return slots  # "reply to 1042" alone: the assistant asks what to say
    message = f.a.text_between(first, len(f.words)).strip()
    if message:
        slots["message"] = message
    return slots


FILLERS: dict[str, Callable[[Filler], Slots]] = {
    "log_activity": log_activity,
    "create_deal": create_deal,
    "update_deal": update_deal,
    "create_account": create_account,
    "create_contact": create_contact,
    "update_contact": update_contact,
    "create_task": create_task,
    "list_tasks": list_tasks,
    "snooze_task": snooze_task,
    "complete_task": complete_task,
    "query_deals": query_deals,
    "pipeline_report": pipeline_report,
    "account_summary": account_summary,
    "find_contact": find_contact,
    "faq": faq,
    "open_ticket": open_ticket,
    "ticket_status": ticket_status,
    "list_tickets": list_tickets,
    "rate_ticket": rate_ticket,
    "support_report": support_report,
    "show_ticket": ticket_status,
    "reply_ticket": reply_ticket,
    "close_ticket": ticket_status,
    "assign_ticket": assign_ticket,
}


def fill(
    intent: str, analysis: Analysis, now: datetime, kb: Callable[[], KbClassifier], common: frozenset[str]
) -> Slots:
    handler = FILLERS.get(intent)
    return handler(Filler(analysis, now, kb, common)) if handler else {}
