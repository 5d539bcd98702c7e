"""The dateparser fallback: absolute date phrases the rules do not resolve ("12-05-2026", "3 jan 27"),
parsed one short candidate at a time, never the whole sentence.
"""

from __future__ import annotations

import bisect
import re
from datetime import date, datetime

from intents.timeparse.atoms import _Atom, _Ctx
from intents.timeparse.vocabulary import _MON, _WD

_DP_TOKEN = rf"(?:[0-9]{{1,4}}(?:st|nd|rd|th)?|the|of|{_WD})"
_DP_CANDIDATE = re.compile(
    rf"(?<![\w./-])(?:[0-9]{{1,4}}[./-][0-9]{{1,2}}[./-][0-9]{{2,4}}|(?:{_DP_TOKEN}[\s,./'-]+){{0,3}}(?:{_MON})\b\.?"
    rf"(?:[\s,./'-]+{_DP_TOKEN}){{0,3}})(?![\w/-])"
)
_DP_TRIM = re.compile(rf"(?:[\s,./'-]+(?:of|the|{_WD}))+$")
_DP_MAX_CALLS = 3


def _dateparser_atoms(c: _Ctx, atoms: list[_Atom]) -> list[_Atom]:
    """Absolute date phrases the rules did not resolve ("12-05-2026", "3 jan 27"), parsed by dateparser."""
    found: list[_Atom] = []
    calls = 0
    starts = [a.start for a in atoms]
    for m in _DP_CANDIDATE.finditer(c.lower):
        start, end = m.start(), m.start() + len(_DP_TRIM.sub("", m.group()))
        if not any(ch.isdigit() for ch in c.lower[start:end]) or end - start > 40:
            continue
        i = bisect.bisect_left(starts, end)
        if any(a.start < end and a.end > start for a in atoms[max(0, i - 3) : i]):
            continue  # the rules already say something about these words
        if calls >= _DP_MAX_CALLS:
            break
        calls += 1
        day = _dateparser_date(c, c.lower[start:end])
        if day is not None:
            found.append(_Atom(start, end, "date", day=day, absolute=True))
    return found


def _dateparser_date(c: _Ctx, phrase: str) -> date | None:
    """dateparser on one short candidate phrase, never on the whole sentence (it costs milliseconds)."""
    try:
        import dateparser  # lazy: importing it takes ~100 ms, and most utterances never need it
    except ImportError:  # pragma: no cover - dateparser is a dependency, but the rules work without it
        return None
    settings = {
        "RELATIVE_BASE": c.now_min,
        "PREFER_DATES_FROM": "future" if c.future else "past",
        "REQUIRE_PARTS": ["day", "month"],
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        result: datetime | None = dateparser.parse(phrase, languages=["en"], settings=settings)
    except Exception:  # dateparser raises assorted errors on odd input; it is only a fallback
        return None
    if result is None or not 1900 <= result.year <= 2199:
        return None
    return result.date()
