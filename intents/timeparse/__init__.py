"""Find the dates, date-times and periods in an utterance and resolve them against a reference time.

The contract is "Time semantics" in shared/spec/intents.md and the "Dates" section of tests/nlu/README.md.
Rules are precompiled regular expressions over an ASCII-lowercased copy of the text (same length, so the
offsets stay valid); `dateparser` is only a fallback for absolute date phrases the rules do not resolve.

Pipeline: 1. every pattern proposes "atoms" (a date, a period, a clock time, a part of day, an offset ...);
2. the longest non-overlapping atoms win; 3. neighbouring atoms merge ("a week from" + "friday",
"friday" + "at 3pm", "between dec 1" + "and dec 5"); 4. weak atoms ("may", "sat", "march" alone) that found
no support are dropped; 5. the survivors become `TimeMention`s.

Modules: `vocabulary` (words and regex fragments, from data/time_words.json and data/number_words.json),
`atoms` (atoms, context, the rule shape, `TimeMention`), `calendar` (calendar arithmetic, number readers),
`wallclock` (local wall time and DST), `date_rules` and `clock_rules` (the patterns and their handlers),
`merging` (selection and merging), `fallback` (dateparser), `resolution` (the entry point).

Decisions where the contract is silent (tests/nlu/time_cases.json pins each one down):
- "next N days/weeks/months" is today+1 .. today+N units; "past/last N days" and "the last two weeks" end
  today (today-N+1 .. today). "the past week", "the last week", "the past month" (with "the"/"past") are
  rolling like that; "last week"/"last month" are calendar periods. "the next week" is rolling too.
- "end of the week"/"eow" is the Friday of that week; "start of the week" its Monday, "mid-week" Wednesday.
- "early <month>" is the 1st..10th, "late <month>" the 21st..last day, "mid <month>" the 15th.
- Unmodified "end/start of the month/quarter/year/week" follows the direction when the date would be on the
  wrong side of today (future: "start of the month" said on the 23rd is the 1st of next month).
- "the 15th", "dec 5", "12/05" in future mode may be today; a weekday never is (the spec excludes today).
- A time alone is today; future mode moves it to tomorrow if it has passed, past mode to yesterday if it is
  still to come. "tonight"/"last night"/"friday night" stay dates, but make "at 8" 20:00.
- "friday after next" is the Friday of the following calendar week, exactly like "next friday" (spec).
- "next weekend" is the weekend of next calendar week (like "next friday"); "the weekend" is the coming one
  in future mode and the last one in past mode.
- "next <month>" is the first such month after the current one; "this <month>" is the one of this year.
- "q1".."q4" without a year are the current quarter or the next such one in future mode (said in November,
  "q1" is next year's: forecasts and close dates look forward) and the last such one in past mode; "end of
  q1" likewise. "next q1" / "q1 next year" / "q1 2027" are explicit. "fy27" is the calendar year 2027 (no
  fiscal year start is known here).
- "the first tuesday of october", "the last day of the month", "the second business day of q1": a month,
  quarter or year without this/next/a year is the first one on the right side of today for the direction.
  "every first monday" is recurring (no date); "the fifth monday" of a month that has four is nothing.
- Ranges: "between A and B", "A - B", "A through B", "from A until B" give one period. "from A to B" is
  left as two mentions, because "push it from dec 5 to dec 20" is a move, not a range.
- Holidays (data/holidays.json: fixed dates, nth weekdays, Easter-based) without a year are the next one,
  today included, in future mode and the last one in past mode; "next christmas" is the next one after
  today. A greeting ("merry christmas") or an adjective ("the christmas party") is no date.
- "eod"/"cob" without a day is today at 17:00 in either direction, even when said after 17:00.
- Clock times: "half three" is 15:30 (British half past, the bare-hour rule for the hour); "3ish", "about
  3pm", "around 3" are the same clock time; "15h30" is 24-hour; "at 3.30" needs its "at"/"by"...
- "sat", "sun", "mon", "wed" are days after on/by/next..., with an attached time or date, or at the end of a
  clause ("call jane sat", "mon.") unless a subject, article or auxiliary comes before ("we sat").
- Recurring days ("every monday", "mondays") are not dates. Zone names after a time ("3pm est") are ignored.
- Ambiguous words need support: "may", "march", "april", "june", "august" and month abbreviations alone need
  a preposition before them ("in may", "by march", "closing june") or a day/year; "mon", "wed", "sat", "sun"
  need "on/by/next..." or an attached time or date.
"""

from intents.timeparse.atoms import TimeMention
from intents.timeparse.resolution import find_time_mentions

__all__ = ["TimeMention", "find_time_mentions"]
