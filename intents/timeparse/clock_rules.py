"""The rules for times of day: clock times in digits or words, noon, end of day, parts of the day."""

from __future__ import annotations

import re

from intents.timeparse.atoms import Rule, _Atom, _Ctx, _follow_ok, _prev_word, rule_registry
from intents.timeparse.calendar import _bare_hour, _cardinal, _minute_words
from intents.timeparse.vocabulary import _HOURW, _MER, _MER_SPACED, _MINW, _WEEKDAYS

CLOCK_RULES: list[Rule] = []
_pattern = rule_registry(CLOCK_RULES)


# "around"/"about" (approximately) stay inside the span like "at"; "by", "before"... stay outside.
_APPROX = r"around|about|approx(?:imately|\.)?|roughly|circa|ca\."
_PRE = rf"(?:(?P<pre>at|{_APPROX}|by|before|after|until|till|til|from)\s*|(?P<at>@)\s*)"
_PRE_REQ = rf"(?:(?P<pre>at|{_APPROX}|by|before|until|till|til)\s+|(?P<at>@)\s*)"
# "3ish", "3pm-ish", "noonish", "at 10 ish": approximately, the same clock time.
_ISH = r"(?:\s?-?\s?ish\b)?"
_DIGITS = tuple("0123456789")  # pre-filters: a rule that needs a digit, or a digit before "h" ("15h30")
_DIGIT_H = tuple(f"{d}{space}h" for d in _DIGITS for space in ("", " "))
_INSIDE = frozenset(
    {"at", "around", "about", "approx", "approximately", "approx.", "roughly", "circa", "ca."}
)


def _clock_atom(
    m: re.Match[str], c: _Ctx, h: int, mi: int, explicit: bool, guard: bool = False
) -> _Atom | None:
    """A clock time; "by"/"before"/"until" stay outside the span (they are the caller's business)."""
    if not (0 <= h <= 23 and 0 <= mi <= 59):
        return None
    if guard and not _follow_ok(c, m.end()):
        return None  # "at 3 deals"
    groups = m.groupdict()
    pre = groups.get("pre")
    start = m.start()
    if pre and pre not in _INSIDE:
        start = m.start("pre") + len(pre)
        while c.lower[start : start + 1].isspace():
            start += 1
    prefixed = bool(pre or groups.get("at"))
    return _Atom(start, m.end(), "clock", hour=h, minute=mi, explicit=explicit, prefixed=prefixed)


def _meridiem(h: int, mer: str | None) -> int | None:
    """Apply am/pm to an hour 1..12 (12am is midnight, 12pm noon); None for "0pm"."""
    if not mer:
        return h
    if not 1 <= h <= 12:
        return h if h > 12 else None
    return h % 12 + (12 if mer.strip()[0] == "p" else 0)


@_pattern(rf"(?<![\w@]){_PRE}?(?P<h>[0-9]{{1,2}})(?:[:.](?P<m>[0-9]{{2}}))?{_MER}{_ISH}")
def _clock_meridiem(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "3pm", "3 pm", "3p", "10am", "3:30 p.m."."""
    h = _meridiem(int(m["h"]), m["mer"])
    return None if h is None else _clock_atom(m, c, h, int(m["m"] or 0), True)


@_pattern(
    rf"(?<![\w@:.]){_PRE}?(?P<h>[0-9]{{1,2}}):(?P<m>[0-9]{{2}})(?![0-9]|:[0-9])(?:\s*(?:h|hrs)\b)?{_ISH}",
    needs=(":",),
)
def _clock_colon(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "15:30", "at 3:30" (15:30: the bare-hour rule), "07:30" (a leading zero means 24-hour)."""
    h = int(m["h"])
    explicit = m["h"].startswith("0") or h > 12
    return _clock_atom(m, c, h if explicit else _bare_hour(h), int(m["m"]), explicit)


@_pattern(
    rf"(?<![\w@]){_PRE_REQ}(?P<h>[0-9]{{1,2}})(?![0-9]|[:.,/][0-9]|\s*%)(?P<oc>\s*o['’]?\s?clock\b)?(?:\s+sharp\b)?"
    + _ISH
)
def _clock_bare(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "at 3" (15:00), "at 10" (10:00), "by 5", "@ 3": hours 1..7 are pm, 8..11 am, 12 noon."""
    h = int(m["h"])
    explicit = m["h"].startswith("0") or h > 12
    return _clock_atom(m, c, h if explicit else _bare_hour(h), 0, explicit, guard=True)


@_pattern(rf"(?<![\w@])(?P<h>[0-9]{{1,2}}|{_HOURW})\s*o['’]?\s?clock\b{_ISH}", needs=("clock",))
def _clock_oclock(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "3 o'clock", "ten oclock"."""
    h = int(m["h"]) if m["h"].isdigit() else int(_cardinal(m["h"]))
    return _clock_atom(m, c, h if h > 12 else _bare_hour(h), 0, h > 12 or m["h"].startswith("0"))


@_pattern(
    rf"(?<![\w@]){_PRE_REQ}(?P<hw>{_HOURW})(?:[\s-]+(?P<mw>{_MINW}))?\b{_MER_SPACED}?"
    r"(?P<oc>\s+o['’]?\s?clock\b)?" + _ISH
)
def _clock_words(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "at ten", "at ten thirty", "at three pm" (speech-recogniser text)."""
    return _word_clock(m, c, guard=not (m["mer"] or m["oc"]))


@_pattern(
    rf"(?<![\w@])(?P<hw>{_HOURW})(?:[\s-]+(?P<mw>{_MINW}))?\b(?:{_MER_SPACED}|(?P<oc>\s+o['’]?\s?clock\b)){_ISH}",
    needs=("am", "pm", "a.m", "p.m", "a m", "p m", "a. m", "p. m", "clock"),
)
def _clock_words_meridiem(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "three pm", "ten thirty am": no "at" needed when am/pm is said."""
    return _word_clock(m, c, guard=False)


def _word_clock(m: re.Match[str], c: _Ctx, guard: bool) -> _Atom | None:
    """A clock time said in words, as speech recognisers write it."""
    h = int(_cardinal(m["hw"]))
    mi = _minute_words(m["mw"])
    if m["mer"]:
        hm = _meridiem(h, m["mer"])
        return None if hm is None else _clock_atom(m, c, hm, mi, True, guard)
    return _clock_atom(m, c, _bare_hour(h), mi, False, guard)


@_pattern(
    rf"(?<![\w@])(?:(?P<pre>at|{_APPROX}|by|before|until|till)\s+)?(?P<q>half|(?:a\s+)?quarter|five|ten|twenty"
    rf"(?:[\s-]five)?|[0-9]{{1,2}})(?P<mins>\s+min(?:ute)?s?)?\s+(?P<rel>past|after|to|till|til|of)\s+"
    rf"(?P<h>[0-9]{{1,2}}|{_HOURW})(?:\b|(?=ish\b))(?![:.][0-9]){_MER_SPACED}?{_ISH}",
    needs=("past", "after", "to", "til", "of"),
)
def _clock_past(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "half past three", "quarter to four", "ten past 9", "25 past 3", "10 minutes to 4"."""
    h = int(m["h"]) if m["h"].isdigit() else int(_cardinal(m["h"]))
    q = m["q"]
    mins = 30 if q == "half" else 15 if "quarter" in q else int(_cardinal(q))
    back = m["rel"] in ("to", "till", "til", "of")
    if q.isdigit() and not (1 <= mins <= 30 and (m["mins"] or not back)):
        return None  # "5 to 6pm" is a range; "10 minutes to 4" is 15:50
    if back:
        h, mins = h - 1, 60 - mins
        if q == "half":
            return None  # "half to" is not a time
    if not m["mer"] and not _follow_ok(c, m.end()):
        return None
    hh = _meridiem(h % 12 or 12, m["mer"]) if m["mer"] else _bare_hour(h if h > 0 else 12)
    return None if hh is None else _clock_atom(m, c, hh, mins, bool(m["mer"]))


@_pattern(
    rf"(?<![\w@]){_PRE_REQ}?half\s+(?P<h>[0-9]{{1,2}}|{_HOURW})(?:\b|(?=ish\b))(?![:.,/][0-9]|\s*%){_MER_SPACED}?{_ISH}",
    needs=("half",),
)
def _clock_half(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "half three" (British: half past three, 15:30 in business hours), "half 10", "at half eight"."""
    h = int(m["h"]) if m["h"].isdigit() else int(_cardinal(m["h"]))
    if not 1 <= h <= 12:
        return None
    if m["mer"]:
        hm = _meridiem(h, m["mer"])
        return None if hm is None else _clock_atom(m, c, hm, 30, True)
    return _clock_atom(m, c, _bare_hour(h), 30, False, guard=True)


@_pattern(
    rf"(?<![\w@:.$£€#]){_PRE_REQ}?(?P<h>[0-9]{{1,2}}|{_HOURW})(?::(?P<m>[0-5][0-9]))?\s?-?\s?ish\b",
    needs=("ish",),
)
def _clock_ish(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "3ish", "5-ish", "threeish", "at 4:30ish": "ish" makes a bare number an (approximate) hour."""
    h = int(m["h"]) if m["h"].isdigit() else int(_cardinal(m["h"]))
    explicit = m["h"].startswith("0") or h > 12
    if not explicit and not 1 <= h <= 12:
        return None
    return _clock_atom(m, c, h if explicit else _bare_hour(h), int(m["m"] or 0), explicit, guard=True)


@_pattern(
    rf"(?<![\w@]){_PRE_REQ}(?P<h>[0-9]{{1,2}})\.(?P<m>[0-5][0-9])(?![0-9]|[.,][0-9]|\s*%){_ISH}", needs=(".",)
)
def _clock_dot(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "at 3.30" (15:30), "by 10.15": a dot between hour and minutes, only after "at"/"by"..."""
    h = int(m["h"])
    explicit = m["h"].startswith("0") or h > 12
    return _clock_atom(m, c, h if explicit else _bare_hour(h), int(m["m"]), explicit, guard=True)


@_pattern(
    rf"(?<![\w@:.]){_PRE}?(?P<h>[01]?[0-9]|2[0-3])\s?h\s?(?P<m>[0-5][0-9])(?![0-9])(?:\s?min\b)?\b{_ISH}",
    needs=_DIGIT_H,
)
def _clock_h(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "15h30", "9h15": the continental 24-hour form."""
    return _clock_atom(m, c, int(m["h"]), int(m["m"]), True)


@_pattern(
    rf"(?<![\w@:.$£€#]){_PRE_REQ}?(?P<h>[0-9]{{1,2}})[\s-]+(?:(?P<mw>{_MINW})\b|(?P<md>[0-5][0-9])(?![0-9:.,/]))"
    rf"{_MER_SPACED}?{_ISH}",
    needs=_DIGITS,
)
def _clock_digit_words(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "at 3 thirty", "3 thirty pm", "at 10 45" (speech-recogniser text): needs "at"/"by"... or am/pm."""
    if not (m["pre"] or m["at"] or m["mer"]):
        return None
    h = int(m["h"])
    mi = int(m["md"]) if m["md"] else _minute_words(m["mw"])
    if m["mer"]:
        hm = _meridiem(h, m["mer"])
        return None if hm is None else _clock_atom(m, c, hm, mi, True)
    explicit = m["h"].startswith("0") or h > 12
    return _clock_atom(m, c, h if explicit else _bare_hour(h), mi, explicit, guard=True)


_BEFORE_PART = (
    r"\s+(?:in\s+the\s+(?:morning|afternoon|evening)|at\s+night|to(?:night|nite)\b|(?:this|tomorrow|tmrw)"
    r"\s+(?:morning|afternoon|evening|night)\b)"
)
_NOT_BEFORE_PART_HOUR = frozenset(
    {"top", "the", "a", "of", "my", "our", "first", "last", "next", "only", "about"}
)


@_pattern(
    rf"(?<![\w@:.$£€#])(?P<h>[0-9]{{1,2}}|{_HOURW})(?::(?P<m>[0-5][0-9]))?(?={_BEFORE_PART})",
    needs=("morning", "afternoon", "evening", "night", "nite"),
)
def _clock_before_part(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "3 in the afternoon" (15:00), "10 in the morning", "8 tonight" (20:00): the part of day that follows
    says am or pm (the grouping applies it)."""
    if _prev_word(c, m.start()) in _NOT_BEFORE_PART_HOUR:
        return None
    h = int(m["h"]) if m["h"].isdigit() else int(_cardinal(m["h"]))
    if not 1 <= h <= 12:
        return None
    return _clock_atom(m, c, _bare_hour(h), int(m["m"] or 0), False)


_DAY_WORD = re.compile(r"(?:today|tomorrow|tmrw|tmr|tomorow|" + "|".join(_WEEKDAYS) + r")\.?\s+$")


@_pattern(r"(?<=[a-z.])\s+(?P<ap>am|pm|a\.m\.|p\.m\.)(?![\w.])", needs=("am", "pm", "a.m", "p.m"))
def _day_am_pm(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "tomorrow am", "fri pm": am/pm right after a day is its morning or afternoon."""
    if _DAY_WORD.search(c.lower, max(0, m.start() - 12), m.start("ap")) is None:
        return None
    part = "morning" if m["ap"].startswith("a") else "afternoon"
    return _Atom(m.start("ap"), m.end(), "part", part=part)


@_pattern(
    rf"(?<![\w@])(?:(?P<pre>at|{_APPROX}|by|before|until|till)\s+)?(?:12\s*)?"
    r"(?P<w>noon|midday|mid-day|noontime|lunchtime|midnight)(?:\b|(?=ish\b))" + _ISH,
    needs=("noon", "midday", "mid-day", "lunchtime", "midnight"),
)
def _noon(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """noon, midday, lunchtime (12:00), midnight (00:00 of the day)."""
    return _clock_atom(m, c, 0 if m["w"] == "midnight" else 12, 0, True)


@_pattern(
    r"(?<![\w@])(?:(?P<pre>by|before|until|till)\s+)?(?:the\s+)?(?:eod|eob|cob|end\s+of\s+(?:the\s+)?"
    r"(?:business\s+|work(?:ing)?\s+)?day|(?:close|end)\s+of\s+(?:business|play))\b",
    needs=("eod", "eob", "cob", "end", "close"),
)
def _end_of_day(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """eod / end of day / cob / close of business: 17:00 (today, even when said after 17:00)."""
    atom = _clock_atom(m, c, 17, 0, True)
    if atom is not None:
        atom.today = True
    return atom


@_pattern(r"\bfirst\s+thing(?:\s+in\s+the\s+morning)?\b", needs=("thing",))
def _first_thing(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """ "first thing (tomorrow)": 09:00."""
    return _Atom(m.start(), m.end(), "clock", hour=9, minute=0, explicit=True)


@_pattern(
    r"\b(?:(?P<pre>in|during)\s+the\s+|at\s+(?=night))?(?P<part>morning|afternoon|evening|night)\b",
    needs=("morning", "afternoon", "evening", "night"),
)
def _part_of_day(m: re.Match[str], c: _Ctx) -> _Atom | None:
    """morning (09:00), afternoon (14:00), evening (18:00); "night" only modifies a clock time."""
    if _prev_word(c, m.start()) == "good":
        return None  # a greeting
    return _Atom(m.start(), m.end(), "part", part=m["part"], prefixed=m.start() != m.start("part"))
