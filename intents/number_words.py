"""The one table of English number words (data/number_words.json), loaded once at import.

numbers.py reads amounts and ticket numbers with it, timeparse dates and clock times, the dialogue the
"second one" of a numbered choice: one list, so that a spelling added for one ("fourty") serves them all.
Each table maps a lowercase word to its value; the groups follow how the words combine.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from intents.datafiles import read_json

__all__ = [
    "CARDINALS",
    "ORDINALS",
    "ORDINAL_SCALES",
    "ORDINAL_TEENS",
    "ORDINAL_TENS",
    "ORDINAL_UNITS",
    "SCALES",
    "SCALE_SHORTHAND",
    "TEENS",
    "TENS",
    "UNITS",
]


def _load() -> dict[str, Mapping[str, int]]:
    raw = read_json("number_words.json")
    return {key: MappingProxyType(table) for key, table in raw.items() if not key.startswith("_")}


_TABLES = _load()
UNITS: Mapping[str, int] = _TABLES["units"]  # zero .. nine
TEENS: Mapping[str, int] = _TABLES["teens"]  # ten .. nineteen
TENS: Mapping[str, int] = _TABLES["tens"]  # twenty .. ninety
SCALES: Mapping[str, int] = _TABLES["scales"]  # hundred, thousand .. trillion
SCALE_SHORTHAND: Mapping[str, int] = _TABLES["scale_shorthand"]  # k, grand, mil, mln, mm, bn
ORDINAL_UNITS: Mapping[str, int] = _TABLES["ordinal_units"]  # zeroth .. ninth
ORDINAL_TEENS: Mapping[str, int] = _TABLES["ordinal_teens"]  # tenth .. nineteenth
ORDINAL_TENS: Mapping[str, int] = _TABLES["ordinal_tens"]  # twentieth .. ninetieth
ORDINAL_SCALES: Mapping[str, int] = _TABLES["ordinal_scales"]  # hundredth .. trillionth
# Every cardinal and every ordinal word with its value ("seven" -> 7, "second" -> 2, "thousandth" -> 1000).
CARDINALS: Mapping[str, int] = MappingProxyType({**UNITS, **TEENS, **TENS, **SCALES})
ORDINALS: Mapping[str, int] = MappingProxyType(
    {**ORDINAL_UNITS, **ORDINAL_TEENS, **ORDINAL_TENS, **ORDINAL_SCALES}
)
