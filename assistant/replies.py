"""Reply texts (replies.json) and how money and dates read to people.

replies.json holds every text the assistant says, in groups ("deals", "tasks", ...) that only keep the
file readable: a key is unique across all groups and `say` is given the key alone. An entry is either a
text with {placeholders}, or the plural forms of one (Home Assistant intents' `responses/` style):

    "deals_header": {"one": "{count} deal worth {amount}{showing}:",
                     "other": "{count} deals worth {amount}{showing}:"}

`say("deals_header", count=n, amount=..., showing=...)` picks the form by `count` (English rules: "one"
for 1, "other" for everything else) and fills it; an optional "zero" form, when present, is said for 0.
Money, dates and percentages are formatted here in code (`money`, `day`...), not in the texts.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import NotRequired, TypedDict

from storage.pipeline import default_pipeline

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
PLURAL_FORMS = ("zero", "one", "other")  # "one" and "other" are required, "zero" is optional


class Plural(TypedDict):
    """The forms of a text that depends on a count: {"one": "{count} deal", "other": "{count} deals"}."""

    one: str
    other: str
    zero: NotRequired[str]


Text = str | Plural


def _plural(key: str, forms: dict[str, object]) -> Plural:
    strings = {form: text for form, text in forms.items() if isinstance(text, str)}
    if len(strings) != len(forms) or not {"one", "other"} <= set(forms) <= set(PLURAL_FORMS):
        raise ValueError(f"replies.json: {key!r} must map 'one', 'other' (and maybe 'zero') to texts")
    plural = Plural(one=strings["one"], other=strings["other"])
    if "zero" in strings:
        plural["zero"] = strings["zero"]
    return plural


def entries(data: object) -> dict[str, Text]:
    """The entries of a replies file by key: its groups flattened, each entry checked.

    Top-level keys starting with "_" are comments; every other top-level value is a group, an object of
    key -> text or plural forms.
    """
    if not isinstance(data, dict):
        raise ValueError("replies.json: expected an object of groups")
    out: dict[str, Text] = {}
    for group, members in data.items():
        if str(group).startswith("_"):
            continue
        if not isinstance(members, dict):
            raise ValueError(f"replies.json: group {group!r} must be an object of texts")
        for key, value in members.items():
            if key in out:
                raise ValueError(f"replies.json: {key!r} appears twice (again in group {group!r})")
            if isinstance(value, str):
                out[key] = value
            elif isinstance(value, dict):
                out[key] = _plural(key, value)
            else:
                raise ValueError(f"replies.json: {key!r} must be a text or plural forms")
    return out


@cache
def texts() -> dict[str, Text]:
    """Every entry of assistant/replies.json by key."""
    source = resources.files("assistant").joinpath("replies.json").read_text("utf-8")
    return entries(json.loads(source))


def plural_form(forms: Plural, count: int) -> str:
    """The form said for `count`: "zero" (if there is one) for 0, "one" for 1, else "other"."""
    if count == 0 and "zero" in forms:
        return forms["zero"]
    return forms["one"] if count == 1 else forms["other"]


def say(key: str, /, **values: object) -> str:
    """The text under `key` with its {placeholders} filled from `values`; a plural entry is said in the
    form its `count` value asks for (so `count` is then required, and an int)."""
    text = texts()[key]
    if not isinstance(text, str):
        count = values.get("count")
        if not isinstance(count, int):
            raise TypeError(f"the reply {key!r} has plural forms: say it with count=<int>")
        text = plural_form(text, count)
    return text.format(**values)


def money(amount: Decimal | float | int | None, currency: str | None = None) -> str:
    if amount is None:
        return "no amount"
    symbol = SYMBOLS.get(currency or default_pipeline().currency, "")
    value = Decimal(amount)
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def short_money(amount: Decimal | float | int | None) -> str:
    """'$1.2M', '$75k': for speech and tight tables."""
    if amount is None:
        return "-"
    value = float(amount)
    symbol = SYMBOLS.get(default_pipeline().currency, "")
    if value >= 1_000_000:
        return f"{symbol}{value / 1_000_000:.1f}M".replace(".0M", "M")
    if value >= 10_000:
        return f"{symbol}{value / 1000:.0f}k"
    return money(amount)


def day(value: date | datetime | None, today: date) -> str:
    """'today', 'tomorrow', 'Tue 1 Dec', 'Wed 31 Mar 2027'."""
    if value is None:
        return "no date"
    d = value.date() if isinstance(value, datetime) else value
    delta = (d - today).days
    names = {0: "today", 1: "tomorrow", -1: "yesterday"}
    if delta in names:
        text = names[delta]
    else:
        text = f"{d:%a} {d.day} {d:%b}" + (f" {d.year}" if d.year != today.year else "")
    if isinstance(value, datetime) and (value.hour, value.minute) != (0, 0):
        text += f" {value:%H:%M}"
    return text


def long_day(value: date) -> str:
    """'Monday 23 November': a digest's date."""
    return f"{value:%A} {value.day} {value:%B}"


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"
