"""Numbers, money amounts and ordinals in what a user typed or said.

Slots such as `amount`, `min_amount`, `ticket` and `limit` need the numbers of a sentence however they were
written: digits ("1,250.50"), shorthand ("50k", "$1.2M"), words from voice input ("one point five million",
"ten fifty") or ordinals ("21st", "twenty first"). One regular expression cuts the text into tokens in a
single pass (it also swallows what only looks like a number: phone numbers, e-mail addresses, dates, clock
times, identifiers such as "q4" or "b2b"), then a small state machine reads the number words.

Decisions the brief left open:
- A mention spans its currency marker too: "$50,000", "50,000 USD", "fifty thousand dollars".
- `kind` is lexical: a magnitude word makes money ("a thousand", "two million users"), so does a currency
  marker. "hundred" and "dozen" do not ("a hundred" and "a dozen" are numbers).
- Voice pairs: two adjacent two-digit groups read as one number, the way people say years and ticket numbers:
  "ten fifty" -> 1050, "nineteen eighty four" -> 1984, "twenty oh five" -> 2005. Not when a single digit comes
  first ("five fifty" -> 5 and 50), nor when a magnitude follows ("ten fifty thousand" -> 10 and 50000).
- Three or more single digit words in a row are a digit string ("one zero four two" -> 1042); seven or more
  are a spelled phone number and are skipped.
- Phone numbers: "+" followed by 7+ digits, (555) 010-0100 / 555-010-0100 shapes, 555 0100 (3+4 digits,
  also "100-2000"), 0-prefixed trunk numbers and bare runs of 10-15 digits.
- Dates skipped: 2026-12-05, 2026/12/05, 12/05, 12/05/2026, 05-12-2026, 05.12.2026; times skipped: 11:30,
  3pm, 3 pm, 3 p.m., "three pm". Other times ("at 3") are numbers.
- "50-75k" is a range: both ends take the magnitude (50000, 75000).
- "b" (billion) is accepted only with a currency marker ("$2B"); alone "2b" is an identifier.
- "k", "mil", "mm", "bn", "grand" also work as separate words after a number ("50 k", "fifty k").
- Signs are not part of a mention: "-5" is 5; "5%" is 5.
- "second" after "a", "one", "per", "split" or "every" is a unit of time, not an ordinal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Literal

from intents import number_words

__all__ = ["Kind", "NumberMention", "find_numbers", "money_value", "words_to_number"]

Kind = Literal["money", "number", "ordinal"]


@dataclass(frozen=True)
class NumberMention:
    """One number as found in a text; offsets let callers cut it out of the sentence."""

    start: int  # char offsets into the text given
    end: int
    value: Decimal
    kind: Kind
    text: str


# An explicit context, so that whatever the caller did to the thread's decimal context (traps, precision),
# parsing neither raises nor changes its results.
_CTX = Context(prec=60, traps=[])
_mul = _CTX.multiply
_add = _CTX.add
_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_TWELVE = Decimal(12)
_HALF = Decimal("0.5")
_QUARTER = Decimal("0.25")
_THOUSAND = Decimal(1000)
_MILLION = Decimal(10**6)
_BILLION = Decimal(10**9)

_ws = "[ \t\u00a0]"  # a space inside one phrase (never a newline)
_TOKEN_RE = re.compile(
    rf"""
    (?P<skip>
        [\w.+\-]{{1,64}}@[\w\-]+(?:\.[\w\-]+)+
      | (?:https?://|www\.)[^\s<>"']+
      | [0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}(?:[T ][0-9]{{1,2}}:[0-9]{{2}}(?::[0-9]{{2}})?)?(?![0-9])
      | [0-9]{{4}}/[0-9]{{1,2}}/[0-9]{{1,2}}(?![0-9])
      | [0-9]{{1,2}}(?:/[0-9]{{1,2}}/|-[0-9]{{1,2}}-|\.[0-9]{{1,2}}\.)[0-9]{{2,4}}(?![0-9])
      | [0-9]{{1,2}}/[0-9]{{1,2}}(?![0-9/])
      | [0-9]+(?:\.[0-9]+){{2,}}
      | [0-9]{{1,2}}:[0-9]{{2}}(?::[0-9]{{2}})?(?:{_ws}?(?:[ap]\.m\.?|[ap]m)(?!\w))?
      | [0-9]{{1,2}}(?:[.:][0-9]{{2}})?{_ws}?(?:[ap]\.m\.?|[ap]m)(?!\w)
      | \+(?=(?:[ .\-()]{{0,3}}[0-9]){{7}})\(?[0-9]+\)?(?:[ .\-]{{1,2}}\(?[0-9]+\)?)*
      | (?<![$€£])(?<![$€£]{_ws})
        (?:
            (?:1[ .\-])?\(?[0-9]{{3}}\)?[ .\-]?[0-9]{{3}}[ .\-][0-9]{{4}}
          | 0[0-9]{{2,4}}[ .\-][0-9]{{3,4}}[ .\-][0-9]{{3,4}}
          | \([0-9]{{2,5}}\)[ .\-]?[0-9]{{3,4}}(?:[ .\-]?[0-9]{{3,4}})?
          | [0-9]{{3}}[ .\-][0-9]{{4}}
          | [0-9]{{10,15}}
        )(?![0-9]|[.,][0-9])
    )
  | (?P<num>
        (?P<pre>usd|eur|gbp)?
        (?P<digits>[0-9]{{1,3}}(?:,[0-9]{{3}})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?|(?<![.\w])\.[0-9]+)
        (?P<suf>mm|mil|mln|bn|k|m|b|st|nd|rd|th)?
        (?!\w)(?!\.[0-9])(?!,[0-9]{{3}}(?![0-9]))
    )
  | (?P<ident>
        (?!(?:top|bottom)-)[^\W\d_]+-[0-9]\w*(?:[.\-]\w+)*
      | (?=\w*[0-9])(?=\w*[^\W\d_])\w+(?:[.\-]\w+)*
    )
  | (?P<word>[^\W\d_]+(?:['’][^\W\d_]+)*)
  | (?P<other>\w+)
  | (?P<punct>[^\w\s])
    """,
    re.IGNORECASE | re.VERBOSE,
)
# After number words: "ten am", "three p.m." (but "which one am I" is not a time).
_AMPM_AFTER_RE = re.compile(rf"{_ws}*(?:[ap]\.m\.?|pm|am(?!\w)(?!{_ws}+i\b))(?!\w)", re.IGNORECASE)

# Token kinds.
_W, _N, _P, _X = range(4)

# Word categories.
(_U, _T, _D, _H, _S, _OU, _OT, _OD, _OH, _OS, _A, _AND, _FRAC, _QUARTERS, _POINT, _DOZEN, _MAG, _OHZ, _OF) = (
    range(19)
)

# Parser states (word categories double as states where they mean the same).
_START, _TU, _DIG, _FRACTION, _FRACP, _FRACA = range(100, 106)
_COMPLETE = frozenset({_U, _T, _D, _TU, _H, _S, _DIG, _FRACTION, _DOZEN})


def _build_words() -> dict[str, tuple[int, Decimal]]:
    """The number vocabulary: word -> (category, value). The number words are data/number_words.json;
    the words of the grammar around them ("a", "and", "half", "point", "dozen", "oh", "of") are here."""
    words: dict[str, tuple[int, Decimal]] = {}
    tables = (
        (number_words.UNITS, _U),
        (number_words.TEENS, _T),
        (number_words.TENS, _D),
        (number_words.SCALE_SHORTHAND, _MAG),
        (number_words.ORDINAL_UNITS, _OU),
        (number_words.ORDINAL_TEENS, _OT),
        (number_words.ORDINAL_TENS, _OD),
    )
    for table, category in tables:
        words.update((word, (category, Decimal(value))) for word, value in table.items())
    # "hundred" multiplies the group below it; thousand and up close a group
    for word, value in number_words.SCALES.items():
        words[word] = (_H if value == 100 else _S, Decimal(value))
    for word, value in number_words.ORDINAL_SCALES.items():
        words[word] = (_OH if value == 100 else _OS, Decimal(value))
    words["a"] = (_A, _ONE)
    words["and"] = (_AND, _ZERO)
    words["half"] = (_FRAC, _HALF)
    words["quarter"] = (_FRAC, _QUARTER)
    words["quarters"] = (_QUARTERS, _QUARTER)
    words["point"] = (_POINT, _ZERO)
    words["dozen"] = (_DOZEN, _TWELVE)
    words["oh"] = (_OHZ, _ZERO)
    words["of"] = (_OF, _ZERO)
    return words


_WORDS = _build_words()
# Words that can begin a number ("a", "half" and "quarter" only succeed when a magnitude follows).
_START_WORDS = frozenset(
    w for w, (cat, _) in _WORDS.items() if cat in (_U, _T, _D, _OU, _OT, _OD, _OH, _OS, _A, _FRAC)
)
_SUFFIX_MULT = {
    "k": _THOUSAND,
    "m": _MILLION,
    "mm": _MILLION,
    "mil": _MILLION,
    "mln": _MILLION,
    "bn": _BILLION,
    "b": _BILLION,
}
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
_SYMBOLS = frozenset("$€£")
_PREFIX_CODES = frozenset({"usd", "eur", "gbp"})
_SUFFIX_CURRENCIES = frozenset(
    {"usd", "eur", "gbp", "dollar", "dollars", "buck", "bucks", "euro", "euros", "pound", "pounds"}
)
_HYPHENS = frozenset("-‐‑–")
_NOT_ORDINAL_BEFORE_SECOND = frozenset({"a", "one", "per", "split", "every"})

# kind, start, end, lower-cased text; for numerals also the value, the suffix and whether a currency code led.
_Token = tuple[int, int, int, str, Decimal, str, bool]
_Parse = tuple[Decimal, int, str]  # value, index after the last token, kind or "skip" / "needcur"


def _tokenize(text: str) -> list[_Token]:
    """Cut the text into words, numerals, punctuation and opaque chunks (barriers) in one regex pass."""
    tokens: list[_Token] = []
    append = tokens.append
    for match in _TOKEN_RE.finditer(text):
        group = match.lastgroup
        if group == "word":
            append((_W, match.start(), match.end(), match.group().lower(), _ZERO, "", False))
        elif group == "num":
            digits = match.group("digits").replace(",", "")
            suffix = (match.group("suf") or "").lower()
            has_code = match.group("pre") is not None
            append((_N, match.start(), match.end(), "", Decimal(digits), suffix, has_code))
        elif group == "punct":
            append((_P, match.start(), match.end(), match.group(), _ZERO, "", False))
        else:
            append((_X, match.start(), match.end(), "", _ZERO, "", False))
    return tokens


def _word_info(token: _Token) -> tuple[int, Decimal] | None:
    return _WORDS.get(token[3]) if token[0] == _W else None


def _digit_string(tokens: list[_Token], first: Decimal, k: int, n: int) -> _Parse | None:
    """Three or more digit words in a row ("one zero four two"), read digit by digit as voice input spells."""
    digits = [str(first)]
    while k < n:
        info = _word_info(tokens[k])
        if info is None or info[0] not in (_U, _OHZ):
            break
        digits.append(str(info[1]))
        k += 1
    if len(digits) < 3:
        return None
    return Decimal("".join(digits)), k, "skip" if len(digits) >= 7 else "number"


def _voice_pair(tokens: list[_Token], first: Decimal, k: int, n: int) -> _Parse | None:
    """Two two-digit groups in a row ("ten fifty" -> 1050), the way years and ticket numbers are said."""
    cat, value = _WORDS[tokens[k][3]]
    end = k + 1
    if cat == _OHZ:  # "twenty oh five"
        info = _word_info(tokens[end]) if end < n else None
        if info is None or info[0] != _U or not info[1]:
            return None
        value, end = info[1], end + 1
    elif cat == _D and end < n:
        info = _word_info(tokens[end])
        if info is not None and info[0] == _U and info[1]:
            value, end = _add(value, info[1]), end + 1
    if end < n:
        after = tokens[end]
        info = _word_info(after)
        if after[0] == _N or (info is not None and info[0] in (_H, _S, _MAG, _DOZEN, _POINT, _OH, _OS)):
            return None  # "ten fifty thousand" is 10 and 50000
    return _add(_mul(first, _HUNDRED), value), end, "number"


def _parse(tokens: list[_Token], i: int, n: int) -> _Parse | None:
    """The longest number starting at token i: a numeral with its magnitude words, or number words."""
    token = tokens[i]
    total = _ZERO  # completed thousands, millions, ...
    cur = _ZERO  # the group below the last magnitude
    big: Decimal | None = None  # the last magnitude used; the next one must be smaller
    hund = dec = money = False
    simple = True  # still a bare one- or two-digit word group (pairs and digit strings start from it)
    best: tuple[Decimal, int, bool] | None = None
    if token[0] == _N:
        value, suffix = token[4], token[5]
        if suffix in _ORDINAL_SUFFIXES:
            return value, i + 1, "ordinal"
        if suffix:
            return _mul(value, _SUFFIX_MULT[suffix]), i + 1, "needcur" if suffix == "b" else "money"
        cur, state, simple = value, _DIG, False
        best = (cur, i + 1, False)
        j = i + 1
    else:
        state, j = _START, i
    while j < n:
        k = j
        t = tokens[k]
        if t[0] == _P:  # "seventy-five": a hyphen between two words, no spaces
            if t[3] not in _HYPHENS or k + 1 >= n or tokens[k - 1][0] != _W or k == i:
                break
            nxt = tokens[k + 1]
            if nxt[0] != _W or nxt[1] != t[2] or tokens[k - 1][2] != t[1]:
                break
            k += 1
            t = nxt
        info = _word_info(t)
        if info is None:
            break
        cat, v = info
        if cat in (_U, _T, _D):
            if state in (_START, _H, _S, _AND):
                cur = _add(cur, v)
                state = cat
            elif state == _D and cat == _U and v:
                cur = _add(cur, v)
                state = _TU
            elif simple and k == j and state == _U and cat == _U:
                return _digit_string(tokens, cur, k, n) or _finish(best)
            elif simple and k == j and state in (_T, _D, _TU):
                return _voice_pair(tokens, cur, k, n) or _finish(best)
            else:
                break
        elif cat == _OHZ:
            if simple and k == j and state == _U:
                return _digit_string(tokens, cur, k, n) or _finish(best)
            if simple and k == j and state in (_T, _D, _TU):
                return _voice_pair(tokens, cur, k, n) or _finish(best)
            break
        elif cat == _H:
            if state == _A:
                cur = _HUNDRED
            elif state in (_U, _T, _D, _TU, _DIG, _FRACTION) and not hund and _ZERO < cur < _HUNDRED:
                cur = _mul(cur, _HUNDRED)
            else:
                break
            hund, state, simple = True, _H, False
        elif cat == _S:
            if cur <= 0 or (big is not None and v >= big):
                break
            if state not in (_A, _U, _T, _D, _TU, _H, _DIG, _FRACTION, _FRACP, _FRACA):
                break
            total = _add(total, _mul(cur, v))
            cur, big, hund, dec, money, simple, state = _ZERO, v, False, False, True, False, _S
        elif cat == _AND:
            frac = _and_a_fraction(tokens, k, n)
            if frac is not None:
                if state in (_U, _T, _D, _TU, _H, _DIG) and not dec:  # "two and a half"
                    cur = _add(cur, frac)
                    dec, simple, state = True, False, _FRACTION
                    j = k + 3
                    best = (_add(total, cur), j, money)
                    continue
                if state == _S and big is not None:  # "a million and a half"
                    return _add(total, _mul(big, frac)), k + 3, "money"
                break
            if state not in (_H, _S):
                break
            state = _AND
        elif cat == _A:
            if state == _START:
                cur, state, simple = _ONE, _A, False
            elif state == _FRACP:
                state = _FRACA
            else:
                break
        elif cat == _FRAC:
            if state not in (_START, _A):
                break
            cur, simple = v, False
            state = _FRACP if state == _START else _FRACA
        elif cat == _QUARTERS:  # "three quarters of a million"
            if state != _U or not simple or not cur:
                break
            cur, state, simple = _mul(cur, v), _FRACP, False
        elif cat == _OF:
            if state not in (_FRACP, _FRACA):
                break
            state = _FRACP
        elif cat == _DOZEN:
            if state not in (_A, _U, _T, _D, _TU, _DIG, _FRACP, _FRACA) or hund or big is not None:
                break
            cur, state, simple = _mul(cur, v), _DOZEN, False
        elif cat == _POINT:  # "one point five": the digits after the point are said one by one
            if state not in (_U, _T, _D, _TU, _H) or dec:
                break
            digits = []
            m = k + 1
            while m < n:
                after = _word_info(tokens[m])
                if after is None or after[0] not in (_U, _OHZ):
                    break
                digits.append(str(after[1]))
                m += 1
            if not digits:
                break
            cur = _add(cur, Decimal("0." + "".join(digits)))
            dec, simple, state = True, False, _FRACTION
            j = m
            best = (_add(total, cur), j, money)
            continue
        elif cat == _MAG:  # "75 grand", "fifty k"
            if state not in (_U, _T, _D, _TU, _H, _DIG, _FRACTION) or big is not None or cur <= 0:
                break
            return _mul(cur, v), k + 1, "money"
        elif cat == _OU:
            if state in (_START, _H, _S, _AND, _D):
                return _add(total, _add(cur, v)), k + 1, "ordinal"
            break
        elif cat in (_OT, _OD):
            if state in (_START, _H, _S, _AND):
                return _add(total, _add(cur, v)), k + 1, "ordinal"
            break
        elif cat == _OH:  # "hundredth", "one hundredth"
            if state == _START:
                return _HUNDRED, k + 1, "ordinal"
            if state in (_A, _U, _T, _D, _TU) and not hund and _ZERO < cur < _HUNDRED:
                return _add(total, _mul(cur, _HUNDRED)), k + 1, "ordinal"
            break
        elif cat == _OS:  # "thousandth", "two millionth"
            if state == _START:
                return v, k + 1, "ordinal"
            if state in (_A, _U, _T, _D, _TU, _H) and cur > 0 and (big is None or v < big):
                return _add(total, _mul(cur, v)), k + 1, "ordinal"
            break
        else:
            break
        j = k + 1
        if state in _COMPLETE:
            best = (_add(total, cur), j, money)
    return _finish(best)


def _finish(best: tuple[Decimal, int, bool] | None) -> _Parse | None:
    if best is None:
        return None
    return best[0], best[1], "money" if best[2] else "number"


def _and_a_fraction(tokens: list[_Token], k: int, n: int) -> Decimal | None:
    """The fraction of "and a half" / "and a quarter" starting at token k, else None."""
    if k + 2 >= n or tokens[k + 1][3] != "a" or tokens[k + 1][0] != _W:
        return None
    info = _word_info(tokens[k + 2])
    return info[1] if info is not None and info[0] == _FRAC else None


def _clean(value: Decimal) -> Decimal:
    """Whole values without a trailing ".0" and others without trailing zeros, so results compare and print
    the same way however they were written."""
    whole = value.to_integral_value(context=_CTX)
    return whole if whole == value else value.normalize(_CTX)


def find_numbers(text: str) -> list[NumberMention]:
    """Every number in the text, non-overlapping, sorted by start."""
    if not isinstance(text, str) or not text:
        return []
    tokens = _tokenize(text)
    n = len(tokens)
    mentions: list[NumberMention] = []
    i = 0
    floor = 0  # tokens before this index belong to an earlier mention
    while i < n:
        token = tokens[i]
        if token[0] == _N:
            result = _parse(tokens, i, n)
        elif token[0] == _W and token[3] in _START_WORDS:
            if (
                token[3] == "second"
                and i > 0
                and tokens[i - 1][0] == _W
                and tokens[i - 1][3] in _NOT_ORDINAL_BEFORE_SECOND
            ):
                i += 1
                continue
            result = _parse(tokens, i, n)
        else:
            i += 1
            continue
        if result is None:
            i += 1
            continue
        value, j, kind = result
        if kind == "skip":
            i = floor = j
            continue
        first = i
        if kind != "ordinal":
            has_currency = token[6]
            if i > floor:
                before = tokens[i - 1]
                if (before[0] == _P and before[3] in _SYMBOLS) or (
                    before[0] == _W and before[3] in _PREFIX_CODES
                ):
                    first, has_currency = i - 1, True
            if kind == "number" and j == i + 1 and token[0] == _N and j + 1 < n:
                value, j, kind = _range_start(tokens, j, value, kind)
            if kind == "number" and not has_currency and _AMPM_AFTER_RE.match(text, tokens[j - 1][2]):
                i = floor = j  # "three pm", "10 am": a clock time
                continue
            if j < n:
                after = tokens[j]
                if (after[0] == _W and after[3] in _SUFFIX_CURRENCIES) or (
                    after[0] == _P
                    and after[3] in _SYMBOLS
                    and not (j + 1 < n and tokens[j + 1][0] == _N and tokens[j + 1][1] == after[2])
                ):
                    j, has_currency = j + 1, True
            if kind == "needcur" and not has_currency:
                i = floor = j  # "2b" alone is an identifier, not two billion
                continue
            if has_currency or kind == "needcur":
                kind = "money"
        start, end = tokens[first][1], tokens[j - 1][2]
        mentions.append(NumberMention(start, end, _clean(value), kind, text[start:end]))  # type: ignore[arg-type]
        i = floor = j
    return mentions


def _range_start(tokens: list[_Token], j: int, value: Decimal, kind: str) -> tuple[Decimal, int, str]:
    """In "50-75k" the first end of the range takes the magnitude of the second."""
    dash, other = tokens[j], tokens[j + 1]
    if dash[0] != _P or dash[3] not in _HYPHENS or dash[1] != tokens[j - 1][2]:
        return value, j, kind
    if other[0] != _N or other[1] != dash[2]:
        return value, j, kind
    other_value, suffix = other[4], other[5]
    if suffix not in _SUFFIX_MULT or suffix == "b" or not value < other_value:
        return value, j, kind
    return _mul(value, _SUFFIX_MULT[suffix]), j, "money"


def words_to_number(text: object) -> Decimal | None:
    """'one point five million' -> 1500000; 'seventy five' -> 75; None if the text is not a number.

    Digits and shorthand are accepted too ("50k"), so that a caller holding a slot's words need not care
    how they were written; the whole text (minus trailing sentence punctuation) must be one number.
    Anything that is not a string (a slot value may be None or a number) is not a number's words: None.
    """
    if not isinstance(text, str):
        return None
    stripped = text.strip().rstrip(".!?,;:").rstrip()
    mentions = find_numbers(stripped)
    if len(mentions) == 1 and mentions[0].start == 0 and mentions[0].end == len(stripped):
        return mentions[0].value
    return None


def money_value(mention: NumberMention) -> int | float:
    """The mention's value as a plain JSON number (int when whole, else float), as slots carry money."""
    value = mention.value
    if value == value.to_integral_value(context=_CTX):
        return int(value)
    return float(value)
