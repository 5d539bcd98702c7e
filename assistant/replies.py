"""Reply texts (replies.json) and how money and dates read to people."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from storage.pipeline import default_pipeline

SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


@cache
def _texts() -> dict[str, str]:
    return json.loads(resources.files("assistant").joinpath("replies.json").read_text("utf-8"))


def say(key: str, **values: Any) -> str:
    return _texts()[key].format(**values)


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


def percent(value: float) -> str:
    return f"{value * 100:.0f}%"
