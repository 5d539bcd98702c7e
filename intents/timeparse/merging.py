"""Selection and merging: the longest atoms win, then neighbours join ("a week from" + "friday",
"friday" + "at 3pm", "between dec 1" + "and dec 5").
"""

from __future__ import annotations

import bisect
import re
from datetime import date, timedelta

from intents.timeparse.atoms import Period, _Atom, _Ctx, _follow_ok
from intents.timeparse.calendar import _bare_hour, _cardinal, _minute_words, _shift, _week
from intents.timeparse.clock_rules import CLOCK_RULES
from intents.timeparse.date_rules import DATE_RULES
from intents.timeparse.vocabulary import _HOURW, _MINW, _PART_HOURS, _WEEKDAYS
from intents.timeparse.wallclock import _at, _normalise_wall

# each rule with what its text must contain, as one pattern: a rule whose words are absent is skipped
_RULES = tuple(
    (regex, handler, re.compile("|".join(map(re.escape, needs))) if needs else None)
    for regex, handler, needs in (*DATE_RULES, *CLOCK_RULES)
)


def _collect(c: _Ctx) -> list[_Atom]:
    """Every atom every pattern proposes, overlapping ones included."""
    atoms: list[_Atom] = []
    for regex, handler, needs in _RULES:
        if needs is not None and needs.search(c.lower) is None:
            continue
        for m in regex.finditer(c.lower):
            try:
                atom = handler(m, c)
            except (ValueError, OverflowError, KeyError, IndexError, AssertionError):
                atom = None  # an impossible date ("feb 30") or an out-of-range year is simply no mention
            if atom is not None and atom.end > atom.start:
                atoms.append(atom)
    return atoms


def _select(atoms: list[_Atom]) -> list[_Atom]:
    """Longest first, then leftmost; keep only atoms that overlap nothing already kept."""
    atoms.sort(key=lambda a: (a.start - a.end, a.start))
    starts: list[int] = []
    kept: list[_Atom] = []
    for a in atoms:
        i = bisect.bisect_right(starts, a.start)
        if i > 0 and kept[i - 1].end > a.start:
            continue
        if i < len(kept) and kept[i].start < a.end:
            continue
        starts.insert(i, a.start)
        kept.insert(i, a)
    return kept


_ABBREVIATED_DAYS = frozenset(w for w in _WEEKDAYS if len(w) <= 5)
_GAP_TIGHT = re.compile(r"[\s,]*")
_GAP_GROUP = re.compile(r"\s*(?:,\s*)?(?:(?:at|@|on|around|by|before|after|until|till|from|-)\s*)?")
_GAP_WEEKDAY_DATE = re.compile(r"\s*,?\s*(?:the\s+)?")
_GAP_RANGE = re.compile(r"\s*(?P<c>-|–|—|through|thru|and|until|till|til)\s*")
_GAP_TIME_RANGE = re.compile(r"\s*(?:-|–|—|to|until|till|or)\s*")
_RANGE_OPEN = re.compile(r"(?<![\w])(?P<w>between|from)\s+$")
_BARE_HOUR = re.compile(
    rf"[\s,]+(?P<h>[0-9]{{1,2}})(?::(?P<m>[0-9]{{2}}))?(?![0-9:./])|[\s,]+(?P<hw>{_HOURW})"
    rf"(?:[\s-]+(?P<mw>{_MINW}))?\b"
)


def _gap(c: _Ctx, a: _Atom, b: _Atom, regex: re.Pattern[str]) -> bool:
    """True when the text between two atoms is only the connector regex allows."""
    return regex.fullmatch(c.lower, a.end, b.start) is not None


def _apply_prefixes(c: _Ctx, atoms: list[_Atom]) -> list[_Atom]:
    """ "a week from" + date, "the week of" + date; a prefix with no date after it is dropped."""
    out: list[_Atom] = []
    i = 0
    while i < len(atoms):
        a = atoms[i]
        if a.role in ("offset", "weekof"):
            b = atoms[i + 1] if i + 1 < len(atoms) else None
            if b is not None and b.role == "date" and b.day and _gap(c, a, b, _GAP_TIGHT):
                try:
                    if a.role == "offset" and a.offset:
                        day = _shift(b.day, a.offset[0], a.offset[1])
                        out.append(_Atom(a.start, b.end, "date", day=day, bare_ok=True))
                    else:
                        k = a.offset[0] if a.offset else 0  # "the week before christmas"
                        out.append(_Atom(a.start, b.end, "period", period=_week(b.day, k)))
                except (ValueError, OverflowError):
                    pass
                i += 2
                continue
            i += 1
            continue
        out.append(a)
        i += 1
    return out


def _add_bare_hours(c: _Ctx, atoms: list[_Atom]) -> list[_Atom]:
    """ "tomorrow 10", "friday 3": a bare number right after a day word is an hour (if no noun follows)."""
    out: list[_Atom] = []
    for i, a in enumerate(atoms):
        out.append(a)
        if not (a.role == "date" and a.bare_ok):
            continue
        m = _BARE_HOUR.match(c.lower, a.end)
        if not m or (i + 1 < len(atoms) and atoms[i + 1].start < m.end()) or not _follow_ok(c, m.end()):
            continue
        if m["h"]:
            h, mi, start = int(m["h"]), int(m["m"] or 0), m.start("h")
            explicit = m["h"].startswith("0") or h > 12
        else:
            h, mi, start = int(_cardinal(m["hw"])), _minute_words(m["mw"]), m.start("hw")
            explicit = False
        if (not explicit and not 1 <= h <= 12) or h > 23 or mi > 59:
            continue
        hour = h if explicit else _bare_hour(h)
        out.append(_Atom(start, m.end(), "clock", hour=hour, minute=mi, explicit=explicit))
    return out


def _merge_weekday_dates(c: _Ctx, atoms: list[_Atom]) -> list[_Atom]:
    """ "tuesday, december 1st", "friday the 27th": the absolute date wins over the bare weekday."""
    out: list[_Atom] = []
    for a in atoms:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.weekday
            and a.role == "date"
            and a.absolute
            and not a.weak
            and _gap(c, prev, a, _GAP_WEEKDAY_DATE)
        ):
            out[-1] = _Atom(prev.start, a.end, "date", day=a.day, bare_ok=True)
            continue
        out.append(a)
    return out


def _span_dates(a: _Atom) -> Period | None:
    """The first and last day an atom covers, for ranges."""
    if a.role == "date" and a.day:
        return a.day, a.day
    if a.role == "period" and a.period:
        return a.period
    return None


def _merge_ranges(c: _Ctx, atoms: list[_Atom]) -> list[_Atom]:
    """ "between dec 1 and dec 5", "dec 1 - dec 5", "monday through friday", "from may until june"."""
    out: list[_Atom] = []
    for b in atoms:
        a = out[-1] if out else None
        sa, sb = (_span_dates(a) if a else None), _span_dates(b)
        m = _GAP_RANGE.fullmatch(c.lower, a.end, b.start) if a and sa and sb else None
        if a is None or sa is None or sb is None or m is None:
            out.append(b)
            continue
        opener = _RANGE_OPEN.search(c.lower, max(0, a.start - 10), a.start)
        word = opener["w"] if opener else ""
        conn = m["c"]
        if (conn == "and" and word != "between") or (conn in ("until", "till", "til") and word != "from"):
            out.append(b)
            continue
        start, end = sa[0], sb[1]
        if end < start and b.weekday and end.year < 9999:
            end += timedelta(days=7)
        if end < start or (a.weak and b.weak and not word):
            out.append(b)
            continue
        out[-1] = _Atom(opener.start() if opener else a.start, b.end, "period", period=(start, end))
    return out


def _resolve_group(c: _Ctx, group: list[_Atom], inherited: date | None = None) -> _Atom | None:
    """A day, a clock and a part of day that belong together become one date or date-time.

    `inherited` is the day of the time range's first half: "tomorrow 2-4pm" puts 4pm tomorrow too.
    """
    day_atom = next((a for a in group if a.role == "date"), None)
    clock = next((a for a in group if a.role == "clock"), None)
    part_atom = next((a for a in group if a.role == "part"), None)
    part = part_atom.part if part_atom else (day_atom.part if day_atom else None)
    start, end = group[0].start, group[-1].end
    if clock is not None:
        h = clock.hour
        if not clock.explicit:
            raw = h - 12 if 13 <= h <= 19 else h  # undo the bare-hour guess; the part of day decides
            if part in ("afternoon", "evening", "night") and 1 <= raw <= 11:
                h = raw + 12
            elif part == "morning":
                h = raw
        minute = clock.minute
    elif part in _PART_HOURS:
        h, minute = _PART_HOURS[part or ""], 0
    else:
        if day_atom is None:
            return None  # "at night" alone
        return _Atom(start, end, "date", day=day_atom.day)
    if day_atom is not None and day_atom.day is not None:
        return _Atom(start, end, "dt", dt=_normalise_wall(c, _at(day_atom.day, h, minute)))
    if inherited is not None:
        return _Atom(start, end, "dt", dt=_normalise_wall(c, _at(inherited, h, minute)))
    dt = _at(c.today, h, minute)
    today_only = clock is not None and clock.today  # "eod" is today's end of the day, even after 17:00
    if not today_only and c.future and dt < c.now_min:
        dt += timedelta(days=1)
    elif not today_only and not c.future and dt > c.now_min:
        dt -= timedelta(days=1)
    return _Atom(start, end, "dt", dt=_normalise_wall(c, dt))


def _group(c: _Ctx, atoms: list[_Atom]) -> list[_Atom]:
    """Join neighbouring day, clock and part atoms ("tomorrow at 10", "at 10 tomorrow", "friday 3pm")."""
    out: list[_Atom] = []
    group: list[_Atom] = []
    inherited: date | None = None

    def flush() -> None:
        if not group:
            return
        only = group[0]
        if len(group) == 1 and only.role == "date" and only.part not in _PART_HOURS:
            out.append(only)
        elif len(group) == 1 and only.role == "part" and not only.prefixed and not _follow_ok(c, only.end):
            pass  # "morning standup": an adjective, not a time
        else:
            weak = [a for a in group if a.weak]
            try:
                resolved = _resolve_group(c, group, inherited)
            except OverflowError:  # "tomorrow at 3" said on 9999-12-31
                resolved = None
            if resolved is not None:
                out.append(resolved)
            elif weak:
                out.extend(weak)
        group.clear()

    for a in atoms:
        if a.role not in ("date", "clock", "part"):
            flush()
            out.append(a)
            continue
        if group and _joinable(c, group, a):
            group.append(a)
            continue
        carry = None
        if group and a.role == "clock" and _gap(c, group[-1], a, _GAP_TIME_RANGE):
            carry = next((g.day for g in group if g.role == "date"), None)
        flush()
        inherited = carry
        group.append(a)
    flush()
    return out


def _joinable(c: _Ctx, group: list[_Atom], a: _Atom) -> bool:
    """Whether a joins the day/clock/part group before it; a weak day only joins a tight, bare time."""
    last = group[-1]
    roles = {g.role for g in group}
    if a.role in roles:
        return False
    if (a.role == "part" and any(g.part for g in group)) or (a.role == "date" and a.part and "part" in roles):
        return False  # "this morning" already has its part
    weak = next((g for g in [*group, a] if g.weak), None)
    if weak is not None:
        other = a if weak is not a else last
        return not other.prefixed and _gap(c, last, a, _GAP_TIGHT)
    if _gap(c, last, a, _GAP_GROUP):
        return True
    # "mon. at 10", "fri. 3pm": the dot of an abbreviated day is no full stop
    return (
        c.lower.startswith(".", last.end)
        and c.lower[last.start : last.end] in _ABBREVIATED_DAYS
        and _GAP_GROUP.fullmatch(c.lower, last.end + 1, a.start) is not None
    )
